import XCTest
import RESP

final class ReplyTests: XCTestCase {
    func encode(_ proto: Int, _ body: (Reply) -> Void) -> String {
        let buf = ByteBuf(capacity: 16)
        body(Reply(buf, proto: proto))
        return String(decoding: buf.bytes, as: UTF8.self)
    }

    func both(_ body: (Reply) -> Void) -> (String, String) { (encode(2, body), encode(3, body)) }

    func testSimpleAndErrors() {
        XCTAssertEqual(encode(2) { $0.ok() }, "+OK\r\n")
        XCTAssertEqual(encode(2) { $0.simple("PONG") }, "+PONG\r\n")
        XCTAssertEqual(encode(2) { $0.error("ERR syntax error") }, "-ERR syntax error\r\n")
        // Error lines stay one line: CR and LF become spaces.
        XCTAssertEqual(encode(2) { $0.error(string: "ERR a\r\nb") }, "-ERR a  b\r\n")
        XCTAssertEqual(encode(3) { $0.error(bytes: Array("ERR x\ny".utf8)) }, "-ERR x y\r\n")
    }

    func testIntegers() {
        XCTAssertEqual(encode(2) { $0.int(0) }, ":0\r\n")
        XCTAssertEqual(encode(2) { $0.int(-42) }, ":-42\r\n")
        XCTAssertEqual(encode(3) { $0.int(Int.min) }, ":-9223372036854775808\r\n")
        XCTAssertEqual(encode(2) { $0.int(Int.max) }, ":9223372036854775807\r\n")
    }

    func testBulk() {
        XCTAssertEqual(encode(2) { $0.bulk(Array("hello".utf8)) }, "$5\r\nhello\r\n")
        XCTAssertEqual(encode(3) { $0.bulk(static: "") }, "$0\r\n\r\n")
        XCTAssertEqual(encode(2) { $0.bulkDecimal(-123) }, "$4\r\n-123\r\n")
        let big = [UInt8](repeating: 97, count: 70_000)
        let s = encode(2) { $0.bulk(big) }
        XCTAssertTrue(s.hasPrefix("$70000\r\naaa"))
        XCTAssertEqual(s.utf8.count, 8 + 70_000 + 2)
    }

    func testNull() {
        let (r2, r3) = both { $0.null() }
        XCTAssertEqual(r2, "$-1\r\n")
        XCTAssertEqual(r3, "_\r\n")
        let (a2, a3) = both { $0.nullArray() }
        XCTAssertEqual(a2, "*-1\r\n")
        XCTAssertEqual(a3, "_\r\n")
    }

    func testMapIsFlatArrayInResp2() {
        let body: (Reply) -> Void = { r in
            r.map(2)
            r.bulk(static: "a"); r.int(1)
            r.bulk(static: "b"); r.int(2)
        }
        let (r2, r3) = both(body)
        XCTAssertEqual(r2, "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n")
        XCTAssertEqual(r3, "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n")
    }

    func testSetArrayPush() {
        XCTAssertEqual(encode(2) { $0.set(3) }, "*3\r\n")
        XCTAssertEqual(encode(3) { $0.set(3) }, "~3\r\n")
        XCTAssertEqual(encode(2) { $0.array(0) }, "*0\r\n")
        XCTAssertEqual(encode(3) { $0.array(2) }, "*2\r\n")
        XCTAssertEqual(encode(2) { $0.push(3) }, "*3\r\n")
        XCTAssertEqual(encode(3) { $0.push(3) }, ">3\r\n")
    }

    func testDouble() {
        let (r2, r3) = both { $0.double(formatted: "3.14") }
        XCTAssertEqual(r2, "$4\r\n3.14\r\n")
        XCTAssertEqual(r3, ",3.14\r\n")
        XCTAssertEqual(encode(3) { $0.double(formatted: "inf") }, ",inf\r\n")
        XCTAssertEqual(encode(2) { $0.double(formatted: "-inf") }, "$4\r\n-inf\r\n")
    }

    func testBool() {
        XCTAssertEqual(encode(2) { $0.bool(true) }, ":1\r\n")
        XCTAssertEqual(encode(2) { $0.bool(false) }, ":0\r\n")
        XCTAssertEqual(encode(3) { $0.bool(true) }, "#t\r\n")
        XCTAssertEqual(encode(3) { $0.bool(false) }, "#f\r\n")
    }

    func testVerbatim() {
        let (r2, r3) = both { $0.verbatim("# Server\r\nx:1\r\n") }
        XCTAssertEqual(r2, "$15\r\n# Server\r\nx:1\r\n\r\n")
        // The length counts the "txt:" prefix.
        XCTAssertEqual(r3, "=19\r\ntxt:# Server\r\nx:1\r\n\r\n")
    }

    func testRepliesAppendInOrder() {
        // Pipelined replies accumulate in one buffer, in order.
        let s = encode(2) { r in r.ok(); r.null(); r.int(7); r.bulk(static: "x") }
        XCTAssertEqual(s, "+OK\r\n$-1\r\n:7\r\n$1\r\nx\r\n")
    }
}
