import Commands
import RESP
import Storage

/// A script past busy-reply-threshold keeps its worker's thread inside
/// lua_pcall. Redis then serves events from its count hook
/// (scriptInterrupt → processEventsWhileBlocked); this is RingKV's version:
/// from the hook, the worker polls its backend without blocking, answers
/// each complete command of its other connections with -BUSY or runs it when
/// it is allowed while busy (SCRIPT/FUNCTION KILL, SHUTDOWN NOSAVE, AUTH,
/// HELLO, MULTI, ...), and sends the replies.
///
/// What it leaves alone, so the script stays atomic and the frames under it
/// stay valid:
/// * the inbox and the transaction lane: other workers' forwarded commands
///   and transaction parts wait until the script ends. They were admitted
///   before the script went busy (every worker refuses new ones with -BUSY
///   on its own), and running them now would show its half-done writes;
/// * the shard data, cron, expiry and eviction;
/// * every connection whose input is being parsed further up the stack
///   (`Client.onStack`) and the script's caller: what they send is stashed
///   and replayed after the script; their sends and closes wait too.
final class BusyServeState {
    /// Inside a serving step (never nested: nothing it runs starts a script).
    var serving = false
    /// When the last step ran (ms).
    var lastStep: Int64 = 0
    /// The client whose script runs now (nil when none, or a forwarded one).
    var caller: Client?
    /// The running command's arguments, parked while other commands parse.
    let parked = ArgVector(capacity: 16)
    /// Clients with stashed input, a close or a resume to replay after the script.
    var deferred: [Client] = []
    /// Events the backend delivered during the current step.
    var events = 0
    /// The running FCALL as its client sent it (FUNCTION STATS).
    let command = ByteBuf(capacity: 64)
}

/// A function past busy-reply-threshold, as FUNCTION STATS shows it.
struct BusyFunction: Sendable {
    let name: String
    let command: [[UInt8]]
    let startedMs: Int64
}

/// A serving step at most this often while a script is busy (the hook runs
/// every 10,000 Lua instructions; a step costs at least one syscall).
let busyStepMillis: Int64 = 2

/// `Client.busyPending` bits.
enum BusyPending {
    static let queued: UInt8 = 1
    static let eof: UInt8 = 2
    static let failed: UInt8 = 4
}

extension Worker {
    /// Called from the count hook once the running script is busy.
    func serveWhileBusy() {
        if busy.serving { return }
        let t = wallMillis()
        if t - busy.lastStep < busyStepMillis { return }
        busy.serving = true
        let savedNow = now, savedLimits = limits, savedLent = lentDepth
        args.exchange(with: busy.parked)
        // Commands served here are a connection's own top-level commands,
        // not the script's (routing, MONITOR); drainLane and eviction check
        // `busy.serving` instead.
        lentDepth = 0
        // Up to 4 rounds while events keep coming, as processEventsWhileBlocked.
        for _ in 0..<4 {
            busy.events = 0
            backend.poll(timeoutMs: 0, sink: self)
            flushWhileBusy()
            if busy.events == 0 { break }
        }
        lentDepth = savedLent
        limits = savedLimits
        now = savedNow
        args.exchange(with: busy.parked)
        busy.lastStep = wallMillis()
        busy.serving = false
    }

    /// FUNCTION STATS' running_script: the function past busy-reply-threshold
    /// on any worker (nil when none), as Redis's functionStatsCommand.
    func writeRunningFunction(_ r: Reply) {
        guard let h = state.handles.first(where: { $0.scriptBusy.value == 2 }),
              let f = h.busyFunction.withLock({ $0 }) else { return r.null() }
        r.map(3)
        r.bulk(static: "name")
        r.bulk(string: f.name)
        r.bulk(static: "command")
        r.array(f.command.count)
        for a in f.command { r.bulk(a) }
        r.bulk(static: "duration_ms")
        r.int(Int(wallMillis() - f.startedMs))
    }

    /// Publishes the busy function for FUNCTION STATS on other workers.
    func publishBusyFunction(_ run: ScriptRun) {
        var cmd: [[UInt8]] = []
        let a = ArgVector(capacity: 8)
        if case .command = parseCommand(UnsafePointer(busy.command.base), busy.command.count, into: a, limits: trustedLimits) {
            for i in 0..<a.count { cmd.append(Array(a[i].buffer)) }
        }
        let f = BusyFunction(name: String(run.sha.dropFirst(3)), command: cmd, startedMs: run.startedMs)
        handle.busyFunction.withLock { $0 = f }
    }

