import Commands
import RESP
import Storage

/// VLL on a shard: transaction parts arrive in id order through the lane,
/// take intent locks, and run when granted or at the head of the queue; a
/// single-shard command runs at once unless its keys are locked, and then
/// waits in the same queue. See ARCHITECTURE.md, "Transactions".
extension Worker {
    // MARK: coordinator

    /// Stamps one id on a multi-shard command's parts (one per shard) and
    /// pushes them to their shards in id order. This shard's part is taken
    /// at once, so a later command of this connection here sees its locks.
    func scheduleTx(_ s: ReplyTicket, _ parts: [ShardMessage]) {
        s.pending = parts.count
        let t = state.sequencer.begin()
        s.txid = t
        for m in parts {
            m.txid = t
            state.handles[m.target].lane.push(m)
        }
        state.sequencer.end(t)
        for m in parts where m.target != id { wakeIfSleeping(state.handles[m.target]) }
        drainLane()
    }

    /// The last stage of a transaction's parts on `shards`: release their
    /// locks. The ticket completes when every shard has answered.
    func releaseShards(_ s: ReplyTicket, _ c: Client?, _ shards: [Int]) {
        var list: [ShardMessage] = []
        for sh in shards {
            let m = addPart(s, c, shard: sh)
            m.op = .txRelease
            m.commandCount = 1
            m.txFinal = true
            list.append(m)
        }
        launch(s, list)
    }

    /// A transaction that holds `shards` whole for the ticket's command:
    /// once every part has answered, nothing else touches them until
    /// `releaseShards` (EXEC, colocated commands, blocking attempts).
    func holdShards(_ s: ReplyTicket, _ c: Client, _ shards: [Int]) {
        var parts: [ShardMessage] = []
        for sh in shards {
            let m = addPart(s, c, shard: sh)
            m.op = .txHold
            m.commandCount = 1
            m.locks.whole = .exclusive
            parts.append(m)
        }
        scheduleTx(s, parts)
    }

    /// Whether a multi-shard command must start as a transaction: not with
    /// one shard, and not inside an EXEC that already holds its shards.
    var txNeeded: Bool { shardCount > 1 && lentDepth == 0 }

    /// A transaction's parts go by the lane, the connection's plain commands
    /// by the inboxes: an earlier plain command could arrive after a later
    /// part. So a transaction starts only once none of those is in flight
    /// (earlier transactions are fine: the lanes keep their order); until
    /// then the command waits in the input buffer.
    func mustWaitForEarlier(_ c: Client) -> Bool {
        if c.plainInFlight == 0 { return false }
        c.stalled = true
        c.stallForDrain = true
        return true
    }

    /// The locks of a part: `keys` in `db`, exclusive for a writing command.
    func lockSet(_ spec: CommandSpec, keys: [Arg], db: Int) -> LockSet {
        var s = LockSet()
        let x = spec.mayWrite
        for k in keys { s.add(LockKey(db: db, k), exclusive: x) }
        return s
    }

    // MARK: shard side

    @inline(__always) func drainLaneIfNeeded() {
        if handle.lane.hasItems { drainLane() }
    }

    /// Takes every part that has arrived, in order. Not re-entered: a part
    /// pushed while this runs is taken by the same loop.
    func drainLane() {
        // Not from a busy script's serving step either (BusyServe.swift).
        if laneDraining || lentDepth > 0 || busy.serving { return }
        laneDraining = true
        while let m = handle.lane.pop() {
            refreshConfigIfChanged()
            arrive(m)
        }
        laneDraining = false
    }

    func arrive(_ m: ShardMessage) {
        let item = TxItem(txid: m.txid, kind: .tx, locks: m.locks)
        let granted = locks.acquire(m.locks)
        txq.append(item)
        // Granted at once, the usual case: it runs now, without a trip
        // through `work` (an array allocation per part). Equivalent to
        // activate: while it runs, its later stages find it active.
        if granted {
            item.active = true
            runTxWork(item, m)
        } else {
            item.work.append(m)
        }
    }

    /// A later stage of a transaction (it came by the inbox): runs when its
    /// part is active, else waits with it.
    func txStage(_ m: ShardMessage) {
        drainLaneIfNeeded()
        guard let item = txq.find(m.txid) else {
            preconditionFailure("stage of a transaction this shard does not hold")
        }
        if item.active { runTxWork(item, m) } else { item.work.append(m) }
    }

