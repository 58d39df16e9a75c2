import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A forkless, point-in-time snapshot of the whole dataset, streamed as an
/// RDB file by one writer thread (SnapshotWriter.swift) while every shard
/// keeps serving. BGSAVE and save points use it; so can an AOF rewrite
/// (`aofBase`: the file is an AOF base, aux `aof-base` 1).
///
/// The cut: with every shard held (a transaction over all of them, as SAVE
/// and a cross-shard EXEC), each keyspace flips its snapshot parity and gets
/// its `KeyspaceSnapshot` (O(1) per keyspace), the counts for RESIZEDB are
/// read, and the shards are released. From then on each shard writes its
/// share from its own loop (`snapshotStep`), a bounded slice per iteration,
/// and copy-on-write in Keyspace saves any entry a write reaches first.
struct SnapshotRequest: Sendable {
    let path: String
    let aofBase: Bool
    let done: @Sendable (SnapshotResult) -> Void
}

/// One shard's part of a running snapshot: its keyspace snapshots per
/// section of the file. Touched by the shard's owner only.
final class ShardSnapshot {
    let job: SnapshotJob
    let keyspaces: [Keyspace?]
    let parts: [KeyspaceSnapshot?]
    var section = -1
    /// The end marker of `section` is sent: wait for the other shards.
    var ended = false
    /// Keys already counted in the job's progress.
    var reported = 0
    /// Pacing while clients keep the shard busy: the next slice may start
    /// at `nextSlice` (monotonic ns); `commandsSeen` (a sum of activity
    /// counters) tells a busy loop from an idle one.
    var nextSlice = 0
    var commandsSeen = 0
    /// rdb-key-save-delay's pacing: no slice before this (monotonic ns).
    var pacedUntil = 0

    /// rdb-key-save-delay: µs per key written (negative n: 1 µs per -n
    /// keys), Redis's knob for keeping a save running in tests. Redis's child
    /// sleeps; a shard must go on serving, so here it paces the walk instead.
    static let keySaveDelay = Atomic<Int>(0)

    /// A shard serving clients gives the walk at most 1/`busyShare` of its
    /// time, so their throughput stays above 80% of what it was; an idle
    /// shard walks flat out.
    static let busyShare = 6

    /// Table slots and buffered bytes per loop iteration: a slice costs
    /// a few hundred microseconds, so a pipeline that spans shards waits
    /// little for whichever of them is walking.
    static let sliceSlots = 1024
    static let sliceBytes = 64 << 10

    init(job: SnapshotJob, keyspaces: [Keyspace?], parts: [KeyspaceSnapshot?]) {
        self.job = job
        self.keyspaces = keyspaces
        self.parts = parts
    }

    /// Whether the loop should poll without blocking: there is walking to do now.
    var hasWork: Bool {
        job.aborted.value != 0 || (job.section.value != section || !ended) && !job.isBacklogged
            && monotonicNanos() >= max(nextSlice, pacedUntil)
    }

    /// One slice; true once this shard is finished with the snapshot.
    func advance() -> Bool {
        if job.aborted.value != 0 { return drainAborted() }
        let cur = job.section.value
        if cur != section {
            section = cur
            ended = false
        }
        if section >= parts.count { return finish() }
        if ended || job.isBacklogged { return false }
        guard let p = parts[section], let ks = keyspaces[section] else {
            job.push([], end: true)
            ended = true
            return false
        }
        let delay = ShardSnapshot.keySaveDelay.load(ordering: .relaxed)
        let perKey = delay == 0 ? 0 : delay > 0 ? delay * 1000 : max(1000 / -delay, 1)
        // Paced slices of about a millisecond: the loop polls at that grain.
        let slots = perKey == 0 ? ShardSnapshot.sliceSlots : min(ShardSnapshot.sliceSlots, max(1, 1_000_000 / perKey))
        let done = p.step(ks, slots: slots, bytes: ShardSnapshot.sliceBytes)
        if done && p.failed { job.failedValues.add(1) }
        var keys = 0
        for case let q? in parts { keys += q.keys }
        if perKey != 0 { pacedUntil = monotonicNanos() + (keys - reported) * perKey }
        job.progress.add(keys - reported)
        reported = keys
        job.push(p.take(), end: done)
        ended = done
        return false
    }

