import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// BGSAVE, save points, stop-writes-on-bgsave-error and the INFO fields of
/// background saves, on top of the forkless snapshot (Snapshot.swift).
/// One snapshot runs at a time, server-wide.
final class BackgroundSaves: @unchecked Sendable {
    /// 0: none; 1: a cut is on its way (shards being held); 2: writing.
    let phase = AtomicCounter(0)
    /// BGSAVE SCHEDULE (or BGSAVE inside EXEC): start when possible.
    let scheduled = AtomicCounter(0)
    let lastOK = AtomicCounter(1)
    /// Seconds: the last attempt (Redis's lastbgsave_try), for the 5 s retry delay after a failure.
    let lastTry = AtomicCounter(0)
    let lastSeconds = AtomicCounter(-1)
    let startedMillis = AtomicCounter(0)
    let lastCowBytes = AtomicCounter(0)
    let keysTotal = AtomicCounter(0)
    /// stop-writes-on-bgsave-error with save points and a failed last save:
    /// write commands (and PING) get -MISCONF. One load per command.
    let denyWrites = AtomicCounter(0)
    /// SIGTERM/SIGINT with save points: worker 0 saves, then stops.
    let shutdownRequested = AtomicCounter(0)
    /// Each shard's `dirty` as of its last cron tick, for the save points.
    let dirty: [AtomicCounter]
    /// The running job, for INFO's progress and for SHUTDOWN to abort it.
    private let jobLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var job: SnapshotJob?

    init(shards: Int) {
        dirty = (0..<shards).map { _ in AtomicCounter(0) }
        pthread_mutex_init(jobLock, nil)
    }

    var running: SnapshotJob? {
        pthread_mutex_lock(jobLock)
        defer { pthread_mutex_unlock(jobLock) }
        return job
    }

    func setRunning(_ j: SnapshotJob?) {
        pthread_mutex_lock(jobLock)
        job = j
        pthread_mutex_unlock(jobLock)
    }

    /// Claims the right to start a snapshot.
    func claim() -> Bool { phase.compareExchange(0, 1) }

    var inProgress: Bool { phase.value != 0 }
}

/// Redis's shared.bgsaveerr.
let misconfError = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

extension Worker {
    var bgsave: BackgroundSaves { state.bgsave }

    /// BGSAVE [SCHEDULE], as Redis 7.0's bgsaveCommand.
    func bgsaveCommand(_ c: Client, _ r: Reply) {
        // SCHEDULE differs only while another child (an AOF rewrite) runs.
        if args.count > 1 && !(args.count == 2 && args[1].equalsLower("schedule")) { return r.error(Err.syntax) }
        if bgsave.inProgress { return r.error("ERR Background save already in progress") }
        // Inside EXEC (which holds the shards it runs on) Redis only schedules it.
        if lentDepth > 0 {
            bgsave.scheduled.store(1)
            return r.simple("Background saving scheduled")
        }
        guard bgsave.claim() else { return r.error("ERR Background save already in progress") }
        persistCommand(c, r, .bgsave)
    }

    /// The cut, with every shard held: starts the writer and answers.
    func startBackgroundSave(_ stores: [ShardStore], _ r: Reply?) {
        let b = bgsave
        let dirtyAtCut = totalDirty(stores)
        let st = state
        b.lastTry.store(Int(now / 1000))
        b.startedMillis.store(Int(wallMillis()))
        st.rdbSaves.add(1)
        var keys = 0
        for s in stores { for ks in s.dbs { keys += ks.count } }
        b.keysTotal.store(keys)
        st.logger.notice("Background saving started")
        let job = beginSnapshot(stores, SnapshotRequest(path: st.config.dbfilename, aofBase: false) { res in
            b.lastSeconds.store(Int((res.endedMillis - res.startedMillis) / 1000))
            b.lastCowBytes.store(res.cowBytes)
            if res.ok {
                st.logger.notice("DB saved on disk")
                st.logger.notice("Background saving terminated with success")
                st.lastSave.store(Int(res.endedMillis / 1000))
                // Changes made while it was written stay unsaved, as Redis's dirty_before_bgsave.
                st.dirtyAtSave.store(dirtyAtCut)
                b.lastOK.store(1)
            } else if res.cancelled {
                // As a child Redis kills on purpose: the last status stays.
                st.logger.warning("Background saving terminated by signal 10")
            } else {
                st.logger.warning("Background saving error")
                b.lastOK.store(0)
            }
            b.setRunning(nil)
            b.phase.store(0)
        })
        b.setRunning(job)
        b.phase.store(2)
        r?.simple("Background saving started")
    }

