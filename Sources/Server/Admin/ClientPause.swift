import Commands
import RESP
import Storage
import Synchronization

/// CLIENT PAUSE and UNPAUSE. The pause is server-wide state
/// (`ServerState.pauseEnd`/`pauseType`); each worker checks it per command
/// (one load while nothing is paused). A paused command is not dropped: it
/// stays at the front of its connection's input like a command waiting for
/// a lock, every later command of that connection queues behind it, and it
/// runs when the pause ends or is lifted.
extension Worker {
    func clientPause(_ c: Client, _ r: Reply) {
        if args.count < 3 { return r.error(string: wrongArityError("client|pause")) }
        guard args.count == 3 || args.count == 4 else {
            return r.error(bytes: Array("ERR unknown subcommand or wrong number of arguments for '".utf8)
                + Array(args[1].buffer.prefix(128)) + Array("'. Try CLIENT HELP.".utf8))
        }
        var type = PauseType.all
        if args.count == 4 {
            if args[3].equalsLower("write") {
                type = PauseType.write
            } else if !args[3].equalsLower("all") {
                return r.error("ERR CLIENT PAUSE mode must be WRITE or ALL")
            }
        }
        guard let ms = parseStrictInt(args[2].ptr, args[2].count) else {
            return r.error("ERR timeout is not an integer or out of range")
        }
        if ms < 0 { return r.error("ERR timeout is negative") }
        let t = Int(wallMillis())
        // Redis adds without a check: a sum that wraps ends in the past.
        var end = ms == 0 ? 0 : ms &+ t
        if end <= t { end = 0 }
        // A pause that is still on only grows: the later end, the stricter type.
        let oldEnd = state.pauseEnd.value
        if oldEnd > t {
            state.pauseType.store(max(state.pauseType.value, type))
            state.pauseEnd.store(max(oldEnd, end))
        } else {
            state.pauseType.store(type)
            state.pauseEnd.store(end)
        }
        Keyspace.expiryPausedUntil.store(Int64(state.pauseEnd.value), ordering: .relaxed)
        r.ok()
    }

    func clientUnpause(_ c: Client, _ r: Reply) {
        state.pauseEnd.store(0)
        Keyspace.expiryPausedUntil.store(0, ordering: .relaxed)
        // Paused clients of other workers run at once, not at their next tick.
        for (i, h) in state.handles.enumerated() where i != id && h.sleeping.exchange(0) == 1 {
            backend.wake(h.wakeFD)
        }
        r.ok()
    }

    /// Whether the pause now in force holds this command back. Commands an
    /// EXEC or a script runs are never held: their block already started.
    func pauseHolds(_ spec: CommandSpec, _ c: Client) -> Bool {
        let end = state.pauseEnd.value
        if end == 0 || Int(now) >= end || lentDepth > 0 || c.fd < 0 { return false }
        if state.pauseType.value == PauseType.all { return true }
        if mayReplicate(spec) { return true }
        // EXEC pauses when its block has a write, as Redis's mstate.cmd_flags.
        if case .server(.exec) = spec.route, let ms = c.multi {
            let a = ArgVector(capacity: 8)
            let p = UnsafePointer(ms.queue.base)
            let n = ms.queue.count
            var off = 0
            while off < n, case .command(let used) = parseCommand(p + off, n - off, into: a, limits: trustedLimits) {
                off += used
                if let s = table.lookup(a[0]), mayReplicate(s) { return true }
            }
        }
        return false
    }

    /// Redis's CMD_WRITE | CMD_MAY_REPLICATE: writes, PUBLISH, and the
    /// scripts that may write (EVAL, EVALSHA, FCALL, not their _RO forms).
    func mayReplicate(_ spec: CommandSpec) -> Bool {
        if spec.flags.contains(.write) || spec.flags.contains(.mayReplicate) { return true }
        if case .server(let op) = spec.route {
            switch op {
            case .eval, .evalsha, .fcall: return true
            default: return false
            }
        }
        return false
    }

    func holdForPause(_ c: Client) {
        c.stalled = true
        pausedClients.append(c)
    }

    /// From the loop: once the pause is over, held clients run in the
    /// order they were held.
    func releasePaused() {
        let end = state.pauseEnd.value
        if end != 0 && Int(now) < end {
            // Still on: the pause type may have been relaxed to WRITE; a
            // held read simply checks again when it runs.
            if state.pauseType.value == PauseType.all { return }
        }
        let list = pausedClients
        pausedClients.removeAll(keepingCapacity: true)
        for c in list where !c.closed {
            c.stalled = false
            resumeLater(c)
        }
    }

    /// Any CLIENT PAUSE (WRITE or ALL) still on: active expiry waits. (From
    /// cron: a pause that has run out stops keeping expired keys too, so
    /// inserts stop looking for them.)
    var pauseInForce: Bool {
        let end = state.pauseEnd.value
        if end != 0 && Int(wallMillis()) < end { return true }
        // Only the pause that ran out: a new one set meanwhile stays.
        if end != 0 { _ = Keyspace.expiryPausedUntil.compareExchange(expected: Int64(end), desired: 0, ordering: .relaxed) }
        return false
    }

    /// The poll timeout while clients are held: until the pause ends.
    var pauseTimeoutMs: Int? {
        if pausedClients.isEmpty { return nil }
        let end = state.pauseEnd.value
        if end == 0 { return 0 }
        return max(0, end - Int(wallMillis()))
    }
}

enum PauseType {
    static let write = 1
    static let all = 2
}
