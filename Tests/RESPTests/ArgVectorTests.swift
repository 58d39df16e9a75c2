import XCTest
@testable import RESP

/// `exchange(with:)`: a busy script's worker parks the running command's
/// arguments, parses other connections' commands into the same vector, and
/// trades the first back; it must come back intact even when it was an
/// inline command whose arguments live in the vector's scratch.
final class ArgVectorTests: XCTestCase {
    private func parseInto(_ a: ArgVector, _ s: String) {
        let bytes = Array(s.utf8)
        bytes.withUnsafeBufferPointer { b in
            _ = parseCommand(b.baseAddress!, b.count, into: a, limits: ProtocolLimits())
        }
    }

    private func words(_ a: ArgVector) -> [String] {
        (0..<a.count).map { String(decoding: a[$0].bytes, as: UTF8.self) }
    }

    func testParkedInlineCommandSurvivesOtherParses() {
        let a = ArgVector(capacity: 2)
        let parked = ArgVector(capacity: 2)
        parseInto(a, "EVAL \"while true do end\" 0 \"\\x41\"\r\n")
        let before = words(a)
        XCTAssertEqual(before, ["EVAL", "while true do end", "0", "A"])
        a.exchange(with: parked)
        XCTAssertEqual(a.count, 0)
        // Longer than the parked scratch and more arguments than its capacity.
        parseInto(a, "SET " + String(repeating: "k", count: 600) + " \"\\x42\" EX 10 NX GET\r\n")
        XCTAssertEqual(a.count, 7)
        a.exchange(with: parked)
        XCTAssertEqual(words(a), before)
        XCTAssertEqual(parked.count, 7)
    }
}
