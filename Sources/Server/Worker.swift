import CLiburing
import Commands
import Config
import RESP
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread, one ring (or epoll set), one shard of the keyspace. Only this
/// thread touches `store`; other workers reach it through `handle.inbox`.
final class Worker<B: IOBackend>: IOEvents {
    let id: Int
    let state: ServerState
    let backend: B
    let handle: WorkerHandle
    /// This shard's data; inside an EXEC, briefly a shard locked for it.
    var store: ShardStore
    /// The shard `store` belongs to (`id` except inside an EXEC).
    var execShard: Int
    /// Intent locks and the transaction queue (Server/Tx).
    let locks = LockTable()
    let txq = TxQueue()
    var watches = WatchTable()
    var laneDraining = false
    var promoting = false
    var promoteAgain = false
    /// >0 while an EXEC runs on shards locked for it.
    var lentDepth = 0 {
        didSet { if (oldValue == 0) != (lentDepth == 0) { aofLentChanged() } }
    }
    /// This iteration's append-only records (Persistence/AofShardLog.swift).
    let aofLog = AofShardLog()
    var resumeQueue: [Client] = []
    /// Clients whose next command waits for CLIENT PAUSE to end.
    var pausedClients: [Client] = []
    /// Scripting (Server/Scripting), made on first use.
    var luaEngine: LuaEngine?
    var luaGeneration = 0
    var scriptClient: Client?
    /// The last script's run state, reused by the next (runScript).
    var spareScriptRun: ScriptRun?
    var busyThresholdMs = 5000
    /// Serving other connections while a script is busy (Scripting/BusyServe.swift).
    let busy = BusyServeState()
    var allShardsCache: [Bool]?
    /// This shard's blocked clients by key (swapped with a lent shard's).
    var blocked = BlockRegistry()
    /// Clients of this worker that wait, for their timeouts.
    var blockedWaits: [BlockedClient] = []
    /// The nearest deadline in `blockedWaits` (.max: none), or earlier.
    var blockedNearest: Int64 = .max
    let blockArgs = ArgVector(capacity: 16)
    let blockOut = ByteBuf(capacity: 256)
    /// This worker's subscribers by channel and pattern (Server/PubSub).
    let pubsub = PubSubLocal()
    /// Every shard's store, for commands run with shards lent (runLent).
    var lentStores: [ShardStore] = []
    var scriptKeys: [Arg] = []
    var scriptArgv: [Arg] = []
    let stats = ShardStats()
    /// The `Exec` every `runHandler` call refills (Dispatch.swift).
    var handlerContext: Exec
    let clock = CommandClock.shared
    let table = CommandTable.shared
    let args = ArgVector(capacity: 64)
    /// Commands of forwarded batches; separate from `args` because a batch
    /// for this very shard runs while a client command is still being handled.
    let batchArgs = ArgVector(capacity: 64)
    /// Scratch for prefetchKeys: a pre-pass over a pipelined batch.
    let prefetchArgs = ArgVector(capacity: 16)
    var prefetchHashes = [UInt64](repeating: 0, count: 32)
    /// A third vector for commands unwrapped from a forwarding envelope.
    let innerArgs = ArgVector(capacity: 64)
    var limits = ProtocolLimits()
    /// Batches between workers were checked when their client sent them.
    let trustedLimits: ProtocolLimits = {
        var l = ProtocolLimits()
        l.maxBulkLen = Int.max
        l.inlineMax = Int.max
        return l
    }()

    var clients: [Client?] = []
    var freeIndexes: [Int] = []
    var generationCounter: UInt32 = 0
    var dirty: [Client] = []
    var listeners: [Int32] = []

