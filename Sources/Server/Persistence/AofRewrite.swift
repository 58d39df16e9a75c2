import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// BGREWRITEAOF, CONFIG SET appendonly yes|no, and the files behind them.
///
/// A rewrite runs with every shard held (PersistStep.aofRewrite, as SAVE
/// holds them): the new base is the dataset at that instant, every record
/// handed over before the hold is covered by it, and the writer switches to
/// a fresh incr file before any shard runs again. It is synchronous: the
/// reply ("Background append only file rewriting started") leaves once the
/// new manifest is in place. `aofWriteBase` is the one call that writes the
/// base, so a forkless snapshot can replace it.
extension Worker {
    var aofPaths: AofPaths {
        AofPaths(dir: state.config.get("appenddirname") ?? "appendonlydir",
                 name: state.config.get("appendfilename") ?? "appendonly.aof")
    }

    /// The base file: the dataset in RDB form (Redis's RDB preamble), with
    /// the caller holding every shard.
    func aofWriteBase(_ stores: [ShardStore], path: String) -> Bool {
        writeRdbFile(stores, path: path, at: wallMillis(), aofBase: true)
    }

    /// The manifest in force: the one read at start-up or written since,
    /// else the one on disk (appendonly no, BGREWRITEAOF earlier).
    func aofCurrentManifest() -> AofManifest {
        if let m = state.aof.manifest { return m }
        let p = aofPaths
        if let b = readWholeFile(p.manifest), case .success(let m) = AofManifest.parse(String(decoding: b, as: UTF8.self)) {
            return m
        }
        return AofManifest()
    }

    /// Writes a new base (and, when logging, a fresh incr file), switches the
    /// manifest, and removes the files it replaced. Every shard is held.
    /// `start`: logging begins with this rewrite (CONFIG SET appendonly yes, start-up).
    @discardableResult
    func aofRewrite(start: Bool) -> Bool {
        let log = state.logger
        let t0 = monotonicNanos()
        let stores = state.handles.map { $0.store! }
        let p = aofPaths
        if mkdir(p.dir, 0o755) != 0 && errno != EEXIST {
            log.warning("Can't open or create append-only dir \(p.dir): \(String(cString: strerror(errno)))")
            return aofRewriteFailed()
        }
        let old = aofCurrentManifest()
        let logging = start || aofCapturing
        // What the shards deleted on their own is in the base too.
        if aofCapturing {
            for (i, s) in stores.enumerated() { aofDrainDeletions(s, shard: i) }
            if !aofLog.isEmpty { _ = state.aof.submit(aofLog.take()) }
        } else {
            aofLog.discard()
        }
        var m = AofManifest()
        m.base = .init(name: p.baseName(old.nextBaseSeq), seq: old.nextBaseSeq, type: "b")
        let tmp = p.path("temp-rewriteaof-bg-\(getpid()).aof")
        guard aofWriteBase(stores, path: tmp) else { return aofRewriteFailed() }
        guard rename(tmp, p.path(m.base!.name)) == 0 else {
            unlink(tmp)
            return aofRewriteFailed()
        }
        var fd: Int32 = -1
        if logging {
            let incr = AofManifest.File(name: p.incrName(old.nextIncrSeq), seq: old.nextIncrSeq, type: "i")
            fd = open(p.path(incr.name), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
            if fd < 0 {
                log.warning("Can't open the append-only file \(incr.name): \(String(cString: strerror(errno)))")
                return aofRewriteFailed()
            }
            m.incrs = [incr]
            log.notice("Creating AOF incr file \(incr.name) on background rewrite")
        }
        guard writeFileAtomically(p.manifest, dir: p.dir, tempName: "temp-\(p.name).manifest", m.text) else {
            if fd >= 0 { close(fd) }
            log.warning("Can't persist the AOF manifest file: \(String(cString: strerror(errno)))")
            return aofRewriteFailed()
        }
        state.aof.manifest = m
        let baseSize = fileSize(p.path(m.base!.name))
        state.aof.baseSize.store(baseSize)
        if start {
            for s in stores { s.deletions = DeletionLog() }
            state.aof.start(fd: fd, shards: shardCount, size: baseSize)
        } else if fd >= 0 {
            state.aof.rotate(to: fd)
            state.aof.currentSize.store(baseSize)
        }
        // The replaced files (Redis marks them history, then deletes them).
        for f in (old.base.map { [$0] } ?? []) + old.history + old.incrs where f.name != m.base!.name {
            unlink(p.path(f.name))
        }
        state.aof.rewrites.add(1)
        state.aof.autoRewritePending.store(0)
        state.aof.lastRewriteSecs.store((monotonicNanos() - t0) / 1_000_000_000)
        state.aof.lastRewriteOK.store(1)
        log.notice("Background AOF rewrite finished successfully")
        return true
    }

    private func aofRewriteFailed() -> Bool {
        state.aof.lastRewriteOK.store(0)
        state.aof.autoRewritePending.store(0)
        state.logger.warning("Background AOF rewrite failed")
        return false
    }

    /// CONFIG SET appendonly: `yes` starts logging through a rewrite with
    /// every shard held; `no` stops the writer after what was handed over.
    /// True: logging must start (PersistStep.aofStart).
    func aofConfigChanged() -> Bool {
        let want = state.config.get("appendonly") == "yes"
        state.aof.fsyncMode.store(AofFsync(state.config.get("appendfsync")).rawValue)
        state.aof.timestamps.store(state.config.get("aof-timestamp-enabled") == "yes" ? 1 : 0)
        if want == aofCapturing { return false }
        if !want {
            aofHandover()
            state.aof.stop()
            // Each owner drops its deletion log at its next iteration (aofHandover).
            return false
        }
        return true
    }

    /// BGREWRITEAOF.
    func bgrewriteaofCommand(_ c: Client, _ r: Reply) {
        persistCommand(c, r, .aofRewrite)
    }

    /// auto-aof-rewrite-percentage / -min-size, from worker 0's cron as
    /// Redis's serverCron checks them: the log grew by that percentage over
    /// its size after the last rewrite, and is past the minimum.
    func aofAutoRewriteCheck() {
        let a = state.aof
        guard a.autoRewritePending.value == 0 else { return }
        let cfg = state.config
        let perc = Int(cfg.get("auto-aof-rewrite-percentage") ?? "") ?? 100
        let minSize = Int(cfg.get("auto-aof-rewrite-min-size") ?? "") ?? 64 << 20
        let size = a.currentSize.value
        guard perc > 0 && size > minSize else { return }
        let base = max(1, a.baseSize.value)
        guard (size * 100 / base) - 100 >= perc else { return }
        state.logger.notice("Starting automatic rewriting of AOF on \((size * 100 / base) - 100)% growth")
        a.autoRewritePending.store(1)
        // No client asked: a detached connection carries the step, its reply is dropped.
        let c = Client(id: 0, fd: -1, index: -1, generation: 0, addr: "", laddr: "", now: now)
        c.authenticated = true
        c.replyMode = .off
        persistCommand(c, Reply(discard, proto: 2), .aofRewrite)
    }
}
