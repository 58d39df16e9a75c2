import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Start-up with appendonly yes: the manifest, then the base (RDB preamble
/// or AOF commands), then the incr files in order, each command replayed
/// through the normal executor (`execute`) on worker 0 with every shard
/// lent to it, before any worker serves a client. With no AOF yet, a base of
/// the (empty) dataset and a first incr file are created, as Redis 7.0 does.
extension Worker {
    func aofStartup() -> Bool {
        let log = state.logger
        let p = aofPaths
        guard shardCount <= 64 else {
            log.warning("appendonly yes needs at most 64 shards (this server has \(shardCount))")
            return false
        }
        state.aof.fsyncMode.store(AofFsync(state.config.get("appendfsync")).rawValue)
        state.aof.timestamps.store(state.config.get("aof-timestamp-enabled") == "yes" ? 1 : 0)
        if mkdir(p.dir, 0o755) != 0 && errno != EEXIST {
            log.warning("Can't open or create append-only dir \(p.dir): \(String(cString: strerror(errno)))")
            return false
        }
        guard let text = readWholeFile(p.manifest) else {
            // A Redis < 7.0 single-file AOF would be upgraded by Redis; not here, and not dropped either.
            if access(p.name, F_OK) == 0 {
                log.warning("Found an old-style append only file \(p.name) (Redis < 7.0, no manifest): loading it is not supported yet. Load it with redis-server 7.0 and copy its \(p.dir) here.")
                return false
            }
            // No AOF yet: the dataset (empty) becomes the first base.
            return aofRewrite(start: true)
        }
        var m: AofManifest
        switch AofManifest.parse(String(decoding: text, as: UTF8.self)) {
        case .failure(let e):
            log.warning("\(e.message)")
            return false
        case .success(let x): m = x
        }
        let t0 = monotonicNanos()
        let stores = state.handles.map { $0.store! }
        var size = 0
        if let b = m.base {
            let path = p.path(b.name)
            guard let bytes = readWholeFile(path) else {
                log.warning("The AOF file \(b.name) doesn't exist")
                return false
            }
            size += bytes.count
            if bytes.count >= 5 && bytes[0..<5].elementsEqual("REDIS".utf8) {
                log.notice("Reading RDB base file on AOF loading...")
                switch loadRdb(into: stores, state, merge: false, path: path) {
                case .failure(let e):
                    log.warning("\(e.message)")
                    return false
                case .success(let r):
                    if let r {
                        for code in r.functions {
                            if case .failure(let e) = installLibrary(code, replace: false) {
                                log.warning("Failed loading library from the AOF base: \(e.message)")
                                return false
                            }
                        }
                        log.notice("Done loading RDB, keys loaded: \(r.keys), keys expired: \(r.expired).")
                    }
                }
            } else if !aofReplayFile(bytes, name: b.name, path: path, last: m.incrs.isEmpty) {
                return false
            }
            log.notice("DB loaded from base file \(b.name): \(seconds(since: t0)) seconds")
        }
        for (i, f) in m.incrs.enumerated() {
            let t1 = monotonicNanos()
            let path = p.path(f.name)
            guard let bytes = readWholeFile(path) else {
                log.warning("The AOF file \(f.name) doesn't exist")
                return false
            }
            guard aofReplayFile(bytes, name: f.name, path: path, last: i == m.incrs.count - 1) else { return false }
            size += fileSize(path)
            log.notice("DB loaded from incr file \(f.name): \(seconds(since: t1)) seconds")
        }
        log.notice("DB loaded from append only file: \(seconds(since: t0)) seconds")
        state.dirtyAtSave.store(totalDirty(stores))
        // History left by an interrupted rewrite is not needed.
        for h in m.history { unlink(p.path(h.name)) }
        m.history = []
        // Appends go to the last incr file; a manifest without one gets one.
        if m.incrs.isEmpty {
            m.incrs = [.init(name: p.incrName(m.nextIncrSeq), seq: m.nextIncrSeq, type: "i")]
            log.notice("Creating AOF incr file \(m.incrs[0].name) on server start")
        }
        let incr = p.path(m.incrs.last!.name)
        let fd = open(incr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            log.warning("Can't open the append-only file \(incr): \(String(cString: strerror(errno)))")
            return false
        }
        guard writeFileAtomically(p.manifest, dir: p.dir, tempName: "temp-\(p.name).manifest", m.text) else {
            close(fd)
            log.warning("Can't persist the AOF manifest file: \(String(cString: strerror(errno)))")
            return false
        }
        state.aof.manifest = m
        state.aof.baseSize.store(m.base.map { fileSize(p.path($0.name)) } ?? 0)
        for s in stores { s.deletions = DeletionLog() }
        state.aof.start(fd: fd, shards: shardCount, size: size)
        return true
    }

    private func seconds(since t: Int) -> String {
        let ms = (monotonicNanos() - t) / 1_000_000
        let frac = String(ms % 1000)
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }

    /// Replays one file; applies aof-load-truncated to a torn tail of the
    /// last file (truncating it to its last whole command, as Redis does).
    func aofReplayFile(_ bytes: [UInt8], name: String, path: String, last: Bool) -> Bool {
        let log = state.logger
        switch aofReplay(bytes) {
        case .done:
            return true
        case .bad(let off):
            log.warning("Bad file format reading the append only file \(name): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest> (offset \(off))")
            return false
        case .truncated(let valid):
            guard last && state.config.get("aof-load-truncated") != "no" else {
                log.warning("Unexpected end of file reading the append only file \(name). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
                return false
            }
            log.warning("!!! Warning: short read while loading the AOF file \(name)!!!")
            log.warning("!!! Truncating the AOF \(name) at offset \(valid) !!!")
            if truncate(path, off_t(valid)) != 0 {
                log.warning("Error truncating the AOF file \(name): \(String(cString: strerror(errno)))")
                return false
            }
            log.warning("AOF \(name) loaded anyway because aof-load-truncated is enabled")
            return true
        }
    }

    /// Runs every command of `bytes` with every shard lent to this worker
    /// (the walk itself: aofScan).
    func aofReplay(_ bytes: [UInt8]) -> AofScanEnd {
        // Before the loop runs: commands need the time (relative expiries, lazy expiry).
        now = wallMillis()
        var sinceClock = 0
        let c = Client(id: 0, fd: -1, index: -1, generation: 0, addr: "", laddr: "", now: now)
        c.authenticated = true
        c.closed = true
        c.replyMode = .off
        lentDepth += 1
        defer { lentDepth -= 1 }
        return bytes.withUnsafeBufferPointer { buf -> AofScanEnd in
            guard let p = buf.baseAddress else { return .done }
            return aofScan(p, buf.count, args: args, limits: trustedLimits) { off, used in
                sinceClock += 1
                if sinceClock >= 1024 {
                    sinceClock = 0
                    now = wallMillis()
                }
                execute(c, raw: p + off, rawCount: used)
            }
        }
    }
}

/// With appendonly yes, every worker waits here before serving: worker 0
/// loads the AOF once all workers exist (it borrows their shards), the
/// others go on when it is done. False: the server must not start.
func aofStartupGate<B: IOBackend>(_ w: Worker<B>) -> Bool {
    let aof = w.state.aof
    guard w.state.config.get("appendonly") == "yes" else { return true }
    aof.inited.add(1)
    if w.id != 0 {
        while aof.loaded.value == 0 { usleep(1000) }
        return aof.loaded.value == 1
    }
    while aof.inited.value < w.state.shardCount { usleep(1000) }
    let ok = w.aofStartup()
    aof.loaded.store(ok ? 1 : 2)
    return ok
}

extension Worker {
    /// INFO persistence's aof_* fields, as Redis 7.0 prints them.
    func aofInfoFields() -> [String] {
        let a = state.aof
        let on = aofCapturing
        var f = [
            "aof_enabled:\(on ? 1 : 0)", "aof_rewrite_in_progress:\(a.rewriting.value)", "aof_rewrite_scheduled:0",
            "aof_last_rewrite_time_sec:\(a.lastRewriteSecs.value)", "aof_current_rewrite_time_sec:-1",
            "aof_last_bgrewrite_status:\(a.lastRewriteOK.value != 0 ? "ok" : "err")",
            "aof_rewrites:\(a.rewrites.value)", "aof_rewrites_consecutive_failures:0",
            "aof_last_write_status:\(a.lastWriteOK.value != 0 ? "ok" : "err")", "aof_last_cow_size:0",
        ]
        if on {
            f += ["aof_current_size:\(a.currentSize.value)", "aof_base_size:\(a.baseSize.value)",
                  "aof_pending_rewrite:0", "aof_buffer_length:0", "aof_pending_bio_fsync:0", "aof_delayed_fsync:0"]
        }
        return f
    }
}
