import CLiburing

/// What a backend reports to its worker. Completion-style, like
/// TigerBeetle's io: the worker never knows which backend runs it.
protocol IOEvents: AnyObject {
    /// Called once per wake-up, before any event of it.
    func wokeUp()
    func client(at index: Int, generation: UInt32) -> Client?
    func onAccept(fd: Int32)
    func onData(_ c: Client, _ p: UnsafePointer<UInt8>, _ n: Int)
    /// The peer closed (`eof`: an orderly shutdown of its sending side) or
    /// the socket failed; no more data will come.
    func onRecvEnd(_ c: Client, eof: Bool)
    /// `res` bytes of the in-flight send left (possibly fewer than asked), or -errno.
    func onSendComplete(_ c: Client, _ res: Int)
}

/// One small completion-based API, one file per backend (uring, epoll).
protocol IOBackend: AnyObject {
    static var name: String { get }
    /// The fd other workers use to wake this one (ring fd or eventfd).
    var wakeFD: Int32 { get }
    func addListener(_ fd: Int32)
    func armRecv(_ c: Client)
    func pauseRecv(_ c: Client)
    /// Sends `c.sending[c.sendOffset...]`; completion arrives through onSendComplete.
    func startSend<S: IOEvents>(_ c: Client, sink: S)
    /// Closes the socket once nothing references it; false means "call again
    /// after the recv completion comes back".
    func release(_ c: Client) -> Bool
    /// Wakes the worker whose wake fd is `fd`, from this worker's thread.
    func wake(_ fd: Int32)
    /// One loop iteration: submit everything queued, wait up to `timeoutMs`
    /// (0 = don't wait) and deliver completions.
    func poll<S: IOEvents>(timeoutMs: Int, sink: S)
}

/// Why io_uring could not be used, for the one-line fallback log.
struct IOSetupError: Error, CustomStringConvertible {
    let errno: Int32
    let what: String
    var description: String {
        switch errno {
        case ENOSYS: return "\(what): ENOSYS (kernel without io_uring)"
        case EPERM: return "\(what): EPERM (blocked by seccomp or kernel.io_uring_disabled)"
        case ENOMEM: return "\(what): ENOMEM (memlock limit too low; raise it with --ulimit memlock=-1)"
        default: return "\(what): errno \(errno)"
        }
    }
}

/// user_data layout: op (8 bits) | generation (24 bits) | connection index (32 bits).
enum Op: UInt64 {
    case accept = 1, recv = 2, send = 3, wake = 4, cancel = 5, nop = 6
}

@inline(__always) func userData(_ op: Op, _ c: Client) -> UInt64 {
    op.rawValue << 56 | UInt64(c.generation & 0xFF_FFFF) << 32 | UInt64(c.index)
}
