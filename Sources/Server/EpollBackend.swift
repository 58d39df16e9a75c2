import CLiburing
#if canImport(Glibc)
import Glibc
#endif

/// epoll backend for hosts that refuse io_uring (Docker 25+ seccomp,
/// kernel.io_uring_disabled, memlock). Same events, readiness-based inside.
final class EpollBackend: IOBackend {
    static let name = "epoll"
    private let epfd: Int32
    let wakeFD: Int32
    private var scratch: UnsafeMutablePointer<UInt8>
    private let scratchSize: Int
    private var events: UnsafeMutablePointer<epoll_event>
    /// A poll re-entered from a handler (a busy script serving the worker's
    /// other clients) reads into its own buffers: the outer one is still
    /// walking `events`, and the bytes it handed over may still be in `scratch`.
    private var nested: (scratch: UnsafeMutablePointer<UInt8>, events: UnsafeMutablePointer<epoll_event>)?
    private var depth = 0
    private let maxEvents = 256
    private var listenerFDs: Set<Int32> = []

    init(bufSize: Int) throws {
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if epfd < 0 { throw IOSetupError(errno: errno, what: "epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        if wakeFD < 0 { throw IOSetupError(errno: errno, what: "eventfd") }
        scratchSize = max(bufSize, 16384)
        scratch = .allocate(capacity: scratchSize)
        events = .allocate(capacity: maxEvents)
        var ev = epoll_event()
        ev.events = RK_EPOLLIN
        ev.data.u64 = Op.wake.rawValue << 56
        epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &ev)
    }

    func addListener(_ fd: Int32) {
        listenerFDs.insert(fd)
        var ev = epoll_event()
        ev.events = RK_EPOLLIN
        ev.data.u64 = Op.accept.rawValue << 56 | UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)
    }

    /// A connection is registered from its first arm until it is closed;
    /// MOD first, ADD when it was not registered yet.
    private func update(_ c: Client) {
        var ev = epoll_event()
        ev.events = (c.recvPaused ? 0 : RK_EPOLLIN | RK_EPOLLRDHUP) | (c.sendInFlight ? RK_EPOLLOUT : 0)
        ev.data.u64 = userData(.recv, c)
        if epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev) < 0 && errno == ENOENT {
            epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev)
        }
    }

    func armRecv(_ c: Client) {
        if c.closing { return }
        c.recvArmed = true
        c.recvPaused = false
        update(c)
    }

    func pauseRecv(_ c: Client) {
        if c.recvArmed { update(c) }
    }

    func startSend<S: IOEvents>(_ c: Client, sink: S) {
        let n = c.sending.count - c.sendOffset
        let w = send(c.fd, c.sending.base + c.sendOffset, n, Int32(MSG_NOSIGNAL))
        if w > 0 {
            sink.onSendComplete(c, w)
        } else if w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            // Wait for room; EPOLLOUT resumes the send.
            update(c)
            c.recvArmed = true
        } else {
            sink.onSendComplete(c, w < 0 ? -Int(errno) : -Int(EPIPE))
        }
    }

    func release(_ c: Client) -> Bool {
        close(c.fd)
        c.recvArmed = false
        return true
    }

    func wake(_ fd: Int32) {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    func poll<S: IOEvents>(timeoutMs: Int, sink: S) {
        if depth > 0 { return pollNested(sink: sink) }
        depth += 1
        defer { depth -= 1 }
        pollEvents(timeoutMs: timeoutMs, sink: sink)
    }

    private func pollNested<S: IOEvents>(sink: S) {
        if depth > 1 { return }
        let bufs = nested ?? (.allocate(capacity: scratchSize), .allocate(capacity: maxEvents))
        nested = bufs
        let outer = (scratch, events)
        (scratch, events) = bufs
        depth += 1
        pollEvents(timeoutMs: 0, sink: sink)
        depth -= 1
        (scratch, events) = outer
    }

    private func pollEvents<S: IOEvents>(timeoutMs: Int, sink: S) {
        let n = epoll_wait(epfd, events, Int32(maxEvents), Int32(timeoutMs))
        if n <= 0 { return }
        sink.wokeUp()
        for i in 0..<Int(n) {
            let ud = events[i].data.u64
            let ev = events[i].events
            switch Op(rawValue: ud >> 56) {
            case .accept:
                let lfd = Int32(truncatingIfNeeded: ud & 0xFFFF_FFFF)
                for _ in 0..<64 {
                    let fd = rk_accept4(lfd)
                    if fd < 0 { break }
                    sink.onAccept(fd: fd)
                }
            case .wake:
                var v: UInt64 = 0
                _ = read(wakeFD, &v, 8)
            case .recv:
                guard let c = sink.client(at: Int(ud & 0xFFFF_FFFF), generation: UInt32((ud >> 32) & 0xFF_FFFF)) else { continue }
                if ev & RK_EPOLLOUT != 0 {
                    if c.sendInFlight { startSend(c, sink: sink) }
                    // Level-triggered: drop EPOLLOUT once nothing waits, or epoll spins.
                    if !c.sendInFlight && !c.closed { update(c) }
                }
                if ev & (RK_EPOLLIN | RK_EPOLLRDHUP | UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLERR.rawValue)) != 0 && !c.recvPaused && !c.closed {
                    readAll(c, sink: sink)
                }
            default:
                break
            }
        }
    }

    private func readAll<S: IOEvents>(_ c: Client, sink: S) {
        // Bounded, so one busy client cannot starve the others.
        for _ in 0..<16 {
            let r = read(c.fd, scratch, scratchSize)
            if r > 0 {
                sink.onData(c, scratch, r)
                if c.closing || c.recvPaused || r < scratchSize { return }
            } else if r == 0 {
                // Level-triggered EOF would fire on every wait while the last
                // replies drain: stop asking for input.
                c.recvPaused = true
                update(c)
                c.recvArmed = false
                sink.onRecvEnd(c, eof: true)
                return
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                c.recvArmed = false
                sink.onRecvEnd(c, eof: false)
                return
            } else {
                return
            }
        }
    }
}