    /// After an abort the walks still run to the end (so every entry is
    /// marked and the next snapshot starts from a clean state); their
    /// records are dropped.
    private func drainAborted() -> Bool {
        var all = true
        for (i, p) in parts.enumerated() {
            guard let p, let ks = keyspaces[i] else { continue }
            if !p.step(ks, slots: ShardSnapshot.sliceSlots * 16, bytes: Int.max) { all = false }
            _ = p.take()
        }
        return all ? finish() : false
    }

    private func finish() -> Bool {
        var cow = 0, keys = 0
        for case let p? in parts {
            cow += p.cowBytes
            keys += p.keys
        }
        job.shardFinished(cowBytes: cow, keys: keys)
        return true
    }
}

extension Worker {
    /// The cut. Every shard in `stores` must be held by this thread (or be
    /// the only one). Returns at once; `request.done` runs on the writer
    /// thread or the last shard to finish, once the file is renamed into
    /// place (or the snapshot failed).
    @discardableResult
    func beginSnapshot(_ stores: [ShardStore], _ request: SnapshotRequest) -> SnapshotJob {
        let databases = stores.first?.dbs.count ?? 0
        var sections: [SnapshotSection] = []
        var perShard = [[Keyspace?]](repeating: [], count: stores.count)
        var perShardParts = [[KeyspaceSnapshot?]](repeating: [], count: stores.count)
        let compress = Rdb.compression.load(ordering: .relaxed)
        for db in 0..<databases {
            var keys = 0, expires = 0
            for s in stores {
                keys += s.dbs[db].count
                expires += s.dbs[db].expiringCount
            }
            if keys > 0 { sections.append(SnapshotSection(db: db, keys: keys, expires: expires)) }
            for (i, s) in stores.enumerated() {
                let ks = s.dbs[db]
                // Every keyspace flips, empty or not: the parity must agree
                // everywhere an entry can move to (MOVE, SWAPDB, RENAME).
                let part = ks.beginSnapshot(compress: compress)
                if keys > 0 {
                    perShard[i].append(part == nil ? nil : ks)
                    perShardParts[i].append(part)
                }
            }
        }
        let job = SnapshotJob(path: request.path, sections: sections, functions: state.functions.all.map { $0.code },
                              shards: stores.count, aofBase: request.aofBase, compress: compress,
                              log: state.logger, onDone: request.done)
        for i in 0..<stores.count {
            state.handles[i].snapshot = ShardSnapshot(job: job, keyspaces: perShard[i], parts: perShardParts[i])
        }
        job.start()
        for i in 0..<stores.count where i != id { wakeIfSleeping(state.handles[i]) }
        return job
    }

    /// The loop's share of a running snapshot: one slice, unless an EXEC or
    /// a script holds this shard (its holder reads and writes the data).
    func snapshotStep() {
        guard lentDepth == 0, locks.wholeExclusive == 0, let sn = handle.snapshot else { return }
        let t = monotonicNanos()
        // Commands of its own clients, or forwarded ones that read or wrote here.
        let activity = totalCommands &+ stats.keyspaceHits &+ stats.keyspaceMisses &+ store.dirty
        let busy = activity != sn.commandsSeen
        sn.commandsSeen = activity
        if t < sn.pacedUntil || busy && t < sn.nextSlice { return }
        if sn.advance() {
            handle.snapshot = nil
            return
        }
        sn.nextSlice = busy ? t + (monotonicNanos() - t) * ShardSnapshot.busyShare : 0
    }

    /// The poll timeout while a snapshot runs: none while there is walking
    /// to do, else short, to see the writer move on to the next section.
    func snapshotPollTimeout(_ t: Int) -> Int {
        guard let sn = handle.snapshot else { return t }
        return sn.hasWork ? 0 : min(t, 1)
    }
}
