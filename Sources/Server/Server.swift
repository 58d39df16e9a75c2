import CLiburing
import Commands
import Config
import Logging
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Boxes a thread body so pthread_create can carry it.
private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

func startThread(name: String, _ body: @escaping () -> Void) -> pthread_t {
    let box = Unmanaged.passRetained(ThreadBody {
        // Named threads make perf flamegraphs and top -H readable.
        name.withCString { rk_name_thread($0) }
        body()
    }).toOpaque()
    var t = pthread_t()
    pthread_create(&t, nil, { p in
        let b = Unmanaged<ThreadBody>.fromOpaque(p!).takeRetainedValue()
        b.run()
        return nil
    }, box)
    return t
}

/// A Sendable wrapper for handing objects to the thread that will own them.
private final class Handoff<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// Starts the workers, waits for SIGTERM/SIGINT or SHUTDOWN, and stops them
/// gracefully. Returns the process exit code.
public func runServer(config: ConfigStore) -> Int32 {
    let logFD: Int32
    if config.logfile.isEmpty {
        logFD = 1
    } else {
        logFD = open(config.logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if logFD < 0 {
            let msg = "Can't open the log file: \(String(cString: strerror(errno)))\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
            return 1
        }
    }
    let level = logLevel(forRedis: config.loglevel)
    let logger = Logger(label: "ringkv") { _ in RedisLogHandler(level: level, fd: logFD) }

    // Signals are taken synchronously by the main thread (sigwait), so no
    // worker is ever interrupted; SIGPIPE is ignored for good.
    signal(SIGPIPE, SIG_IGN)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_BLOCK, &set, nil)

    logger.warning("oO0OoO0OoO0Oo RingKV is starting oO0OoO0OoO0Oo")
    logger.warning("RingKV version=\(ringkvVersion) (Redis \(redisCompatVersion) compatible), bits=64, pid=\(getpid()), just started")

    adjustOpenFilesLimit(maxclients: config.maxclients, logger: logger)

    // Pick the backend: io_uring when it works, else epoll with the reason.
    var useUring = false
    var detail = ""
    switch config.ioBackend {
    case .epoll:
        detail = "epoll (configured)"
    case .uring, .auto:
        do {
            let probe = try UringBackend(entries: config.uringEntries, bufSize: config.recvBufferSize,
                                         bufCount: config.recvBufferCount)
            detail = probe.flagsUsed
            useUring = true
        } catch {
            if config.ioBackend == .uring {
                logger.warning("io-backend uring requested but io_uring is unavailable: \(error)")
                return 1
            }
            logger.warning("io_uring unavailable, falling back to epoll: \(error)")
            detail = "epoll (fallback: \(error))"
        }
    }

    let state = ServerState(config: config, backendName: useUring ? "uring" : "epoll", backendDetail: detail, logger: logger)
    let n = state.shardCount
    state.handles = (0..<n).map { _ in WorkerHandle(queueCapacity: state.queueCapacity) }
    guard loadDataset(state) else { return 1 }

    // Listeners: one per bind address per worker (SO_REUSEPORT).
    var listenerSets: [[Int32]] = Array(repeating: [], count: n)
    for addr in config.bind {
        let optional = addr.hasPrefix("-")
        let a = optional ? String(addr.dropFirst()) : addr
        do {
            // SO_REUSEPORT would let a second server share a busy port
            // silently; a plain bind first fails the way redis-server does.
            close(try openListener(address: a, port: config.port, backlog: 1, reusePort: false))
            for w in 0..<n {
                listenerSets[w].append(try openListener(address: a, port: config.port, backlog: config.tcpBacklog))
            }
        } catch {
            if optional { continue }
            logger.warning("\(error)")
            return 1
        }
    }
    if listenerSets[0].isEmpty {
        logger.warning("Failed listening on port \(config.port) (tcp), aborting.")
        return 1
    }

    let ready = AtomicCounter(0)
    let failed = AtomicCounter(0)
    var threads: [pthread_t] = []
    for w in 0..<n {
        let box = Handoff((state, listenerSets[w]))
        threads.append(startThread(name: "ringkv-w\(w)") {
            let (state, listeners) = box.value
            let handle = state.handles[w]
            let c = state.config
            if useUring {
                guard let b = try? UringBackend(entries: c.uringEntries, bufSize: c.recvBufferSize, bufCount: c.recvBufferCount) else {
                    failed.add(1)
                    ready.add(1)
                    return
                }
                runWorker(Worker(id: w, state: state, backend: b, handle: handle), listeners, ready)
            } else {
                guard let b = try? EpollBackend(bufSize: c.recvBufferSize) else {
                    failed.add(1)
                    ready.add(1)
                    return
                }
                runWorker(Worker(id: w, state: state, backend: b, handle: handle), listeners, ready)
            }
        })
    }
    while ready.value < n { usleep(1000) }
    if failed.value > 0 || state.startupFailed.value > 0 {
        if failed.value > 0 { logger.warning("A worker could not set up its I/O backend, aborting.") }
        state.stopping.store(1)
        for t in threads { pthread_join(t, nil) }
        return 1
    }
    logger.notice("Server initialized")
    startupMemory.store(usedMemory(), ordering: .relaxed)
    logger.notice("io backend: \(state.backendName) (\(detail)), shards: \(n)")
    state.capture.apply(config)
    logger.notice("Ready to accept connections tcp")

    var ts = timespec(tv_sec: 0, tv_nsec: 100_000_000)
    while !state.isStopping {
        let sig = sigtimedwait(&set, nil, &ts)
        if sig == SIGTERM || sig == SIGINT {
            logger.warning("Received \(sig == SIGTERM ? "SIGTERM" : "SIGINT") scheduling shutdown...")
            // With save points Redis saves first (worker 0 holds the shards and stops after).
            if config.saveParams.isEmpty { state.stopping.store(1) } else { state.bgsave.shutdownRequested.store(1) }
        }
    }
    for t in threads { pthread_join(t, nil) }
    state.aof.stop()
    state.capture.stop()
    logger.warning("RingKV is now ready to exit, bye bye...")
    return 0
}

