import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import PacketCapture

final class PcapWriterTests: XCTestCase {
    func tempPath() -> String {
        var template = Array("/tmp/pcaptest-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func readAll(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }

    func le16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }

    func testGlobalHeaderLayout() {
        let h = PcapWriter.fileHeader(snapLength: 65535, linkType: 1, nanosecondResolution: false)
        XCTAssertEqual(h, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0])
        let n = PcapWriter.fileHeader(snapLength: 262_144, linkType: 1, nanosecondResolution: true)
        XCTAssertEqual(Array(n[0..<4]), [0x4d, 0x3c, 0xb2, 0xa1])
    }

    func testRecordsRoundTrip() throws {
        let path = tempPath()
        defer { unlink(path) }
        let arp = FrameBuilder.arpFrame()
        let tcp = FrameBuilder.tcp4Frame()
        let w = try PcapWriter(path: path)
        try w.write(seconds: 1_700_000_000, nanoseconds: 123_456_789, bytes: arp)
        try w.write(seconds: 1_700_000_001, nanoseconds: 999, originalLength: 1514, bytes: tcp)
        XCTAssertEqual(w.recordsWritten, 2)
        try w.close()

        let b = readAll(path)
        XCTAssertEqual(b.count, 24 + 16 + arp.count + 16 + tcp.count)
        XCTAssertEqual(le32(b, 0), 0xA1B2_C3D4)
        XCTAssertEqual(le16(b, 4), 2)
        XCTAssertEqual(le16(b, 6), 4)
        XCTAssertEqual(le32(b, 16), CaptureFilter.defaultSnapLength)
        XCTAssertEqual(le32(b, 20), 1)  // LINKTYPE_ETHERNET
        var o = 24
        XCTAssertEqual(le32(b, o), 1_700_000_000)
        XCTAssertEqual(le32(b, o + 4), 123_456, "microsecond files store ns / 1000")
        XCTAssertEqual(le32(b, o + 8), UInt32(arp.count))
        XCTAssertEqual(le32(b, o + 12), UInt32(arp.count))
        XCTAssertEqual(Array(b[(o + 16)..<(o + 16 + arp.count)]), arp)
        o += 16 + arp.count
        XCTAssertEqual(le32(b, o), 1_700_000_001)
        XCTAssertEqual(le32(b, o + 4), 0)
        XCTAssertEqual(le32(b, o + 8), UInt32(tcp.count))
        XCTAssertEqual(le32(b, o + 12), 1514, "original length is kept when the capture was cut")
        XCTAssertEqual(Array(b[(o + 16)...]), tcp)
    }

    func testSnapLengthCutsRecords() throws {
        let path = tempPath()
        defer { unlink(path) }
        let w = try PcapWriter(path: path, snapLength: 20, nanosecondResolution: true)
        try w.write(seconds: 5, nanoseconds: 7, bytes: FrameBuilder.tcp4Frame())
        try w.close()
        let b = readAll(path)
        XCTAssertEqual(b.count, 24 + 16 + 20)
        XCTAssertEqual(le32(b, 24 + 4), 7, "nanosecond files keep ns")
        XCTAssertEqual(le32(b, 24 + 8), 20)
        XCTAssertEqual(le32(b, 24 + 12), UInt32(FrameBuilder.tcp4Frame().count))
    }

    func testManyRecordsSpanFlushes() throws {
        let path = tempPath()
        defer { unlink(path) }
        let w = try PcapWriter(path: path)
        let frame = [UInt8](repeating: 0xAB, count: 1500)
        for i in 0..<1000 { try w.write(seconds: UInt32(i), nanoseconds: 0, bytes: frame) }
        try w.close()
        XCTAssertEqual(readAll(path).count, 24 + 1000 * (16 + 1500))
    }

    func testOpenFailureIsAnError() {
        XCTAssertThrowsError(try PcapWriter(path: "/nonexistent-dir/x.pcap")) { e in
            guard case CaptureError.system(_, let code) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(code, ENOENT)
        }
    }
}
