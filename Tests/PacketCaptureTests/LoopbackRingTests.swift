import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import PacketCapture

/// The real kernel ring on loopback: needs CAP_NET_RAW, so these skip
/// without root. The veth integration test covers real Ethernet.
final class LoopbackRingTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipIf(geteuid() != 0, "AF_PACKET needs CAP_NET_RAW; run as root")
    }

    /// A port nothing listens on, chosen by binding and closing.
    func unusedUDPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: a.sin_port)
    }

    /// Sends `count` datagrams of `size` bytes to 127.0.0.1:port from a
    /// receiving socket bound there, so no ICMP unreachable joins the traffic.
    func sendUDP(port: UInt16, count: Int, size: Int) {
        let rx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        let tx = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(rx); close(tx) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(rx, $0, len) } }
        let payload = [UInt8](repeating: 0x5A, count: size)
        for _ in 0..<count {
            _ = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    payload.withUnsafeBytes { sendto(tx, $0.baseAddress, $0.count, 0, sa, len) }
                }
            }
        }
    }

    func testRingSeesLoopbackUDPThroughKernelFilter() throws {
        let port = unusedUDPPort()
        let ring = try PacketRing(options: CaptureOptions(
            interface: "lo", ring: RingConfig(blockSize: 1 << 16, blockCount: 4, retireTimeoutMilliseconds: 10),
            filter: CaptureFilter(port: port)))
        XCTAssertTrue(ring.filterInKernel)
        XCTAssertTrue(ring.ignoresOutgoing, "loopback defaults to one copy per packet")
        sendUDP(port: port, count: 5, size: 100)
        sendUDP(port: port &+ 1, count: 3, size: 100)  // filtered out in the kernel

        var frames: [DecodedFrame] = []
        let deadline = CaptureService.monotonicMilliseconds() + 3000
        while frames.count < 5 && CaptureService.monotonicMilliseconds() < deadline {
            _ = ring.wait(timeoutMilliseconds: 100)
            ring.drain { frames.append($0.decode()); return true }
        }
        XCTAssertEqual(frames.count, 5)
        for f in frames {
            XCTAssertEqual(f.etherType, EtherType.ipv4)
            XCTAssertEqual(f.originalLength, 14 + 20 + 8 + 100)
            XCTAssertEqual(f.capturedLength, f.originalLength)
            XCTAssertEqual(f.transport?.destinationPort, port)
            XCTAssertEqual(f.direction, .host)
            XCTAssertEqual(f.source, .zero)
            XCTAssertGreaterThan(f.timestampSeconds, 1_600_000_000)
            XCTAssertNil(f.problem)
        }
        let k = try ring.kernelStatistics()
        XCTAssertEqual(k.drops, 0)
        XCTAssertEqual(ring.ringAnomalies, 0)
    }

    func testServiceCountsTrafficToItsPort() throws {
        let port = unusedUDPPort()
        let service = CaptureService(
            options: CaptureOptions(interface: "lo", ring: RingConfig(blockSize: 1 << 16, blockCount: 8, retireTimeoutMilliseconds: 10)),
            watchedPort: port)
        try service.start()
        XCTAssertTrue(service.isRunning)
        try service.start()  // idempotent
        sendUDP(port: port, count: 20, size: 64)
        let deadline = CaptureService.monotonicMilliseconds() + 3000
        while service.snapshot().toPort.packets < 20 && CaptureService.monotonicMilliseconds() < deadline {
            usleep(20_000)
        }
        service.stop()
        XCTAssertFalse(service.isRunning)
        let s = service.snapshot()
        XCTAssertEqual(s.toPort.packets, 20)
        XCTAssertEqual(s.toPort.payloadBytes, 20 * 64)
        XCTAssertEqual(s.toPort.bytes, 20 * (14 + 20 + 8 + 64))
        XCTAssertEqual(s.kernel.drops, 0)
        XCTAssertGreaterThanOrEqual(s.frames, 20)
        let info = service.infoSection()
        XCTAssertTrue(info.contains("capture_port_in:packets=20,bytes=2120,payload_bytes=1280\r\n"), info)
        XCTAssertTrue(info.contains("capture_interface:lo\r\n"))
        service.stop()  // idempotent
        // Restart after stop keeps the counters until reset.
        try service.start()
        service.stop()
        XCTAssertEqual(service.snapshot().toPort.packets, 20)
        service.resetStats()
        XCTAssertEqual(service.snapshot().frames, 0)
    }
}
