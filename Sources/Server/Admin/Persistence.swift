import Commands
import Logging
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// SAVE and loading the dataset at start-up: Redis 7.0's RDB file
/// (Storage/RDB/RdbFile.swift) at `dir`/`dbfilename`.
///
/// SAVE is synchronous, as Redis's: with several shards it holds every
/// shard (a transaction over all of them, as a cross-shard EXEC), so the
/// file is one consistent snapshot, and writes it from the caller's worker.
/// BGSAVE and save points take a forkless snapshot instead
/// (Server/Persistence/Snapshot.swift, BackgroundSave.swift).
/// What a whole-dataset step does once every shard is held.
enum PersistStep: UInt8 {
    case save = 0
    /// SHUTDOWN SAVE: the server stops once the file is written.
    case shutdown = 1
    /// DEBUG RELOAD: save, empty, load the file back (flags below).
    case reload = 2
    /// BGSAVE: the cut of a background snapshot.
    case bgsave = 3
    /// BGREWRITEAOF and CONFIG SET appendonly yes (Persistence/AofRewrite.swift).
    case aofRewrite = 4
    case aofStart = 5
    /// FLUSHALL with save points: the emptied dataset replaces the file
    /// (not counted in rdb_saves, as Redis's flushAllDataAndResetRDB).
    case flushSave = 6

    static let noSave: UInt8 = 1, noFlush: UInt8 = 2, merge: UInt8 = 4
}

extension Worker {
    /// SAVE, SHUTDOWN SAVE and DEBUG RELOAD: at once with one shard,
    /// else once every shard is held.
    func persistCommand(_ c: Client, _ r: Reply, _ step: PersistStep, flags: UInt8 = 0) {
        if step == .save && bgsave.inProgress { return r.error("ERR Background save already in progress") }
        if shardCount == 1 || lentDepth > 0 {
            return runPersistStep(step, flags: flags, c, r)
        }
        let s = beginFanout(c, .save)
        s.saved.append(step.rawValue)
        s.saved.append(flags)
        c.barrier = s
        holdShards(s, c, Array(0..<shardCount))
    }

    /// Every shard is held: do the step, answer, release them.
    func completeSave(_ s: ReplyTicket, _ c: Client?) -> Bool {
        guard s.stage == 0 else { return false }
        let held = s.parts.map { $0.target }
        let b = s.saved.bytes
        runPersistStep(PersistStep(rawValue: b[0]) ?? .save, flags: b[1], nil, Reply(s.buf, proto: c?.proto ?? 2))
        s.stage = 1
        releaseShards(s, c, held)
        return true
    }

    /// `c` is the client to close for a shutdown answered inline (nil: the
    /// fan-out's client, which the stopping server drops).
    func runPersistStep(_ step: PersistStep, flags: UInt8, _ c: Client?, _ r: Reply) {
        let stores = state.handles.map { $0.store! }
        switch step {
        case .save:
            rdbSave(stores) ? r.ok() : r.error("ERR")
        case .bgsave:
            startBackgroundSave(stores, r)
        case .flushSave:
            _ = rdbSave(stores, counted: false)
        case .shutdown:
            abortBackgroundSave()
            guard rdbSave(stores) else { return r.error("ERR Errors trying to SHUTDOWN. Check logs.") }
            shutdownNow(c)
        case .aofRewrite:
            aofRewrite(start: false) ? r.simple("Background append only file rewriting started")
                : r.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        case .aofStart:
            aofRewrite(start: true) ? r.ok() : r.error("ERR Unable to turn on AOF. Check server logs.")
        case .reload:
            if flags & PersistStep.noSave == 0 && !rdbSave(stores) { return r.error("ERR") }
            // Emptying and loading are no changes to Redis's dirty counter.
            let unsaved = totalDirty(stores) &- state.dirtyAtSave.value
            defer { state.dirtyAtSave.store(totalDirty(stores) &- unsaved) }
            if flags & PersistStep.noFlush == 0 {
                // emptyData: WATCHers of keys that existed see the flush.
                for sh in 0..<shardCount {
                    withLentShard(sh) {
                        touchWatchedExisting(dbs: nil)
                        for ks in store.dbs { ks.removeAll() }
                    }
                }
            }
            switch loadRdb(into: stores, state, merge: flags & PersistStep.merge != 0) {
            case .success:
                state.logger.warning("DB reloaded by DEBUG RELOAD")
                r.ok()
            case .failure(let e):
                state.logger.warning("\(e.message)")
                r.error("ERR Error trying to load the RDB dump")
            }
        }
    }

    /// rdbSave: a temp file, fsynced, renamed over `dbfilename`.
    func rdbSave(_ stores: [ShardStore], counted: Bool = true) -> Bool {
        let log = state.logger
        let tmp = "temp-\(getpid()).rdb"
        let t = wallMillis()
        guard writeRdbFile(stores, path: tmp, at: t) else { return false }
        let name = state.config.dbfilename
        if rename(tmp, name) != 0 {
            log.warning("Error moving temp DB file \(tmp) on the final destination \(name) (in server root dir \(currentDirectory())): \(String(cString: strerror(errno)))")
            unlink(tmp)
            return false
        }
        log.notice("DB saved on disk")
        state.lastSave.store(Int(t / 1000))
        state.dirtyAtSave.store(totalDirty(stores))
        if counted { state.rdbSaves.add(1) }
        bgsave.lastOK.store(1)
        return true
    }

