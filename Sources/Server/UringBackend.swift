import CLiburing
#if canImport(Glibc)
import Glibc
#endif

/// io_uring backend: multishot accept, multishot recv into a provided-buffer
/// ring, and one io_uring_submit_and_wait per loop iteration.
final class UringBackend: IOBackend {
    static let name = "uring"
    private var ring = io_uring()
    private let bufRing: UnsafeMutablePointer<io_uring_buf_ring>
    private let buffers: UnsafeMutablePointer<UInt8>
    private let bufSize: Int
    private let bufCount: Int
    private let bufMask: UInt32
    private var buffersToReturn: Int32 = 0
    /// poll's nesting: above 1 while a handler re-entered it (a busy script
    /// serving its worker's other clients), with its own buffer still held.
    private var pollDepth = 0
    private var directReadBuffer: UnsafeMutablePointer<UInt8>? = nil
    private static let bufferGroup: UInt16 = 1
    private var listeners: [Int32] = []
    let wakeFD: Int32
    let flagsUsed: String

    /// The kernel's IORING_MAX_CQ_ENTRIES: a bigger CQ request is EINVAL,
    /// which would read as "old kernel" and send `auto` to epoll for no reason.
    static let maxCQEntries = 65536

    init(entries: Int, bufSize: Int, bufCount: Int) throws {
        let cq = UInt32(min(entries * 4, UringBackend.maxCQEntries))
        var params = io_uring_params()
        params.flags = RK_SETUP_SINGLE_ISSUER | RK_SETUP_DEFER_TASKRUN | RK_SETUP_SUBMIT_ALL
        params.cq_entries = cq
        params.flags |= UInt32(IORING_SETUP_CQSIZE)
        var r = io_uring_queue_init_params(UInt32(entries), &ring, &params)
        var used = "SINGLE_ISSUER|DEFER_TASKRUN"
        if r == -EINVAL {
            // Older kernels: fall back to a plain ring with the same behaviour.
            params = io_uring_params()
            params.cq_entries = cq
            params.flags = UInt32(IORING_SETUP_CQSIZE)
            r = io_uring_queue_init_params(UInt32(entries), &ring, &params)
            used = "plain"
        }
        if r < 0 { throw IOSetupError(errno: -r, what: "io_uring_queue_init") }
        flagsUsed = used
        wakeFD = ring.ring_fd
        self.bufSize = bufSize
        var n = 1
        while n < bufCount { n <<= 1 }
        let count = min(n, 32768)
        self.bufCount = count
        bufMask = UInt32(count - 1)
        var err: Int32 = 0
        guard let br = rk_setup_buf_ring(&ring, UInt32(count), UringBackend.bufferGroup, &err) else {
            io_uring_queue_exit(&ring)
            throw IOSetupError(errno: -err, what: "provided buffer ring")
        }
        bufRing = br
        // Mapped, not malloc'd: this is receive space lent to the kernel
        // (recv-buffer-count x recv-buffer-size, 16 MiB per worker by
        // default), like the kernel socket buffers Redis does not count
        // either. Through malloc it counted in used_memory and so ate
        // maxmemory's budget; it shows in used_memory_rss as its pages fill.
        guard let mem = mmap(nil, bufSize * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mem != MAP_FAILED else {
            let e = errno
            rk_free_buf_ring(br, UInt32(count))
            io_uring_queue_exit(&ring)
            throw IOSetupError(errno: e, what: "receive buffers")
        }
        buffers = mem.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count {
            rk_buf_ring_add(bufRing, buffers + i * bufSize, UInt32(bufSize), UInt16(i), bufMask, Int32(i))
        }
        rk_buf_ring_advance(bufRing, Int32(count))
    }

    /// The start-up probe is a full backend that is dropped at once; without
    /// this it kept its ring fd and its receive buffers for the process's life.
    deinit {
        io_uring_queue_exit(&ring)
        rk_free_buf_ring(bufRing, UInt32(bufCount))
        munmap(buffers, bufSize * bufCount)
        directReadBuffer?.deallocate()
    }

    private func sqe() -> UnsafeMutablePointer<io_uring_sqe> {
        if let s = io_uring_get_sqe(&ring) { return s }
        io_uring_submit(&ring)
        return io_uring_get_sqe(&ring)!
    }

    func addListener(_ fd: Int32) {
        listeners.append(fd)
        armAccept(fd)
    }

    private func armAccept(_ fd: Int32) {
        let s = sqe()
        io_uring_prep_multishot_accept(s, fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        io_uring_sqe_set_data64(s, Op.accept.rawValue << 56 | UInt64(UInt32(bitPattern: fd)))
    }

    func armRecv(_ c: Client) {
        if c.recvArmed || c.closing { return }
        let s = sqe()
        io_uring_prep_recv_multishot(s, c.fd, nil, 0, 0)
        s.pointee.flags |= UInt8(RK_IOSQE_BUFFER_SELECT)
        rk_sqe_set_buf_group(s, UringBackend.bufferGroup)
        io_uring_sqe_set_data64(s, userData(.recv, c))
        c.recvArmed = true
    }

    func pauseRecv(_ c: Client) {
        guard c.recvArmed else { return }
        let s = sqe()
        io_uring_prep_cancel64(s, userData(.recv, c), 0)
        io_uring_sqe_set_data64(s, Op.cancel.rawValue << 56)
    }

    func startSend<S: IOEvents>(_ c: Client, sink: S) {
        let s = sqe()
        io_uring_prep_send(s, c.fd, c.sending.base + c.sendOffset, c.sending.count - c.sendOffset, Int32(MSG_NOSIGNAL))
        io_uring_sqe_set_data64(s, userData(.send, c))
    }

    func release(_ c: Client) -> Bool {
        if c.recvArmed {
            // The multishot recv holds the file; shutting the socket down ends it.
            if !c.shutdownDone {
                shutdown(c.fd, Int32(SHUT_RDWR))
                c.shutdownDone = true
            }
            return false
        }
        close(c.fd)
        return true
    }

    func wake(_ fd: Int32) {
        let s = sqe()
        io_uring_prep_msg_ring(s, fd, 0, Op.wake.rawValue << 56, 0)
        s.pointee.flags |= UInt8(RK_IOSQE_CQE_SKIP_SUCCESS)
        io_uring_sqe_set_data64(s, Op.nop.rawValue << 56)
    }

    func poll<S: IOEvents>(timeoutMs: Int, sink: S) {
        if timeoutMs == 0 {
            io_uring_submit_and_get_events(&ring)
        } else {
            var ts = __kernel_timespec(tv_sec: Int64(timeoutMs / 1000), tv_nsec: Int64(timeoutMs % 1000) * 1_000_000)
            var cqe: UnsafeMutablePointer<io_uring_cqe>? = nil
            io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nil)
        }
        var head: UInt32 = 0
        let ready = rk_cq_ready(&ring, &head)
        if ready == 0 { return }
        sink.wokeUp()
        pollDepth += 1
        defer { pollDepth -= 1 }
        // Each CQE is copied and consumed before its handler runs, and the
        // head is read again for the next: a handler may re-enter poll (a
        // busy script serving its worker's other clients), which then takes
        // the CQEs after this one and never sees one twice.
        for _ in 0..<ready {
            if rk_cq_ready(&ring, &head) == 0 { break }
            let cqe = rk_cqe_at(&ring, head, 0)!
            let ud = cqe.pointee.user_data, res = cqe.pointee.res, flags = cqe.pointee.flags
            io_uring_cq_advance(&ring, 1)
            handle(ud, res, flags, sink: sink)
        }
        if buffersToReturn > 0 {
            rk_buf_ring_advance(bufRing, buffersToReturn)
            buffersToReturn = 0
        }
    }

    /// The handler that re-entered poll still holds its receive buffer, and
    /// the buffers the nested poll hands out go back only when it returns:
    /// with a small ring (recv-buffer-count 1) a multishot recv finds none
    /// left, and until the script ended no other client could be read, not
    /// even for its -BUSY. So the socket is read here without the ring, into
    /// a buffer of the backend's own (onData copies what it keeps).
    private func readDirect<S: IOEvents>(_ c: Client, sink: S) {
        let buf = directReadBuffer ?? {
            let b = UnsafeMutablePointer<UInt8>.allocate(capacity: bufSize)
            directReadBuffer = b
            return b
        }()
        // Bounded, as a multishot recv is by its buffers: the rest waits for the next poll.
        for _ in 0..<16 {
            let n = recv(c.fd, buf, bufSize, Int32(MSG_DONTWAIT))
            if n > 0 {
                sink.onData(c, buf, n)
                if c.closing || c.recvPaused { return }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { break }
            return sink.onRecvEnd(c, eof: n == 0)
        }
        armRecv(c)
    }

    @inline(__always)
    private func handle<S: IOEvents>(_ ud: UInt64, _ res: Int32, _ flags: UInt32, sink: S) {
        guard let op = Op(rawValue: ud >> 56) else { return }
        switch op {
        case .accept:
            if res >= 0 { sink.onAccept(fd: res) }
            if flags & RK_CQE_F_MORE == 0 { armAccept(Int32(truncatingIfNeeded: ud & 0xFFFF_FFFF)) }
        case .recv:
            let c = sink.client(at: Int(ud & 0xFFFF_FFFF), generation: UInt32((ud >> 32) & 0xFF_FFFF))
            if flags & RK_CQE_F_BUFFER != 0 {
                let bid = Int(flags >> RK_CQE_BUFFER_SHIFT)
                let p = buffers + bid * bufSize
                if res > 0, let c = c, !c.closing { sink.onData(c, p, Int(res)) }
                rk_buf_ring_add(bufRing, p, UInt32(bufSize), UInt16(bid), bufMask, buffersToReturn)
                buffersToReturn += 1
            }
            guard let c = c else { return }
            if flags & RK_CQE_F_MORE == 0 {
                c.recvArmed = false
                if res == -ENOBUFS && pollDepth > 1 && !c.closing && !c.recvPaused {
                    return readDirect(c, sink: sink)
                }
                if res == 0 || (res < 0 && res != -ENOBUFS && res != -ECANCELED) || c.closing {
                    sink.onRecvEnd(c, eof: res == 0)
                } else if !c.recvPaused {
                    // Multishot ends on ENOBUFS, on cancel (pause) or by itself; re-arm unless paused.
                    armRecv(c)
                }
            }
        case .send:
            if let c = sink.client(at: Int(ud & 0xFFFF_FFFF), generation: UInt32((ud >> 32) & 0xFF_FFFF)) {
                sink.onSendComplete(c, Int(res))
            }
        case .wake, .cancel, .nop:
            break
        }
    }
}