    /// Messages to push to each worker at the end of the iteration, in order.
    var outgoing: [[ShardMessage]]
    var sendSeqNext = 0
    /// A publish hop is in `outgoing`: flush in send order (`flushInSendOrder`).
    var publishQueued = false
    var flushHeads: [Int] = []
    var flushPushed: [Bool] = []
    /// Messages that did not fit a full inbox, per target and in creation
    /// order: once one waits here, later ones for that target queue behind it,
    /// or a connection's later command could overtake an earlier one.
    var overflow: [[ShardMessage]]
    var overflowCount = 0
    /// The `sendSeq` of each `.publish` hop waiting in `overflow`,
    /// oldest first: nothing queued after the oldest leaves before it does.
    var publishBarriers: [Int] = []
    /// Past this many waiting messages no client is read (back-pressure), so
    /// a full inbox cannot grow this worker's memory without bound.
    let maxOverflow: Int
    /// Clients paused by that bound; read again when the overflow drains.
    var overflowPaused: [Client] = []
    var dirtyFlushing: [Client] = []
    var messagePool: [ShardMessage] = []
    /// routeMultiKey's per-shard scratch (Server/Routing.swift).
    var fanoutCounts: [Int] = []
    var fanoutParts: [ShardMessage?] = []
    var fanoutSecond: [ShardMessage?] = []
    /// Each key's shard, computed once per multi-key command (Routing.swift).
    var fanoutKeyShards: [Int] = []
    /// completeFanout's per-shard readers of a per-key merge (Merge.swift).
    var mergeReaders: [ReplyReader?] = []
    var ticketPool: [ReplyTicket] = []
    /// Reply sink for CLIENT REPLY OFF/SKIP.
    let discard = ByteBuf(capacity: 256)

    var now: Int64 = 0
    var lastCron: Int64 = 0
    /// maxmemory (Server/Eviction.swift): the settings, this thread's
    /// allocation counter, the other threads' bytes as of this iteration,
    /// the shard's evictor, and whether a time-limited eviction stopped short.
    var memLimit = MemoryLimit()
    var memSlot: Int32 = 0
    var othersMemory = 0
    /// What `handle.evictable` last said (Server/Eviction.swift).
    var evictablePublished = -1
    let evictor = Evictor()
    var evictionPending = false
    /// Memory was over maxmemory when the running script started (Redis's script_oom).
    var scriptOOM = false
    var configGeneration = -1
    var requirePass: [UInt8]? = nil
    var protectedMode = true
    var maxClients = 10000
    var idleTimeout = 0
    var keepalive = 300
    var queryBufferLimit = 1 << 30
    var outputHard = 0
    var outputSoft = 0
    var outputSoftSeconds = 0
    /// client-output-buffer-limit pubsub: hard, soft, seconds.
    var pubsubOutputLimit = (hard: 0, soft: 0, seconds: 0)
    /// The fewest output bytes at which any of those limits can apply
    /// (Int.max: none), so a pushed message checks them with one compare.
    var outputLimitFloor = Int.max
    var hz = 10
    /// Stop reading from a client while this much output waits for it
    /// (client-output-pause-bytes)...
    let outputPauseBytes: Int
    /// ...and while this many of its commands wait on other shards, whose
    /// reply sizes are unknown until they come back (shard-max-outstanding).
    let maxRemoteOutstanding: Int

    // Per-command statistics (INFO commandstats), indexed by CommandSpec.id.
    var cmdCalls: [Int]
    var cmdMicros: [Int]
    var cmdFailed: [Int]
    var cmdRejected: [Int]
    /// errorstats by error prefix (ERR, WRONGTYPE, ...): names from our own
    /// replies, never client data.
    var errorCounts: [String: Int] = [:]
    // Per-worker totals, summed by INFO: a shared atomic here would bounce a
    // cache line between cores on every command.
    var totalCommands = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var slowlog = SlowLog()
    let opsSampler = OpsSampler()

