import XCTest
@testable import PacketCapture

final class BPFTests: XCTestCase {
    typealias B = FrameBuilder

    /// Every jump lands inside the program and the program ends in returns,
    /// which is what the kernel's verifier insists on.
    func assertWellFormed(_ p: BPFProgram, file: StaticString = #filePath, line: UInt = #line) {
        let insns = p.instructions
        XCTAssertLessThanOrEqual(insns.count, 4096, file: file, line: line)
        XCTAssertEqual(insns.last?.code, BPFOp.retK, file: file, line: line)
        for (i, insn) in insns.enumerated() where insn.code == BPFOp.jeqK || insn.code == BPFOp.jsetK {
            XCTAssertLessThan(i + 1 + Int(insn.jt), insns.count, file: file, line: line)
            XCTAssertLessThan(i + 1 + Int(insn.jf), insns.count, file: file, line: line)
        }
    }

    func testEtherTypeProgramMatchesTcpdump() {
        // `tcpdump -dd arp` prints exactly these four instructions.
        let p = CaptureFilter(etherType: 0x0806).compile()
        XCTAssertEqual(p.instructions, [
            BPFInstruction(code: 0x28, k: 12),
            BPFInstruction(code: 0x15, jt: 0, jf: 1, k: 0x0806),
            BPFInstruction(code: 0x06, k: 0x40000),
            BPFInstruction(code: 0x06, k: 0),
        ])
        XCTAssertEqual(p.run(on: B.arpFrame()), 0x40000)
        XCTAssertEqual(p.run(on: B.tcp4Frame()), 0)
    }

    func testEmptyFilterAcceptsEverything() {
        let p = CaptureFilter().compile()
        XCTAssertEqual(p.instructions.count, 2)
        XCTAssertNotEqual(p.run(on: [UInt8]()), 0)
        XCTAssertTrue(CaptureFilter().isEmpty)
    }

    func testPortProgram() {
        let p = CaptureFilter(port: 6379).compile()
        assertWellFormed(p)
        XCTAssertNotEqual(p.run(on: B.tcp4Frame(sport: 40000, dport: 6379)), 0)
        XCTAssertNotEqual(p.run(on: B.tcp4Frame(sport: 6379, dport: 40000)), 0)
        XCTAssertEqual(p.run(on: B.tcp4Frame(sport: 1, dport: 2)), 0)
        XCTAssertEqual(p.run(on: B.arpFrame()), 0)
        XCTAssertNotEqual(p.run(on: B.udp6Frame(sport: 6379, dport: 1)), 0)
        XCTAssertEqual(p.run(on: B.udp6Frame(sport: 5, dport: 1)), 0)
        // IPv4 options shift the ports; the program follows the IHL.
        let withOptions = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                                     payload: B.ipv4(src: B.ipA, dst: B.ipB, proto: 17, options: [1, 1, 1, 0, 1, 1, 1, 0],
                                                     payload: B.udp(sport: 9, dport: 6379, payload: [])))
        XCTAssertNotEqual(p.run(on: withOptions), 0)
        // A later fragment's "ports" are payload bytes; reject it.
        let fragment = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                                  payload: B.ipv4(src: B.ipA, dst: B.ipB, proto: 17, fragment: 0x0020,
                                                  payload: B.udp(sport: 6379, dport: 6379, payload: [])))
        XCTAssertEqual(p.run(on: fragment), 0)
        // ICMP carries no ports.
        let icmp = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                              payload: B.ipv4(src: B.ipA, dst: B.ipB, proto: 1, payload: [0x18, 0xeb, 0x18, 0xeb, 0, 0, 0, 0]))
        XCTAssertEqual(p.run(on: icmp), 0)
    }

    func testIPv4HostProgramIncludesARP() {
        let p = CaptureFilter(host: IPAddress("10.0.0.2")).compile()
        assertWellFormed(p)
        XCTAssertNotEqual(p.run(on: B.tcp4Frame()), 0)  // as destination
        XCTAssertNotEqual(p.run(on: B.arpFrame()), 0)   // as ARP target
        let other = B.ethernet(dst: B.macB, src: B.macA, type: EtherType.ipv4,
                               payload: B.ipv4(src: IPv4Address(1, 1, 1, 1), dst: IPv4Address(8, 8, 8, 8), proto: 17, payload: []))
        XCTAssertEqual(p.run(on: other), 0)
        XCTAssertEqual(p.run(on: B.udp6Frame()), 0)
        let asSource = CaptureFilter(host: IPAddress("10.0.0.1")).compile()
        XCTAssertNotEqual(asSource.run(on: B.tcp4Frame()), 0)
    }

    func testIPv6HostProgram() {
        let src = CaptureFilter(host: IPAddress("2001:db8::1")).compile()
        let dst = CaptureFilter(host: IPAddress("fe80::2")).compile()
        let none = CaptureFilter(host: IPAddress("2001:db8::2")).compile()
        assertWellFormed(src)
        XCTAssertNotEqual(src.run(on: B.udp6Frame()), 0)
        XCTAssertNotEqual(dst.run(on: B.udp6Frame()), 0)
        XCTAssertEqual(none.run(on: B.udp6Frame()), 0)
        XCTAssertEqual(src.run(on: B.tcp4Frame()), 0)
    }

    func testFiltersAreANDed() {
        let f = CaptureFilter(etherType: EtherType.ipv4, port: 6379, host: IPAddress("10.0.0.1"))
        let p = f.compile()
        assertWellFormed(p)
        XCTAssertNotEqual(p.run(on: B.tcp4Frame()), 0)
        XCTAssertEqual(p.run(on: B.tcp4Frame(dport: 80)), 0)
        XCTAssertEqual(CaptureFilter(etherType: EtherType.arp, port: 6379).compile().run(on: B.tcp4Frame()), 0)
    }

    /// The BPF program and `matches` on the decoded frame must agree on
    /// every well-formed untagged frame.
    func testProgramAgreesWithUserSpaceFilter() {
        let frames = [B.arpFrame(), B.tcp4Frame(), B.tcp4Frame(sport: 80, dport: 1234), B.udp6Frame(),
                      B.udp6Frame(sport: 80, dport: 80)]
        let filters = [CaptureFilter(etherType: 0x0800), CaptureFilter(etherType: 0x86DD), CaptureFilter(port: 80),
                       CaptureFilter(port: 6379), CaptureFilter(host: IPAddress("10.0.0.1")),
                       CaptureFilter(host: IPAddress("fe80::2")), CaptureFilter(etherType: 0x0800, port: 80)]
        for filter in filters {
            let p = filter.compile()
            for frame in frames {
                XCTAssertEqual(p.run(on: frame) != 0, filter.matches(FrameDecoder.decode(frame)), "\(filter) on \(frame.count)-byte frame")
            }
        }
    }

    func testDescriptionIsTcpdumpStyle() {
        XCTAssertEqual(BPFInstruction(code: 0x15, jt: 0, jf: 1, k: 0x806).description, "{ 0x15, 0, 1, 0x806 }")
    }
}