    /// Cron: publish this shard's dirty count; on worker 0, start what is
    /// due: a SIGTERM save, a scheduled BGSAVE, a save point.
    func persistenceCron() {
        // A holder (EXEC, script, colocated command) may be writing the
        // store: the count waits for its release (ThreadSanitizer).
        if locks.wholeExclusive == 0 { bgsave.dirty[id].store(store.dirty) }
        guard id == 0 else { return }
        let b = bgsave
        let cfg = state.config
        let points = cfg.saveParams
        let stopWrites = (cfg.get("stop-writes-on-bgsave-error") ?? "yes") == "yes"
        b.denyWrites.store(stopWrites && !points.isEmpty && b.lastOK.value == 0 ? 1 : 0)
        if b.shutdownRequested.exchange(0) != 0 { return internalPersist(.shutdown) }
        if b.inProgress { return }
        let secs = Int(now / 1000)
        let mayTry = secs - b.lastTry.value > 5 || b.lastOK.value == 1
        if b.scheduled.value != 0 && mayTry {
            if b.claim() {
                b.scheduled.store(0)
                internalPersist(.bgsave)
            }
            return
        }
        var dirty = 0
        for d in b.dirty { dirty = dirty &+ d.value }
        dirty = dirty &- state.dirtyAtSave.value
        for sp in points where dirty >= sp.changes && secs - state.lastSave.value > sp.seconds && mayTry {
            if b.claim() {
                state.logger.notice("\(sp.changes) changes in \(sp.seconds) seconds. Saving...")
                internalPersist(.bgsave)
            }
            return
        }
    }

    /// FLUSHALL with save points, as Redis: a running background save is
    /// dropped (its file would bring the flushed keys back) and the empty
    /// dataset is saved, in the transaction order right after the flush.
    func saveAfterFlushall() {
        abortBackgroundSave()
        internalPersist(.flushSave)
    }

    /// A persistence step nobody waits for an answer to: the shards are
    /// held through a connection that is never read or written.
    func internalPersist(_ step: PersistStep) {
        let c = Client(id: 0, fd: -1, index: -1, generation: 0, addr: "", laddr: "", now: now)
        c.authenticated = true
        c.closed = true
        if shardCount == 1 || lentDepth > 0 {
            return runPersistStep(step, flags: 0, nil, Reply(ByteBuf(capacity: 64), proto: 2))
        }
        let s = beginFanout(c, .save)
        s.saved.append(step.rawValue)
        s.saved.append(0)
        holdShards(s, c, Array(0..<shardCount))
    }

    /// -MISCONF for a write command or PING while saves fail (Redis's
    /// writeCommandsDeniedByDiskError); true when refused.
    func deniedByDiskError(_ spec: CommandSpec, _ c: Client) -> Bool {
        guard spec.mayWrite || spec.name == "ping" else { return false }
        c.multi?.aborted = true
        countError("MISCONF")
        Reply(replyBuffer(c), proto: c.proto).error(string: misconfError)
        return true
    }

    /// SHUTDOWN (or a sync SAVE at shutdown) stops a running background
    /// save first, as Redis kills its child: the temp file goes away.
    func abortBackgroundSave() {
        guard let j = bgsave.running else { return }
        state.logger.warning("There is a child saving an .rdb. Killing it!")
        j.abort()
    }

    /// INFO persistence's RDB lines that a background save moves.
    func rdbInfoFields(dirty: Int) -> [String] {
        let b = bgsave
        let running = b.phase.value == 2
        let started = b.startedMillis.value
        let j = running ? b.running : nil
        let total = b.keysTotal.value
        let done = j?.progress.value ?? 0
        let perc = running && total > 0 ? Double(done) * 100 / Double(total) : 0
        let pct = Int((perc * 100).rounded())
        return [
            "current_fork_perc:\(pct / 100).\(pct % 100 < 10 ? "0" : "")\(pct % 100)",
            "current_save_keys_processed:\(running ? done : 0)",
            "current_save_keys_total:\(running ? total : 0)",
            "rdb_changes_since_last_save:\(dirty)",
            "rdb_bgsave_in_progress:\(running ? 1 : 0)",
            "rdb_last_save_time:\(state.lastSave.value)",
            "rdb_last_bgsave_status:\(b.lastOK.value != 0 ? "ok" : "err")",
            "rdb_last_bgsave_time_sec:\(b.lastSeconds.value)",
            "rdb_current_bgsave_time_sec:\(running ? (Int(wallMillis()) - started) / 1000 : -1)",
            "rdb_saves:\(state.rdbSaves.value)",
            "rdb_last_cow_size:\(b.lastCowBytes.value)",
        ]
    }
}
