import XCTest
import RESP

final class ParserTests: XCTestCase {
    // MARK: complete input

    func testCompleteMultibulk() {
        let cmd = multibulk(["SET", "key", "value"])
        let (r, args) = parse(cmd)
        assertCommand(r, consumed: cmd.count)
        XCTAssertEqual(strings(args), ["SET", "key", "value"])
    }

    func testBinarySafeBulk() {
        // CR, LF and NUL inside a bulk are payload, not framing.
        let payload: [UInt8] = [0, 13, 10, 255, 36, 42]
        var cmd = Array("*2\r\n$3\r\nGET\r\n$6\r\n".utf8)
        cmd += payload + [13, 10]
        let (r, args) = parse(cmd)
        assertCommand(r, consumed: cmd.count)
        XCTAssertEqual(args, [Array("GET".utf8), payload])
    }

    func testEmptyBulkArgument() {
        let cmd = multibulk(["ECHO", ""])
        let (r, args) = parse(cmd)
        assertCommand(r, consumed: cmd.count)
        XCTAssertEqual(strings(args), ["ECHO", ""])
    }

    func testEmptyAndNegativeMultibulkAreSkipped() {
        assertSkip(parse("*0\r\n").0, consumed: 4)
        assertSkip(parse("*-1\r\n").0, consumed: 5)
    }

    func testEmptyInputIsIncomplete() {
        assertIncomplete(parse([UInt8]()).0)
    }

    // MARK: partial input

    func testEverySplitPointOfMultibulkIsIncomplete() {
        let cmd = multibulk(["MSET", "k1", "hello world", "k2", ""])
        for cut in 0..<cmd.count {
            let (r, _) = parse(Array(cmd[0..<cut]))
            assertIncomplete(r)
            // Once the parser knows the full size, it must name it exactly.
            if case .incomplete(let need) = r, need != 0 {
                XCTAssertLessThanOrEqual(need, cmd.count, "cut \(cut)")
                XCTAssertGreaterThan(need, cut, "cut \(cut)")
            }
        }
        let (r, args) = parse(cmd)
        assertCommand(r, consumed: cmd.count)
        XCTAssertEqual(strings(args), ["MSET", "k1", "hello world", "k2", ""])
    }

    func testEverySplitPointOfInlineIsIncomplete() {
        let line = Array("SET \"a b\" 'c d'\r\n".utf8)
        for cut in 0..<(line.count - 1) {   // a line is complete at its '\n'
            assertIncomplete(parse(Array(line[0..<cut])).0)
        }
        let (r, args) = parse(line)
        assertCommand(r, consumed: line.count)
        XCTAssertEqual(strings(args), ["SET", "a b", "c d"])
    }

    func testResumingAfterEachSplitGivesSameCommand() {
        // Feed the command in two chunks at every split point, as a
        // connection buffer that grows between recvs would.
        let cmd = multibulk(["GETRANGE", "key", "0", "-1"])
        for cut in 1..<cmd.count {
            var buf = Array(cmd[0..<cut])
            assertIncomplete(parse(buf).0)
            buf += cmd[cut...]
            let (r, args) = parse(buf)
            assertCommand(r, consumed: cmd.count)
            XCTAssertEqual(strings(args), ["GETRANGE", "key", "0", "-1"])
        }
    }

    func testBigBulkReportsTotalNeed() {
        let n = 100_000
        let header = Array("*2\r\n$3\r\nSET\r\n$\(n)\r\n".utf8)
        let total = header.count + n + 2
        // Header only, and header plus part of the payload: same exact need.
        assertIncomplete(parse(header).0, need: total)
        assertIncomplete(parse(header + [UInt8](repeating: 120, count: n / 2)).0, need: total)
        // Payload complete but its CRLF missing.
        assertIncomplete(parse(header + [UInt8](repeating: 120, count: n)).0, need: total)
        let full = header + [UInt8](repeating: 120, count: n) + [13, 10]
        let (r, args) = parse(full)
        assertCommand(r, consumed: total)
        XCTAssertEqual(args.count, 2)
        XCTAssertEqual(args[1].count, n)
    }

    // MARK: pipelining

    func testPipelinedCommandsParseOneAtATime() {
        let a = multibulk(["GET", "a"]), b = multibulk(["INCR", "counter"])
        let c = Array("PING\r\n".utf8)
        var buf = a + b + c
        var seen: [[String]] = []
        while !buf.isEmpty {
            let (r, args) = parse(buf)
            guard case .command(let used) = r else { return XCTFail("got \(r) with \(buf.count) bytes left") }
            seen.append(strings(args))
            buf.removeFirst(used)
        }
        XCTAssertEqual(seen, [["GET", "a"], ["INCR", "counter"], ["PING"]])
    }

