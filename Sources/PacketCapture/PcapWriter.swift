#if canImport(Glibc)
import Glibc
#endif

/// Writes the classic libpcap file format (not pcapng), which tcpdump,
/// tshark and Wireshark all read. Records are buffered and written with
/// write(2) in large chunks so a capture loop does not make a syscall per frame.
public final class PcapWriter {
    public static let linkTypeEthernet: UInt32 = 1
    public static let linkTypeRaw: UInt32 = 101
    static let magicMicroseconds: UInt32 = 0xA1B2_C3D4
    static let magicNanoseconds: UInt32 = 0xA1B2_3C4D

    public let snapLength: UInt32
    public let nanosecondResolution: Bool
    public private(set) var recordsWritten = 0

    private var fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let flushThreshold = 256 * 1024

    /// Creates or truncates `path` and writes the file header.
    public convenience init(path: String, snapLength: UInt32 = CaptureFilter.defaultSnapLength,
                            linkType: UInt32 = PcapWriter.linkTypeEthernet, nanosecondResolution: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureError.system("open \(path)", errno: errno) }
        try self.init(fileDescriptor: fd, ownsDescriptor: true, snapLength: snapLength,
                      linkType: linkType, nanosecondResolution: nanosecondResolution)
    }

    public init(fileDescriptor: Int32, ownsDescriptor: Bool = false, snapLength: UInt32 = CaptureFilter.defaultSnapLength,
                linkType: UInt32 = PcapWriter.linkTypeEthernet, nanosecondResolution: Bool = false) throws {
        self.fd = fileDescriptor
        self.ownsDescriptor = ownsDescriptor
        self.snapLength = snapLength
        self.nanosecondResolution = nanosecondResolution
        buffer.reserveCapacity(flushThreshold + 70_000)
        buffer += PcapWriter.fileHeader(snapLength: snapLength, linkType: linkType, nanosecondResolution: nanosecondResolution)
        try flush()
    }

    deinit {
        if fd >= 0 {
            try? flush()
            if ownsDescriptor { Glibc.close(fd) }
        }
    }

    /// The 24-byte global header, little-endian: readers detect byte order
    /// from the magic number.
    public static func fileHeader(snapLength: UInt32, linkType: UInt32, nanosecondResolution: Bool) -> [UInt8] {
        var h: [UInt8] = []
        h.reserveCapacity(24)
        appendLE32(&h, nanosecondResolution ? magicNanoseconds : magicMicroseconds)
        appendLE16(&h, 2)  // version 2.4
        appendLE16(&h, 4)
        appendLE32(&h, 0)  // thiszone: timestamps are UTC
        appendLE32(&h, 0)  // sigfigs
        appendLE32(&h, snapLength)
        appendLE32(&h, linkType)
        return h
    }

    /// Appends one record; bytes beyond the snap length are cut, as libpcap does.
    public func write(seconds: UInt32, nanoseconds: UInt32, originalLength: Int, bytes: UnsafeRawBufferPointer) throws {
        precondition(fd >= 0, "PcapWriter used after close")
        let included = min(bytes.count, Int(snapLength))
        appendLE32(&buffer, seconds)
        appendLE32(&buffer, nanosecondResolution ? nanoseconds : nanoseconds / 1000)
        appendLE32(&buffer, UInt32(included))
        appendLE32(&buffer, UInt32(clamping: max(originalLength, included)))
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<included]))
        recordsWritten += 1
        if buffer.count >= flushThreshold { try flush() }
    }

    public func write(seconds: UInt32, nanoseconds: UInt32, originalLength: Int? = nil, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(seconds: seconds, nanoseconds: nanoseconds, originalLength: originalLength ?? $0.count, bytes: $0) }
    }

    public func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CaptureError.system("write pcap", errno: errno)
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        guard fd >= 0 else { return }
        defer {
            if ownsDescriptor { Glibc.close(fd) }
            fd = -1
        }
        try flush()
    }
}

@inline(__always) func appendLE16(_ b: inout [UInt8], _ v: UInt16) {
    b.append(UInt8(truncatingIfNeeded: v))
    b.append(UInt8(truncatingIfNeeded: v >> 8))
}

@inline(__always) func appendLE32(_ b: inout [UInt8], _ v: UInt32) {
    b.append(UInt8(truncatingIfNeeded: v))
    b.append(UInt8(truncatingIfNeeded: v >> 8))
    b.append(UInt8(truncatingIfNeeded: v >> 16))
    b.append(UInt8(truncatingIfNeeded: v >> 24))
}