    /// The dataset as an RDB file at `path` (fsynced; removed on failure).
    /// The AOF base uses it too (`aofBase`: Redis's aof-base aux field).
    func writeRdbFile(_ stores: [ShardStore], path tmp: String, at t: Int64, aofBase: Bool = false) -> Bool {
        let log = state.logger
        guard let f = RdbFileWriter(path: tmp) else {
            log.warning("Failed opening the temp RDB file \(tmp) (in server root dir \(currentDirectory())) for saving: \(String(cString: strerror(errno)))")
            return false
        }
        f.header(version: redisCompatVersion, ctime: Int(t / 1000), usedMemory: usedMemory(), aofBase: aofBase)
        for l in state.functions.all { f.function(l.code) }
        for db in 0..<state.config.databases {
            var keys = 0, expires = 0
            for s in stores {
                let tb = s.dbs[db].table
                keys += tb.count
                if tb.count > 0 { for i in 0..<tb.capacity where tb.isLive(i) && tb.entry(at: i).hasExpire { expires += 1 } }
            }
            if keys == 0 { continue }
            f.database(db, keys: keys, expires: expires)
            for s in stores {
                let tb = s.dbs[db].table
                if tb.count == 0 { continue }
                for i in 0..<tb.capacity where tb.isLive(i) {
                    let e = tb.entry(at: i)
                    if !f.key(e) {
                        log.warning("Write error saving DB on disk: a \(e.type.name) value has no RDB form yet")
                        unlink(tmp)
                        return false
                    }
                }
            }
        }
        guard f.finish() else {
            log.warning("Write error saving DB on disk: \(String(cString: strerror(errno)))")
            unlink(tmp)
            return false
        }
        return true
    }
}

/// Every shard's running `dirty` total (the shards are held or not running).
func totalDirty(_ stores: [ShardStore]) -> Int {
    var n = 0
    for s in stores { n = n &+ s.dirty }
    return n
}

func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    return getcwd(&buf, buf.count) != nil ? String(cString: buf) : "?"
}

/// Loads `dbfilename` (if there is one) into fresh shard stores before the
/// workers start. False: the file is unreadable or corrupt, and the server
/// must not start.
func loadDataset(_ state: ServerState) -> Bool {
    let log = state.logger
    let config = state.config
    let stores = (0..<state.shardCount).map { _ in ShardStore(databases: config.databases, notify: state.notify) }
    for (i, h) in state.handles.enumerated() { h.store = stores[i] }
    Rdb.checksum.store((config.get("rdbchecksum") ?? "yes") == "yes", ordering: .relaxed)
    // With appendonly yes the AOF is the dataset, as in Redis (Persistence/AofLoad.swift).
    if state.config.get("appendonly") == "yes" { return true }
    let t0 = monotonicNanos()
    defer { state.dirtyAtSave.store(totalDirty(stores)) }
    switch loadRdb(into: stores, state, merge: false) {
    case .failure(let e):
        log.warning("\(e.message)")
        return false
    case .success(nil):
        return true
    case .success(let r?):
        if !r.producer.isEmpty { log.notice("Loading RDB produced by version \(r.producer)") }
        state.pendingFunctions = r.functions
        log.notice("Done loading RDB, keys loaded: \(r.keys), keys expired: \(r.expired).")
        let secs = Double(monotonicNanos() - t0) / 1e9
        log.notice("DB loaded from disk: \(secs) seconds")
        return true
    }
}

/// Reads `dbfilename` into `stores`, each key into the shard that owns it.
/// Nil: there is no file. `merge`: a key already there is replaced
/// (DEBUG RELOAD MERGE); otherwise it is an error, as in Redis.
func loadRdb(into stores: [ShardStore], _ state: ServerState, merge: Bool,
             path: String? = nil) -> Result<RdbLoadResult?, RdbLoadError> {
    let config = state.config
    let n = stores.count
    let path = path ?? config.dbfilename
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
        if errno == ENOENT { return .success(nil) }
        return .failure(RdbLoadError("Fatal error loading the DB: \(String(cString: strerror(errno))). Exiting."))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return .failure(RdbLoadError("Fatal error loading the DB: fstat failed. Exiting.")) }
    var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
    var got = 0
    while got < bytes.count {
        let r = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
        if r < 0 && errno == EINTR { continue }
        if r <= 0 { break }
        got += r
    }
    if got < bytes.count { bytes.removeSubrange(got...) }
    let now = wallMillis()
    let lru = lruClock(now)
    let result = bytes.withUnsafeBufferPointer { buf in
        loadRdbFile(buf, databases: config.databases, now: now) { key, db, value, expireAt in
            key.withUnsafeBufferPointer { k in
                let kp = k.baseAddress ?? UnsafePointer(bitPattern: 8)!
                let ks = stores[shardOf(kp, k.count, shards: n)].dbs[db]
                let h = hashBytes(kp, k.count)
                let slot = ks.table.find(kp, k.count, hash: h)
                if slot >= 0 && !merge { return false }
                ks.put(value.makeEntry(key: kp, keyLen: k.count, expireAt: expireAt, lru: lru), at: slot, hash: h)
                return true
            }
        }
    }
    return result.map { Optional($0) }
}
