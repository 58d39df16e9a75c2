import Logging
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// What a finished background snapshot reports to whoever asked for it.
struct SnapshotResult: Sendable {
    let ok: Bool
    /// Stopped on purpose (SHUTDOWN, FLUSHALL), not failed.
    let cancelled: Bool
    /// Keys written (every shard, every database).
    let keys: Int
    /// Record bytes written by copy-on-write (a write reached an entry the
    /// walk had not: Redis's rdb_last_cow_size, in RingKV's terms).
    let cowBytes: Int
    let startedMillis: Int64
    let endedMillis: Int64
}

/// One database's section of the file: SELECTDB, RESIZEDB with the counts
/// at the cut, then every shard's records for it.
struct SnapshotSection {
    let db: Int
    let keys: Int
    let expires: Int
}

/// The single writer thread of a background snapshot, and the channel the
/// shards feed it through.
///
/// An RDB file wants each database's keys in one contiguous section after
/// its SELECTDB/RESIZEDB, so the shards and the writer go through the
/// sections in lockstep: `section` (written by the writer only) names the
/// section being written; every shard walks its keyspace for that database
/// and pushes record chunks, then an end marker; when all shards have ended
/// it, the writer moves on. A shard whose part is done waits for the others
/// while serving clients. Copy-on-write records for a database the writer
/// has not reached stay buffered in that keyspace's snapshot until then
/// (Storage/KeyspaceSnapshot.swift), so nothing is written out of place and
/// nothing but those records is kept.
final class SnapshotJob: @unchecked Sendable {
    let path: String
    let tmpPath: String
    let sections: [SnapshotSection]
    let functions: [[UInt8]]
    let shards: Int
    let aofBase: Bool
    let memAtStart: Int
    let startedMillis: Int64
    let compress: Bool
    let onDone: @Sendable (SnapshotResult) -> Void
    let log: Logger

    /// The section the writer is on; `sections.count` once all are written.
    let section = AtomicCounter(0)
    /// Bytes pushed and not yet written: shards pause their walks above a bound.
    let backlog = AtomicCounter(0)
    /// Set on a write error or an abort: shards stop pushing (they still
    /// finish their walks, which leave every entry marked).
    let aborted = AtomicCounter(0)
    let cancelled = AtomicCounter(0)
    let cowBytes = AtomicCounter(0)
    let keys = AtomicCounter(0)
    /// Keys written so far, summed as shards go (INFO current_save_keys_processed).
    let progress = AtomicCounter(0)
    let failedValues = AtomicCounter(0)
    /// Parts still running: one per shard plus the writer. The last one out
    /// reports the result, so a new snapshot never meets an old one's walk.
    let running: AtomicCounter
    private var ok = false

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Guarded by `mutex`.
    private var queue: [(bytes: [UInt8], end: Bool)] = []
    private var queuedBytes = 0

    /// Small: the backlog is memory the snapshot adds, and a disk that keeps
    /// up drains it within a slice or two.
    static let maxBacklog = 8 << 20
    static let wakeBytes = 1 << 20