    /// A connection the serving step must not read into or send from.
    @inline(__always) func isHeldByScript(_ c: Client) -> Bool {
        c.onStack || c === busy.caller
    }

    /// One send per connection that has replies, as flushClients, but
    /// leaving the dirty list to the loop (flushClients may be iterating it
    /// further up the stack) and skipping the connections the script holds.
    func flushWhileBusy() {
        var i = 0
        while i < dirty.count {
            let c = dirty[i]
            i += 1
            if c.closed || isHeldByScript(c) { continue }
            if !c.sendInFlight && !c.out.isEmpty { startSend(c) }
            if c.closing && drained(c) { finishClose(c) }
        }
    }

    /// Queues `c` for `replayBusyDeferred`, once.
    func deferWhileBusy(_ c: Client, _ bits: UInt8 = 0) {
        if c.busyPending & BusyPending.queued == 0 { busy.deferred.append(c) }
        c.busyPending |= BusyPending.queued | bits
    }

    /// Input of a held connection that arrived during a step: kept, in
    /// order, for after the script. Returns whether `p` was stashed; else a
    /// stash left from an earlier step is taken in ahead of it.
    func stashWhileBusy(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        if busy.serving { busy.events += 1 }
        if busy.serving && isHeldByScript(c) {
            let s = c.busyStash ?? ByteBuf(capacity: max(n, 256))
            c.busyStash = s
            s.append(p, n)
            deferWhileBusy(c)
            // As Redis leaves a protected client unread: the kernel holds the rest.
            if s.count >= 1 << 20 && !c.recvPaused {
                c.recvPaused = true
                backend.pauseRecv(c)
            }
            return true
        }
        if let s = c.busyStash {
            c.busyStash = nil
            onData(c, UnsafePointer(s.base), s.count)
        }
        return c.closing
    }

    /// From the loop, once the script is over: stashed input runs, deferred
    /// closes happen, paused readers resume, held replies go out.
    func replayBusyDeferred() {
        let list = busy.deferred
        busy.deferred.removeAll(keepingCapacity: true)
        for c in list {
            let bits = c.busyPending
            c.busyPending = 0
            if c.closed {
                c.busyStash = nil
                continue
            }
            if let s = c.busyStash {
                c.busyStash = nil
                // As if it arrived now: counted, parsed, held to the query
                // buffer limit. Before an end the peer sent it (epoll marks an
                // EOF paused), so it runs first, as Redis reads it then.
                let paused = c.recvPaused
                if bits & (BusyPending.eof | BusyPending.failed) != 0 { c.recvPaused = false }
                onData(c, UnsafePointer(s.base), s.count)
                if !c.closing { c.recvPaused = paused || c.recvPaused }
                if c.closing { continue }
            }
            if bits & (BusyPending.eof | BusyPending.failed) != 0 {
                onRecvEnd(c, eof: bits & BusyPending.eof != 0)
                continue
            }
            markDirty(c)
            maybeResume(c)
        }
    }

    /// Redis's processCommand check: while a script is busy only allow-busy
    /// commands run; the rest are refused as rejectCommand does (counted as
    /// rejected, the MULTI flagged, EXEC aborted). Returns whether `spec`
    /// was refused.
    func refuseWhileBusy(_ spec: CommandSpec, _ c: Client) -> Bool {
        if allowedWhileBusy(spec) { return false }
        // Redis refuses a no-multi command inside MULTI before this check (queueInMulti does).
        if c.multi != nil && spec.flags.contains(.noMulti) { return false }
        cmdRejected[spec.id] += 1
        let r = Reply(replyBuffer(c), proto: c.proto)
        if case .server(.exec) = spec.route {
            // execCommandAbort: the block is discarded, with or without MULTI.
            endTransactionState(c)
            countError("EXECABORT")
            r.error(string: "EXECABORT Transaction discarded because of: " + busyError())
        } else {
            c.multi?.aborted = true
            countError("BUSY")
            r.error(string: busyError())
        }
        return true
    }
}
