#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to a descriptor with write(2). It sidesteps stdio, whose
/// `stdout`/`stderr` globals are not concurrency-safe under Swift 6, and one
/// write per batch of frames instead of one per line keeps up at line rate.
final class Output {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func line(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                break  // a closed pipe (| head) must not turn into an error loop
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// One unbuffered line on stderr, for notes and errors.
func note(_ s: String) {
    let line = Array((s + "\n").utf8)
    _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