    func testPipelineWithTrailingPartialCommand() {
        let a = multibulk(["GET", "a"]), b = multibulk(["GET", "bb"])
        let buf = a + b[0..<(b.count - 3)]
        let (r1, _) = parse(buf)
        assertCommand(r1, consumed: a.count)
        assertIncomplete(parse(Array(buf[a.count...])).0)
    }

    // MARK: malformed input

    func testInvalidMultibulkLength() {
        assertError(parse("*abc\r\n").0, "invalid multibulk length")
        assertError(parse("*+1\r\n").0, "invalid multibulk length")
        var limits = ProtocolLimits()
        limits.maxMultibulk = 10
        assertError(parse("*11\r\n", limits: limits).0, "invalid multibulk length")
    }

    func testExpectedDollar() {
        assertError(parse("*1\r\n:5\r\n").0, "expected '$', got ':'")
        assertError(parse("*2\r\n$3\r\nGET\r\nx\r\n").0, "expected '$', got 'x'")
        // Like Redis, the line end is looked for before the '$' is checked.
        guard case .incomplete = parse("*2\r\n$3\r\nGET\r\nx").0 else {
            return XCTFail("a bulk header without its line end must wait for more bytes")
        }
    }

    func testInvalidBulkLength() {
        assertError(parse("*1\r\n$-1\r\n").0, "invalid bulk length")
        assertError(parse("*1\r\n$abc\r\n").0, "invalid bulk length")
        assertError(parse("*1\r\n$01\r\n").0, "invalid bulk length")
        var limits = ProtocolLimits()
        limits.maxBulkLen = 1000
        assertError(parse("*1\r\n$1001\r\n", limits: limits).0, "invalid bulk length")
        assertIncomplete(parse("*1\r\n$1000\r\n", limits: limits).0, need: 4 + 7 + 1000 + 2)
    }

    func testOverlongHeadersWithoutNewline() {
        var limits = ProtocolLimits()
        limits.inlineMax = 64
        let digits = String(repeating: "1", count: 100)
        assertError(parse("*" + digits, limits: limits).0, "too big mbulk count string")
        assertError(parse("*1\r\n$" + digits, limits: limits).0, "too big bulk count string")
        assertError(parse(String(repeating: "a", count: 100), limits: limits).0, "too big inline request")
        // Under the limit the same input just waits for more bytes.
        assertIncomplete(parse(String(repeating: "a", count: 50), limits: limits).0)
    }

    // MARK: inline commands

    func testInlineSplitsOnWhitespace() {
        let (r, args) = parse("  SET\tkey   value  \r\n")
        assertCommand(r, consumed: 21)
        XCTAssertEqual(strings(args), ["SET", "key", "value"])
    }

    func testInlineWithoutCR() {
        let (r, args) = parse("PING\n")
        assertCommand(r, consumed: 5)
        XCTAssertEqual(strings(args), ["PING"])
    }

    func testBlankInlineLineIsSkipped() {
        assertSkip(parse("\r\n").0, consumed: 2)
        assertSkip(parse("   \n").0, consumed: 4)
    }

    func testInlineDoubleQuoteEscapes() {
        let (r, args) = parse(#"SET "a\"b" "\x41\x7a\n\r\t\b\a\\" "sp ace" """# + "\r\n")
        guard case .command = r else { return XCTFail("got \(r)") }
        XCTAssertEqual(args.count, 5)
        XCTAssertEqual(strings(Array(args[0..<2])), ["SET", "a\"b"])
        XCTAssertEqual(args[2], [0x41, 0x7a, 10, 13, 9, 8, 7, 92])
        XCTAssertEqual(strings(Array(args[3...])), ["sp ace", ""])
    }

    func testInlineBadHexEscapeIsLiteral() {
        // "\xZZ" is not a hex escape: the backslash drops, the rest stays.
        let (r, args) = parse(#"ECHO "\xZZ""# + "\n")
        guard case .command = r else { return XCTFail("got \(r)") }
        XCTAssertEqual(strings(args), ["ECHO", "xZZ"])
    }

    func testInlineSingleQuotes() {
        let (r, args) = parse(#"SET 'it\'s' 'no \n escape'"# + "\r\n")
        guard case .command = r else { return XCTFail("got \(r)") }
        XCTAssertEqual(strings(args), ["SET", "it's", #"no \n escape"#])
    }

    func testInlineUnbalancedQuotes() {
        assertError(parse("SET \"abc\r\n").0, "unbalanced quotes in request")
        assertError(parse("SET 'abc\r\n").0, "unbalanced quotes in request")
        // A closing quote must be followed by a space or the end.
        assertError(parse("SET \"abc\"def\r\n").0, "unbalanced quotes in request")
        assertError(parse("SET 'abc'def\r\n").0, "unbalanced quotes in request")
    }
}
