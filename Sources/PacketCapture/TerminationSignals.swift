#if canImport(Glibc)
import Glibc
#endif
import CPacket

/// SIGINT/SIGTERM delivered as a readable descriptor (signalfd), so a
/// capture loop can sleep in one poll(2) on both the ring and the signals
/// and finish cleanly instead of running code in a signal handler.
///
/// Create it before starting other threads: the signals are blocked in the
/// creating thread, and threads started later inherit that mask.
public final class TerminationSignals {
    public let fileDescriptor: Int32

    public init() throws {
        let fd = cpacket_signalfd_int_term()
        guard fd >= 0 else { throw CaptureError.system("signalfd", errno: errno) }
        fileDescriptor = fd
    }

    deinit { close(fileDescriptor) }

    /// The pending signal number, or nil if none arrived.
    public func take() -> Int32? {
        var info = [UInt8](repeating: 0, count: 128)  // struct signalfd_siginfo
        let n = info.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, 128) }
        guard n == 128 else { return nil }
        return info.withUnsafeBytes { Int32(bitPattern: $0.loadUnaligned(as: UInt32.self)) }
    }
}
