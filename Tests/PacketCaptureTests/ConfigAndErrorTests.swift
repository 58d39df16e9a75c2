import XCTest
@testable import PacketCapture

final class ConfigAndErrorTests: XCTestCase {
    func testDefaultRingIsValid() throws {
        try RingConfig().validate()
    }

    func testBadGeometryIsExplained() {
        for bad in [RingConfig(blockSize: 1000), RingConfig(blockCount: 0), RingConfig(frameSize: 100),
                    RingConfig(blockSize: 4096, frameSize: 8192), RingConfig(retireTimeoutMilliseconds: -1)] {
            XCTAssertThrowsError(try bad.validate()) { e in
                guard case CaptureError.badRingConfig = e else { return XCTFail("\(e)") }
            }
        }
    }

    func testErrorMessagesNameTheFix() {
        XCTAssertEqual(CaptureError.needsCapNetRaw.description,
                       "capture needs CAP_NET_RAW: run as root or add --cap-add NET_RAW to docker run")
        XCTAssertEqual(CaptureError.unknownInterface("eth9", available: ["lo", "eth0"]).description,
                       "unknown interface 'eth9'; interfaces here: lo, eth0")
    }

    func testUnknownInterfaceListsTheRealOnes() {
        XCTAssertThrowsError(try PacketRing(options: CaptureOptions(interface: "no-such-if0"))) { e in
            guard case CaptureError.unknownInterface(let name, let available) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(name, "no-such-if0")
            XCTAssertTrue(available.contains("lo"))
        }
    }

    func testAddressParsingAndFormatting() {
        XCTAssertEqual(MACAddress("02:FC:00:00:00:01")?.description, "02:fc:00:00:00:01")
        XCTAssertNil(MACAddress("02:fc:00:00:00"))
        XCTAssertEqual(IPv4Address("192.168.1.254")?.description, "192.168.1.254")
        XCTAssertNil(IPv4Address("256.1.1.1"))
        XCTAssertNil(IPv4Address("1.2.3"))
        XCTAssertEqual(IPAddress("::1")?.description, "::1")
        XCTAssertEqual(hex16(0x0806), "0x0806")
        XCTAssertEqual(hex16(0x86DD), "0x86dd")
    }

    func testServiceReportsMissingInterfaceOnStart() {
        let service = CaptureService(options: CaptureOptions(interface: "no-such-if0"), watchedPort: 6379)
        XCTAssertThrowsError(try service.start())
        XCTAssertFalse(service.isRunning)
        XCTAssertTrue(service.infoSection().hasPrefix("# Capture\r\ncapture_enabled:0\r\n"))
    }
}