private func runWorker<B: IOBackend>(_ w: Worker<B>, _ listeners: [Int32], _ ready: AtomicCounter) {
    w.handle.wakeFD = w.backend.wakeFD
    for fd in listeners {
        w.listeners.append(fd)
        w.backend.addListener(fd)
    }
    if !aofStartupGate(w) { w.state.startupFailed.add(1) }
    if w.id == 0 {
        // Libraries from the RDB file, checked and installed as FUNCTION RESTORE does.
        for code in w.state.pendingFunctions {
            if case .failure(let e) = w.installLibrary(code, replace: false) {
                w.state.logger.warning("Failed loading library from the RDB file: \(e.message)")
                w.state.startupFailed.add(1)
            }
        }
        w.state.pendingFunctions = []
    }
    ready.add(1)
    // Serve only once every worker has started and none failed: a refused
    // start (a bad AOF, a library that does not load) must not answer a
    // client in the moment before the main thread stops the server.
    while ready.value < w.state.shardCount { usleep(200) }
    if w.state.startupFailed.value > 0 { return }
    w.run()
}

/// Like Redis: raise RLIMIT_NOFILE so maxclients connections fit, and say so
/// when the hard limit does not allow it.
private func adjustOpenFilesLimit(maxclients: Int, logger: Logger) {
    let needed = rlim_t(maxclients + 32)
    var lim = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) != 0 || lim.rlim_cur >= needed { return }
    var want = lim
    want.rlim_cur = min(needed, lim.rlim_max)
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &want) != 0 {
        want.rlim_cur = lim.rlim_cur
    }
    if want.rlim_cur < needed {
        logger.warning("You requested maxclients of \(maxclients) requiring at least \(needed) max file descriptors; the hard limit allows \(want.rlim_cur). Connections past that will be refused.")
    } else {
        logger.notice("Increased maximum number of open files to \(needed) (it was originally set to \(lim.rlim_cur)).")
    }
}