    init(id: Int, state: ServerState, backend: B, handle: WorkerHandle) {
        self.id = id
        self.state = state
        self.backend = backend
        self.handle = handle
        outputPauseBytes = state.config.clientOutputPauseBytes
        maxRemoteOutstanding = state.config.shardMaxOutstanding
        // Start-up loading (loadDataset) fills the stores before the workers start.
        store = handle.store ?? ShardStore(databases: state.config.databases, notify: state.notify)
        execShard = id
        handlerContext = Exec(args: args, reply: Reply(discard), store: store, stats: stats, db: 0, now: 0, shard: id,
                              shardCount: state.shardCount)
        handle.store = store
        handle.watches = watches
        handle.blocked = blocked
        outgoing = Array(repeating: [], count: state.shardCount)
        overflow = Array(repeating: [], count: state.shardCount)
        flushHeads = Array(repeating: 0, count: state.shardCount)
        flushPushed = Array(repeating: false, count: state.shardCount)
        maxOverflow = max(64, state.queueCapacity * 4)
        let n = CommandTable.shared.specs.count
        cmdCalls = Array(repeating: 0, count: n)
        cmdMicros = Array(repeating: 0, count: n)
        cmdFailed = Array(repeating: 0, count: n)
        cmdRejected = Array(repeating: 0, count: n)
        refreshConfig()
    }

    var shardCount: Int { state.shardCount }

    /// CONFIG SET on any worker binds every worker from its next command
    /// on: a message pushed after the SET finds it here (one load).
    @inline(__always) func refreshConfigIfChanged() {
        if state.config.generation != configGeneration && !busy.serving { refreshConfig() }
    }

    func refreshConfig() {
        let c = state.config
        let g = c.generation
        if g == configGeneration { return }
        configGeneration = g
        requirePass = c.requirepass.map { Array($0.utf8) }
        protectedMode = c.protectedMode
        maxClients = c.maxclients
        idleTimeout = c.timeout
        keepalive = c.tcpKeepalive
        queryBufferLimit = c.clientQueryBufferLimit
        let o = c.clientOutputBufferLimitNormal
        outputHard = o.hard
        outputSoft = o.soft
        outputSoftSeconds = o.seconds
        pubsubOutputLimit = c.clientOutputBufferLimitPubsub
        outputLimitFloor = [o.hard, o.soft, pubsubOutputLimit.hard, pubsubOutputLimit.soft].filter { $0 > 0 }.min() ?? .max
        hz = max(1, min(500, c.hz))
        limits.maxBulkLen = c.protoMaxBulkLen
        StringCommands.protoMaxBulkLen.store(c.protoMaxBulkLen, ordering: .relaxed)
        let policy = c.maxmemoryPolicy
        let lowered = c.maxmemory != 0 && (memLimit.max == 0 || c.maxmemory < memLimit.max)
        memLimit.max = c.maxmemory
        memLimit.policy = EvictionPolicy(name: policy)
        memLimit.samples = Int(c.get("maxmemory-samples") ?? "") ?? 5
        memLimit.tenacity = Int(c.get("maxmemory-eviction-tenacity") ?? "") ?? 10
        AccessTracking.lfu.store(memLimit.policy.isLFU, ordering: .relaxed)
        AccessTracking.logFactor.store(Int(c.get("lfu-log-factor") ?? "") ?? 10, ordering: .relaxed)
        AccessTracking.decayTime.store(Int(c.get("lfu-decay-time") ?? "") ?? 1, ordering: .relaxed)
        KeyCommands.noSharedIntegers.store(c.maxmemory != 0 && (policy.contains("lru") || policy.contains("lfu")), ordering: .relaxed)
        busyThresholdMs = Int(c.get("busy-reply-threshold") ?? "5000") ?? 5000
        func limit(_ a: borrowing Atomic<Int>, _ name: String, _ dflt: Int) {
            a.store(Int(c.get(name) ?? "") ?? dflt, ordering: .relaxed)
        }
        limit(EncodingLimits.hashMaxListpackEntries, "hash-max-listpack-entries", 512)
        limit(EncodingLimits.hashMaxListpackValue, "hash-max-listpack-value", 64)
        limit(EncodingLimits.setMaxIntsetEntries, "set-max-intset-entries", 512)
        limit(EncodingLimits.zsetMaxListpackEntries, "zset-max-listpack-entries", 128)
        limit(EncodingLimits.zsetMaxListpackValue, "zset-max-listpack-value", 64)
        limit(EncodingLimits.listMaxListpackSize, "list-max-listpack-size", -2)
        limit(EncodingLimits.listCompressDepth, "list-compress-depth", 0)
        limit(EncodingLimits.hllSparseMaxBytes, "hll-sparse-max-bytes", 3000)
        Rdb.compression.store((c.get("rdbcompression") ?? "yes") == "yes", ordering: .relaxed)
        Rdb.checksum.store((c.get("rdbchecksum") ?? "yes") == "yes", ordering: .relaxed)
        limit(EncodingLimits.streamNodeMaxEntries, "stream-node-max-entries", 100)
        limit(EncodingLimits.streamNodeMaxBytes, "stream-node-max-bytes", 4096)
        limit(ShardSnapshot.keySaveDelay, "rdb-key-save-delay", 0)
        slowlog.threshold = c.slowlogLogSlowerThan
        slowlog.maxLen = c.slowlogMaxLen
        // A lower maxmemory evicts down at once, as Redis's CONFIG SET does.
        if lowered && memSlot != 0 {
            refreshOthersMemory()
            performEvictions()
        }
    }

