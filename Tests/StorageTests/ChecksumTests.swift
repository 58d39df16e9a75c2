import Storage
import XCTest

final class ChecksumTests: XCTestCase {
    func testCRC64MatchesRedisCheckValue() {
        // Redis's crc64.c test vector for "123456789".
        let v = Array("123456789".utf8).withUnsafeBytes { crc64(0, $0) }
        XCTAssertEqual(v, 0xE9C6_D914_C4B8_D9CA)
        XCTAssertEqual([UInt8]().withUnsafeBytes { crc64(0, $0) }, 0)
    }

    func testLZFLiteralsAndBackReferences() {
        // "abc" as a literal run, then a 3-byte copy from 3 bytes back.
        let input: [UInt8] = [0x02, 97, 98, 99, 0x20, 0x02]
        let out = input.withUnsafeBytes { lzfDecompress($0, outLen: 6) }
        XCTAssertEqual(out.map { String(decoding: $0, as: UTF8.self) }, "abcabc")
        // Overlapping copy: "a" then 9 more from 1 back.
        let run: [UInt8] = [0x00, 97, 0xE0, 0x00, 0x00]
        XCTAssertEqual(run.withUnsafeBytes { lzfDecompress($0, outLen: 10) }, Array(repeating: 97, count: 10))
    }

    func testLZFRejectsMalformedInput() {
        let cases: [([UInt8], Int)] = [
            ([0x05, 97], 6),             // literal runs past the input
            ([0x20, 0x05], 3),           // back reference before the start
            ([0x02, 97, 98, 99], 4),     // shorter than announced
            ([0x02, 97, 98, 99], 2),     // longer than announced
        ]
        for (input, n) in cases {
            XCTAssertNil(input.withUnsafeBytes { lzfDecompress($0, outLen: n) }, "\(input)")
        }
    }
}
