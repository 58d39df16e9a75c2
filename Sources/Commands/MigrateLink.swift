#if canImport(Glibc)
import Glibc
#endif

/// One cached connection from MIGRATE to a target (Redis's
/// migrateCachedSocket): a non-blocking socket driven synchronously with
/// poll and a timeout, as Redis's syncio.c does on its main thread. Here it
/// blocks the worker that runs the MIGRATE, and only that one.
final class MigrateLink {
    let fd: Int32
    /// The database the target has selected on this link (-1: unknown).
    var lastDb = -1
    var lastUse: Int64
    /// Bytes read past the last reply line.
    private var pending: [UInt8] = []
    /// The last write or read failed by its timeout (Redis's errno == ETIMEDOUT).
    private(set) var timedOut = false

    private init(fd: Int32, now: Int64) {
        self.fd = fd
        self.lastUse = now
    }

    deinit { close(fd) }

    /// connBlockingConnect: resolve, start a non-blocking connect to the
    /// first address that accepts one, wait up to `timeout` ms for it to be
    /// writable. As in Redis, a connect still pending after the wait is not
    /// an error here: the first write then times out (or fails) instead.
    static func connect(host: UnsafeBufferPointer<UInt8>, port: Int32, timeout: Int, now: Int64) -> MigrateLink? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        var name = [CChar](repeating: 0, count: host.count + 1)
        for (i, b) in host.enumerated() { name[i] = CChar(bitPattern: b) }
        var service = [CChar](repeating: 0, count: 12)
        _ = withVaList([port]) { vsnprintf(&service, 12, "%d", $0) }
        guard getaddrinfo(name, service, &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(first) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            a.pointee.ai_protocol)
            if fd < 0 { continue }
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                close(fd)
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = wait(fd, Int16(POLLOUT), timeout)
            return MigrateLink(fd: fd, now: now)
        }
        return nil
    }

    private static func wait(_ fd: Int32, _ events: Int16, _ ms: Int) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        return poll(&p, 1, Int32(clamping: ms)) == 1
    }

    /// syncWrite, per 64 KiB chunk as MIGRATE sends: false on an error or
    /// when a chunk is not out within `timeout` ms.
    func write(_ bytes: [UInt8], timeout: Int) -> Bool {
        timedOut = false
        return bytes.withUnsafeBufferPointer { b -> Bool in
            var pos = 0
            while pos < b.count {
                let chunkEnd = min(b.count, pos + 64 * 1024)
                let start = monotonicMillis()
                while pos < chunkEnd {
                    let n = send(fd, b.baseAddress! + pos, chunkEnd - pos, Int32(MSG_NOSIGNAL))
                    if n > 0 {
                        pos += n
                        continue
                    }
                    if n < 0 && errno != EAGAIN && errno != EINTR { return false }
                    let left = timeout - (monotonicMillis() - start)
                    if left <= 0 {
                        timedOut = true
                        return false
                    }
                    _ = MigrateLink.wait(fd, Int16(POLLOUT), min(left, 10))
                }
            }
            return true
        }
    }

    /// syncReadLine: one reply line without its CRLF, or nil on EOF, error,
    /// an empty line or no complete line within `timeout` ms. Redis keeps
    /// at most 1023 bytes of a line.
    func readLine(timeout: Int) -> [UInt8]? {
        timedOut = false
        let start = monotonicMillis()
        while true {
            if let nl = pending.firstIndex(of: 10) {
                var end = nl
                if end > 0 && pending[end - 1] == 13 { end -= 1 }
                let line = Array(pending[0..<min(end, 1023)])
                pending.removeSubrange(0...nl)
                return line.isEmpty ? nil : line
            }
            var chunk = (0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64,
                         0 as UInt64)
            let n = withUnsafeMutableBytes(of: &chunk) { raw -> Int in
                let got = recv(fd, raw.baseAddress, raw.count, 0)
                if got > 0 { pending.append(contentsOf: raw.prefix(got)) }
                return got
            }
            if n > 0 { continue }
            if n == 0 || (errno != EAGAIN && errno != EINTR) { return nil }
            let left = timeout - (monotonicMillis() - start)
            if left <= 0 {
                timedOut = true
                return nil
            }
            _ = MigrateLink.wait(fd, Int16(POLLIN), left)
        }
    }
}

private func monotonicMillis() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

/// The links of the calling thread, by "host:port" (Redis's
/// server.migrate_cached_sockets). Each worker thread keeps its own, so
/// no lock: a MIGRATE runs on the thread that owns or holds its keys.
final class MigrateLinks {
    static let maxLinks = 64
    /// Redis's MIGRATE_SOCKET_CACHE_TTL: a link idle longer is closed.
    static let idleMillis: Int64 = 10_000

    var byTarget: [[UInt8]: MigrateLink] = [:]

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in
            if let p { Unmanaged<MigrateLinks>.fromOpaque(p).release() }
        }
        return k
    }()

    static var current: MigrateLinks {
        if let p = pthread_getspecific(key) { return Unmanaged<MigrateLinks>.fromOpaque(p).takeUnretainedValue() }
        let links = MigrateLinks()
        pthread_setspecific(key, Unmanaged.passRetained(links).toOpaque())
        return links
    }

    static var existing: MigrateLinks? {
        pthread_getspecific(key).map { Unmanaged<MigrateLinks>.fromOpaque($0).takeUnretainedValue() }
    }

    /// migrateGetSocket: the cached link, or a new one (dropping a random
    /// one when 64 are open). nil: could not connect.
    func link(_ name: [UInt8], host: UnsafeBufferPointer<UInt8>, port: Int32, timeout: Int, now: Int64) -> MigrateLink? {
        if let l = byTarget[name] {
            l.lastUse = now
            return l
        }
        if byTarget.count >= MigrateLinks.maxLinks, let victim = byTarget.keys.randomElement() {
            byTarget[victim] = nil
        }
        guard let l = MigrateLink.connect(host: host, port: port, timeout: timeout, now: now) else { return nil }
        byTarget[name] = l
        return l
    }

    func drop(_ name: [UInt8]) { byTarget[name] = nil }

    /// migrateCloseTimedoutSockets, from the worker's cron.
    static func closeIdle(now: Int64) {
        guard let links = existing, !links.byTarget.isEmpty else { return }
        for (name, l) in links.byTarget where now - l.lastUse > idleMillis { links.byTarget[name] = nil }
    }
}