    // MARK: loop

    func run() {
        claimMemorySlot()
        now = wallMillis()
        while true {
            if state.isStopping { break }
            var timeout = 1000 / hz
            if !blockedWaits.isEmpty, let d = nextBlockedDeadline { timeout = min(timeout, Int(d)) }
            if let p = pauseTimeoutMs { timeout = min(timeout, p) }
            // A holder of this shard (BGSAVE's cut) writes `handle.snapshot`:
            // it is read only while none holds it (ThreadSanitizer).
            if locks.wholeExclusive == 0 && handle.snapshot != nil { timeout = snapshotPollTimeout(timeout) }
            // `sleeping` is read by every producer: written only around a
            // poll that may block, so a busy worker leaves the line shared.
            var armed = false
            if handle.inbox.hasItems || handle.lane.hasItems || !dirty.isEmpty || !resumeQueue.isEmpty || evictionContinues {
                timeout = 0
            } else {
                // Overflow alone is no reason to spin: see InboxRoom.swift.
                if overflowCount > 0 {
                    askForRoom()
                    timeout = min(timeout, 1)
                }
                handle.sleeping.store(1)
                armed = true
                if handle.inbox.hasItems || handle.lane.hasItems || (overflowCount > 0 && overflowHasRoom) {
                    handle.sleeping.store(0)
                    armed = false
                    timeout = 0
                }
            }
            backend.poll(timeoutMs: timeout, sink: self)
            if armed { handle.sleeping.store(0) }
            now = wallMillis()
            // A poll that returned no event did not call wokeUp: a CONFIG SET
            // on another worker must still bind the commands forwarded here
            // (a script ran under a stale maxmemory 0 on a busy epoll worker).
            refreshConfigIfChanged()
            if memLimit.max != 0 { refreshOthersMemory() }
            drainInbox()
            if locks.wholeExclusive == 0 && !blocked.ready.isEmpty { serveReady() }
            if !blockedWaits.isEmpty { expireBlocked() }
            if !pausedClients.isEmpty { releasePaused() }
            resumeDeferred()
            if !busy.deferred.isEmpty { replayBusyDeferred() }
            if !pubsub.bcastPending.isEmpty { flushBroadcasts() }
            // Before anything leaves: what it says happened is in the log.
            aofHandover()
            // What this iteration's commands left to evict, before their
            // replies and hops reach anyone.
            if memLimit.max != 0 { publishEvictable() }
            flushOutgoing()
            flushClients()
            if now - lastCron >= Int64(1000 / hz) {
                cron()
            } else if evictionContinues {
                continueEviction()
            }
            if locks.wholeExclusive == 0 && handle.snapshot != nil { snapshotStep() }
            // A send that completed at once (epoll) can resume a paused
            // client whose commands went to other shards' lists: send them
            // now, not after a poll that may sleep for 1/hz (a 100 ms stall
            // per pause, found with client-output-pause-bytes 1).
            if outgoing.contains(where: { !$0.isEmpty }) { flushOutgoing() }
        }
        shutdownGracefully()
    }

