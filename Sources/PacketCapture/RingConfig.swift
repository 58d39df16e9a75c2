#if canImport(Glibc)
import Glibc
#endif
import CPacket

/// TPACKET_V3 ring geometry. The kernel fills one block at a time with
/// variable-length frames and hands it over when it is full or when the
/// retire timeout passes, so the timeout bounds latency at low rates and the
/// block size and count bound how long a stalled reader can fall behind.
public struct RingConfig: Hashable, Sendable {
    /// Bytes per block; a multiple of the page size. One block must hold the
    /// largest frame, and loopback GSO frames reach 64 KiB.
    public var blockSize: Int
    public var blockCount: Int
    /// Nominal frame slot; V3 packs frames tightly and uses this only to
    /// check the geometry, but it must be 16-byte aligned and fit a header.
    public var frameSize: Int
    /// Milliseconds before a partly filled block is handed to user space;
    /// 0 lets the kernel choose from the link speed.
    public var retireTimeoutMilliseconds: Int

    public static let defaultBlockSize = 1 << 20
    public static let defaultBlockCount = 16
    public static let defaultFrameSize = 2048
    public static let defaultRetireTimeoutMilliseconds = 50

    public init(
        blockSize: Int = RingConfig.defaultBlockSize, blockCount: Int = RingConfig.defaultBlockCount,
        frameSize: Int = RingConfig.defaultFrameSize,
        retireTimeoutMilliseconds: Int = RingConfig.defaultRetireTimeoutMilliseconds
    ) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.frameSize = frameSize
        self.retireTimeoutMilliseconds = retireTimeoutMilliseconds
    }

    public var totalBytes: Int { blockSize * blockCount }

    /// Catches what the kernel would reject with a bare EINVAL, with a reason.
    public func validate() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard blockSize > 0, blockSize % page == 0 else {
            throw CaptureError.badRingConfig("block size \(blockSize) must be a positive multiple of the page size \(page)")
        }
        guard blockSize <= Int(Int32.max) else { throw CaptureError.badRingConfig("block size \(blockSize) too large") }
        guard blockCount > 0 else { throw CaptureError.badRingConfig("block count must be positive") }
        guard frameSize % 16 == 0, frameSize >= Int(cpacket_tpacket3_hdrlen()) else {
            throw CaptureError.badRingConfig("frame size \(frameSize) must be a multiple of 16 and at least \(cpacket_tpacket3_hdrlen())")
        }
        guard frameSize <= blockSize else {
            throw CaptureError.badRingConfig("frame size \(frameSize) exceeds block size \(blockSize)")
        }
        guard retireTimeoutMilliseconds >= 0, retireTimeoutMilliseconds <= 60_000 else {
            throw CaptureError.badRingConfig("retire timeout \(retireTimeoutMilliseconds) ms out of range 0...60000")
        }
        guard totalBytes / blockCount == blockSize, totalBytes <= 1 << 32 else {
            throw CaptureError.badRingConfig("ring of \(blockCount) x \(blockSize) bytes is too large")
        }
    }
}