    init(path: String, sections: [SnapshotSection], functions: [[UInt8]], shards: Int, aofBase: Bool,
         compress: Bool, log: Logger, onDone: @escaping @Sendable (SnapshotResult) -> Void) {
        self.path = path
        tmpPath = "temp-\(getpid())-\(wallMillis()).rdb"
        self.sections = sections
        self.functions = functions
        self.shards = shards
        self.aofBase = aofBase
        self.compress = compress
        self.log = log
        self.onDone = onDone
        memAtStart = usedMemory()
        startedMillis = wallMillis()
        running = AtomicCounter(shards + 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    var isBacklogged: Bool { backlog.value > SnapshotJob.maxBacklog }

    /// A shard's records for the current section (`end`: its last ones).
    func push(_ bytes: [UInt8], end: Bool) {
        if bytes.isEmpty && !end { return }
        if aborted.value != 0 { return }
        backlog.add(bytes.count)
        pthread_mutex_lock(mutex)
        queue.append((bytes, end))
        queuedBytes += bytes.count
        // The writer is woken per megabyte (or end marker), not per slice:
        // on a machine without a spare core each wake-up takes a shard's CPU.
        // It also looks every few milliseconds by itself.
        if end || queuedBytes >= SnapshotJob.wakeBytes { pthread_cond_signal(cond) }
        pthread_mutex_unlock(mutex)
    }

    func abort() {
        cancelled.store(1)
        aborted.store(1)
        pthread_mutex_lock(mutex)
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// A shard's walks are all complete.
    func shardFinished(cowBytes c: Int, keys k: Int) {
        cowBytes.add(c)
        keys.add(k)
        partDone()
    }

    private func partDone() {
        if running.add(-1) == 1 {
            onDone(SnapshotResult(ok: ok && failedValues.value == 0, cancelled: cancelled.value != 0,
                                  keys: keys.value, cowBytes: cowBytes.value,
                                  startedMillis: startedMillis, endedMillis: wallMillis()))
        }
    }

    /// Starts the writer thread.
    func start() {
        let ctx = Unmanaged.passRetained(self).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { p in
            let job = Unmanaged<SnapshotJob>.fromOpaque(p!).takeRetainedValue()
            job.run()
            return nil
        }, ctx)
        if rc != 0 {
            Unmanaged<SnapshotJob>.fromOpaque(ctx).release()
            log.warning("Can't save in background: pthread_create: \(String(cString: strerror(rc)))")
            aborted.store(1)
            section.store(sections.count)
            partDone()
        } else {
            pthread_detach(t)
        }
    }

    /// Waits for the next chunks; empty once aborted.
    private func take() -> [(bytes: [UInt8], end: Bool)] {
        pthread_mutex_lock(mutex)
        while queue.isEmpty && aborted.value == 0 {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            ts.tv_nsec += 5_000_000
            if ts.tv_nsec >= 1_000_000_000 {
                ts.tv_sec += 1
                ts.tv_nsec -= 1_000_000_000
            }
            pthread_cond_timedwait(cond, mutex, &ts)
        }
        let q = queue
        queue = []
        queuedBytes = 0
        pthread_mutex_unlock(mutex)
        return q
    }

    private func run() {
        defer {
            section.store(sections.count)
            partDone()
        }
        guard let f = RdbFileWriter(path: tmpPath, compress: compress) else {
            log.warning("Failed opening the temp RDB file \(tmpPath) (in server root dir \(currentDirectory())) for saving: \(String(cString: strerror(errno)))")
            aborted.store(1)
            return
        }
        f.header(version: redisCompatVersion, ctime: Int(startedMillis / 1000), usedMemory: memAtStart, aofBase: aofBase)
        for code in functions { f.function(code) }
        for (i, s) in sections.enumerated() {
            f.database(s.db, keys: s.keys, expires: s.expires)
            section.store(i)
            var ended = 0
            while ended < shards && aborted.value == 0 {
                for c in take() {
                    backlog.add(-c.bytes.count)
                    if !c.bytes.isEmpty { f.records(c.bytes) }
                    if c.end { ended += 1 }
                }
                if f.failed { aborted.store(1) }
            }
        }
        if aborted.value != 0 || !f.finish() {
            if !f.failed && aborted.value == 0 {
                log.warning("Write error saving DB on disk: \(String(cString: strerror(errno)))")
            }
            unlink(tmpPath)
            return
        }
        if failedValues.value != 0 {
            log.warning("Write error saving DB on disk: a value has no RDB form yet")
            unlink(tmpPath)
            return
        }
        if rename(tmpPath, path) != 0 {
            log.warning("Error moving temp DB file \(tmpPath) on the final destination \(path) (in server root dir \(currentDirectory())): \(String(cString: strerror(errno)))")
            unlink(tmpPath)
            return
        }
        ok = true
    }
}