    /// Stop accepting, send what was already produced, then return.
    func shutdownGracefully() {
        for fd in listeners { close(fd) }
        let deadline = monotonicNanos() + 2_000_000_000
        while monotonicNanos() < deadline {
            drainInbox()
            aofHandover()
            flushOutgoing()
            flushClients()
            // A send that completed at once (epoll) can resume a paused
            // client whose commands went to other shards' lists: send them
            // now, not after a poll that may sleep for 1/hz (a 100 ms stall
            // per pause, found with client-output-pause-bytes 1).
            if outgoing.contains(where: { !$0.isEmpty }) { flushOutgoing() }
            var busy = false
            for case let c? in clients where !c.closed && (c.sendInFlight || !c.out.isEmpty || c.hasPendingTickets) {
                busy = true
            }
            if !busy { break }
            backend.poll(timeoutMs: 10, sink: self)
        }
        for case let c? in clients where !c.closed { close(c.fd) }
    }

    func cron() {
        lastCron = now
        refreshConfig()
        sampleOps()
        evictionCron()
        persistenceCron()
        if id == 0 && aofCapturing { aofAutoRewriteCheck() }
        // Redis's active expiry: a slice of the cycle per tick per db.
        let budget = 25_000_000 / hz
        // A shard locked whole for an EXEC is being read by its coordinator;
        // under CLIENT PAUSE the dataset stays as it is, as in Redis.
        if locks.wholeExclusive == 0 && !pauseInForce {
            for (i, ks) in store.dbs.enumerated() where ks.expiringCount > 0 && state.activeExpire.value != 0 {
                let before = ks.mutations
                _ = ks.activeExpireCycle(now: now, budgetNanos: budget, clock: monotonicNanos)
                if ks.mutations != before && !watches.isEmpty { touchMissingWatched(db: i) }
                flushKeyEvents(store)
            }
        }
        // A coordinator may be adding watches and waiters to a shard lent
        // to it (withLentShard): the owner leaves both tables alone until
        // the shard comes back (race found by ThreadSanitizer).
        if locks.wholeExclusive == 0 {
            if !watches.isEmpty { watches.purge() }
            if !blocked.isEmpty { blocked.purge() }
        }
        MigrateCommand.closeIdleLinks(now: now)
        if idleTimeout > 0 {
            for case let c? in clients where !c.closing && now - c.lastInteraction > Int64(idleTimeout) * 1000 {
                closeClient(c)
            }
        }
    }

    // MARK: connections

    /// Commands run inside poll's callbacks: they need the time of the
    /// wake-up, not of the previous iteration (expiry compares against it).
    func wokeUp() {
        // A busy script's serving step keeps the script's time and settings.
        if busy.serving { return }
        now = wallMillis()
        refreshConfigIfChanged()
        if memLimit.max != 0 { refreshOthersMemory() }
    }

    func client(at index: Int, generation: UInt32) -> Client? {
        guard index < clients.count, let c = clients[index], c.generation & 0xFF_FFFF == generation else { return nil }
        return c
    }

    func onAccept(fd: Int32) {
        if state.isStopping { close(fd); return }
        // Another round of a busy script's serving step submits its first recv.
        if busy.serving { busy.events += 1 }
        state.totalConnections.add(1)
        let (addr, loopback) = socketAddress(fd, peer: true)
        if state.connectedClients.add(1) >= maxClients {
            state.connectedClients.add(-1)
            state.rejectedConnections.add(1)
            rejectAndClose(fd, "-ERR max number of clients reached\r\n")
            return
        }
        if protectedMode && requirePass == nil && !loopback {
            state.connectedClients.add(-1)
            rejectAndClose(fd, protectedModeMessage)
            return
        }
        setupClientSocket(fd, keepalive: keepalive)
        let (laddr, _) = socketAddress(fd, peer: false)
        let index: Int
        if let i = freeIndexes.popLast() { index = i } else { index = clients.count; clients.append(nil) }
        generationCounter &+= 1
        let c = Client(id: state.nextClientID.add(1), fd: fd, index: index, generation: generationCounter & 0xFF_FFFF,
                       addr: addr, laddr: laddr, now: now)
        c.authenticated = requirePass == nil
        clients[index] = c
        state.clientDirectory.add(c.id, ClientDirectory.Place(worker: id, index: index, generation: c.generation))
        backend.armRecv(c)
    }