    func activate(_ item: TxItem) {
        item.active = true
        switch item.kind {
        case .tx:
            while !item.work.isEmpty && !item.finished {
                let m = item.work.removeFirst()
                runTxWork(item, m)
            }
        case .parkedBatch(let m):
            runRequests(m)
        case .parkedClient(let c):
            if c.closed || c.closing {
                finish(item)
            } else {
                c.stalled = false
                resumeLater(c)
            }
        }
    }

    func runTxWork(_ item: TxItem, _ m: ShardMessage) {
        let final = m.txFinal
        runRequests(m)
        if final { finish(item) }
    }

    /// The part is done here: its locks go, and whatever now heads the queue runs.
    func finish(_ item: TxItem) {
        if item.finished { return }
        item.finished = true
        locks.release(item.locks)
        txq.remove(item)
        promote()
    }

    func promote() {
        if promoting {
            promoteAgain = true
            return
        }
        promoting = true
        repeat {
            promoteAgain = false
            while let h = txq.head, !h.active { activate(h) }
        } while promoteAgain
        promoting = false
    }

    /// Whether `spec` with arguments `a` would touch keys a queued or running
    /// part has locked. Only called when some lock is held.
    func conflicts(_ spec: CommandSpec, _ a: ArgVector, db: Int) -> Bool {
        if case .local = spec.route { return false }
        if case .server = spec.route { return false }
        if locks.wholeExclusive > 0 { return true }
        let write = spec.mayWrite
        if write && locks.wholeShared > 0 { return true }
        var hit = false
        if spec.forEachKey(a, { i in if !hit && locks.conflicts(LockKey(db: db, a[i]), exclusive: write) { hit = true } }) {
            return locks.holds != 0
        }
        return hit
    }

    func commandLocks(_ spec: CommandSpec, _ a: ArgVector, db: Int) -> LockSet {
        var s = LockSet()
        let write = spec.mayWrite
        if spec.firstKey <= 0 && spec.keysOf == nil {
            // Keyless data commands (SCAN) only wait for a borrowed shard.
            s.whole = .shared
            return s
        }
        if spec.forEachKey(a, { i in s.add(LockKey(db: db, a[i]), exclusive: write) }) {
            s.whole = write ? .exclusive : .shared
        }
        return s
    }

    func parkedBatchAhead(_ m: ShardMessage) -> Bool {
        guard let c = m.client else { return false }
        for i in txq.items {
            if case .parkedBatch(let b) = i.kind, b.source == m.source, b.client === c { return true }
        }
        return false
    }

    /// A forwarded batch stops at `off`, before a command whose keys are locked.
    func parkBatch(_ m: ShardMessage, at off: Int, _ set: LockSet) {
        m.resumeAt = off
        let item = TxItem(txid: 0, kind: .parkedBatch(m), locks: set)
        _ = locks.acquire(set)
        txq.append(item)
        m.parkItem = item
    }

    /// A local connection stops before a command whose keys are locked; the
    /// command stays in its input buffer and runs when the wait is over.
    func parkClient(_ c: Client, _ set: LockSet) {
        let item = TxItem(txid: 0, kind: .parkedClient(c), locks: set)
        _ = locks.acquire(set)
        txq.append(item)
        c.parkItem = item
        c.stalled = true
    }

    /// Client work resumed from inside shard machinery runs from the loop,
    /// never nested in the code that released it.
    func resumeLater(_ c: Client) {
        resumeQueue.append(c)
    }

    func resumeDeferred() {
        var rounds = 0
        while !resumeQueue.isEmpty && rounds < 8 {
            rounds += 1
            let list = resumeQueue
            resumeQueue.removeAll(keepingCapacity: true)
            for c in list {
                if c.closed || c.closing {
                    if let it = c.parkItem { c.parkItem = nil; finish(it) }
                    continue
                }
                if c.stalled || c.barrier != nil { continue }
                // A paused reader resumes through resumeReading; a half-closed one reads no more.
                if c.recvPaused && !c.peerClosed { continue }
                if !c.inbuf.isEmpty {
                    let used = process(c, UnsafePointer(c.inbuf.base), c.inbuf.count)
                    c.inbuf.consumeFront(used)
                }
                closeIfPeerGone(c)
            }
        }
    }

    /// EXEC runs commands against shards that are locked for it: their
    /// owners touch nothing of theirs until it releases them.
    func withLentShard(_ shard: Int, _ body: () -> Void) {
        if shard == execShard {
            body()
            return
        }
        let savedStore = store, savedShard = execShard, savedWatches = watches, savedBlocked = blocked
        let h = state.handles[shard]
        store = h.store!
        watches = h.watches!
        blocked = h.blocked!
        execShard = shard
        body()
        store = savedStore
        watches = savedWatches
        blocked = savedBlocked
        execShard = savedShard
    }
}