    private func rejectAndClose(_ fd: Int32, _ msg: String) {
        var m = msg
        m.withUTF8 { _ = send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
    }

    func onData(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int) {
        if (c.busyStash != nil || busy.serving) && stashWhileBusy(c, p, n) { return }
        netInputBytes &+= n
        c.lastInteraction = now
        if c.inbuf.isEmpty && !c.recvPaused {
            let used = process(c, p, n)
            if used < n && !c.closing { c.inbuf.append(p + used, n - used) }
        } else {
            c.inbuf.append(p, n)
            if !c.recvPaused {
                let used = process(c, UnsafePointer(c.inbuf.base), c.inbuf.count)
                c.inbuf.consumeFront(used)
            }
        }
        if c.inbuf.count > queryBufferLimit {
            state.logger.warning("Closing client that reached max query buffer length: addr=\(c.addr) qbuf=\(c.inbuf.count)")
            closeClient(c)
            return
        }
        if c.inbuf.isEmpty && c.inbuf.capacity > 1 << 16 { c.inbuf.shrink(to: 64) }
    }

    /// After an orderly EOF the replies already owed still go out, as Redis
    /// sends them (`printf 'PING\r\n' | nc -N` gets its PONG); after an
    /// error the peer is gone and they are dropped.
    func onRecvEnd(_ c: Client, eof: Bool) {
        c.recvArmed = false
        if busy.serving && isHeldByScript(c) {
            // Closed under a running script: closed once it is over.
            return deferWhileBusy(c, eof ? BusyPending.eof : BusyPending.failed)
        }
        if c.closing {
            if drained(c) { finishClose(c) }
        } else if eof && !c.inbuf.isEmpty && (c.stalled || c.barrier != nil || c.inputHeld) {
            // Commands it sent still wait their turn (behind a hop, or until
            // its replies drain): run them, then close (closeIfPeerGone).
            c.peerClosed = true
        } else {
            closeClient(c, flush: eof)
        }
    }

    /// A half-closed peer whose last commands had to wait: once they ran, close.
    func closeIfPeerGone(_ c: Client) {
        if c.peerClosed && !c.closing && !c.stalled && c.barrier == nil {
            closeClient(c, flush: true)
        }
    }

    func onSendComplete(_ c: Client, _ res: Int) {
        if res < 0 {
            c.sendInFlight = false
            c.sending.clear()
            closeClient(c)
            return
        }
        netOutputBytes &+= res
        c.sendOffset += res
        if c.sendOffset < c.sending.count {
            backend.startSend(c, sink: self)
            return
        }
        c.sendInFlight = false
        c.sending.clear()
        c.sendOffset = 0
        // Past Redis's 16 KiB reply chunk, what was sent is given back, as
        // Redis frees its reply blocks once written: kept, a burst's
        // capacity (a pub/sub subscriber catching up) would count in
        // used_memory on top of what is still pending, and eat the maxmemory
        // budget. The buffer is empty here: a malloc and a free, no copy.
        if c.sending.capacity > 32 * 1024 { c.sending.shrink(to: 16 * 1024) }
        if !c.out.isEmpty {
            // Replies of commands whose log records are not handed over yet
            // wait for flushClients (appendfsync always: until on disk).
            if aofLog.isEmpty { startSend(c) } else { markDirty(c) }
        } else if c.closing {
            if drained(c) { finishClose(c) }
        } else {
            maybeResume(c)
        }
    }

    func markDirty(_ c: Client) {
        if !c.dirty {
            c.dirty = true
            dirty.append(c)
        }
    }

    /// A send that completes at once (epoll) can resume a paused client whose
    /// commands mark clients dirty again while this walks the list: they go
    /// to a fresh list, taken in the next pass, never dropped.
    func flushClients() {
        var passes = 0
        while !dirty.isEmpty && passes < 4 {
            passes += 1
            // A client resumed by a send that completed at once ran commands.
            if !aofLog.isEmpty { aofHandover() }
            swap(&dirty, &dirtyFlushing)
            for c in dirtyFlushing {
                c.dirty = false
                if c.closed { continue }
                if !c.sendInFlight && !c.out.isEmpty { startSend(c) }
                if c.closing && drained(c) { finishClose(c) }
            }
            dirtyFlushing.removeAll(keepingCapacity: true)
        }
    }

    func startSend(_ c: Client) {
        if c.closed || awaitsHop(c) { return }
        // A reply of a command further up the stack may still be written into `out`.
        if busy.serving && isHeldByScript(c) { return deferWhileBusy(c) }
        checkOutputLimits(c)
        if c.closed || c.out.isEmpty { return }
        swap(&c.out, &c.sending)
        c.sendOffset = 0
        c.sendInFlight = true
        backend.startSend(c, sink: self)
    }

    /// client-output-buffer-limit of the client's class (normal, or pubsub
    /// while it has subscriptions), as Redis applies it.
    func checkOutputLimits(_ c: Client) {
        var (hard, soft, seconds) = (outputHard, outputSoft, outputSoftSeconds)
        if let s = c.subs, s.total > 0 { (hard, soft, seconds) = pubsubOutputLimit }
        if hard == 0 && soft == 0 { return }
        let bytes = c.outputBytes
        var over = hard > 0 && bytes >= hard
        if !over && soft > 0 && bytes >= soft {
            if c.softLimitSince == 0 { c.softLimitSince = now }
            over = now - c.softLimitSince >= Int64(seconds) * 1000
        } else if bytes < soft {
            c.softLimitSince = 0
        }
        if over {
            state.logger.warning("Client id=\(c.id) addr=\(c.addr) closed for overcoming of output buffer limits.")
            c.out.clear()
            closeClient(c)
        }
    }

    func resumeReading(_ c: Client) {
        if busy.serving && isHeldByScript(c) { return deferWhileBusy(c) }
        c.recvPaused = false
        c.inputHeld = false
        if !c.inbuf.isEmpty {
            let used = process(c, UnsafePointer(c.inbuf.base), c.inbuf.count)
            c.inbuf.consumeFront(used)
        }
        if c.peerClosed {
            closeIfPeerGone(c)
            return
        }
        if !c.recvPaused { backend.armRecv(c) }
    }

    /// Starts closing. With `flush`, replies already produced (and those still
    /// owed by other shards) go out first, as after QUIT or a protocol error;
    /// without it the peer is gone and they are dropped.
    func closeClient(_ c: Client, flush: Bool = false) {
        if c.closed { return }
        c.closing = true
        endTransactionState(c)
        dropBlocked(c)
        dropSubscriptions(c)
        stopMonitoring(c)
        state.clientDirectory.remove(c.id)
        if !flush {
            c.out.clear()
            c.tickets.removeAll()
            c.ticketHead = 0
        }
        markDirty(c)
    }

    /// Whether a closing client has nothing left to send.
    func drained(_ c: Client) -> Bool {
        !c.sendInFlight && c.out.isEmpty && !c.hasPendingTickets
    }

    func finishClose(_ c: Client) {
        if c.closed { return }
        guard backend.release(c) else { return }
        c.closed = true
        handlerContext.releaseReply(to: discard)
        clients[c.index] = nil
        freeIndexes.append(c.index)
        state.connectedClients.add(-1)
    }
}

let protectedModeMessage = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"
