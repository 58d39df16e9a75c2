import XCTest
import RESP

/// Runs the parser over `bytes` and returns the result plus the parsed
/// arguments copied out (they point into `bytes`, which dies with the call).
func parse(_ bytes: [UInt8], limits: ProtocolLimits = ProtocolLimits()) -> (ParseResult, [[UInt8]]) {
    let args = ArgVector()
    return bytes.withUnsafeBufferPointer { b -> (ParseResult, [[UInt8]]) in
        // A non-nil pointer even for empty input.
        let base = b.baseAddress ?? UnsafePointer(bitPattern: 8)!
        let r = parseCommand(base, b.count, into: args, limits: limits)
        var out: [[UInt8]] = []
        if case .command = r { for i in 0..<args.count { out.append(args[i].bytes) } }
        return (r, out)
    }
}

func parse(_ s: String, limits: ProtocolLimits = ProtocolLimits()) -> (ParseResult, [[UInt8]]) {
    parse(Array(s.utf8), limits: limits)
}

func strings(_ a: [[UInt8]]) -> [String] { a.map { String(decoding: $0, as: UTF8.self) } }

func assertCommand(_ r: ParseResult, consumed want: Int, file: StaticString = #filePath, line: UInt = #line) {
    guard case .command(let c) = r else { return XCTFail("expected .command, got \(r)", file: file, line: line) }
    XCTAssertEqual(c, want, "consumed", file: file, line: line)
}

func assertSkip(_ r: ParseResult, consumed want: Int, file: StaticString = #filePath, line: UInt = #line) {
    guard case .skip(let c) = r else { return XCTFail("expected .skip, got \(r)", file: file, line: line) }
    XCTAssertEqual(c, want, "consumed", file: file, line: line)
}

/// `need` nil: any value is accepted.
func assertIncomplete(_ r: ParseResult, need want: Int? = nil, file: StaticString = #filePath, line: UInt = #line) {
    guard case .incomplete(let n) = r else { return XCTFail("expected .incomplete, got \(r)", file: file, line: line) }
    if let want { XCTAssertEqual(n, want, "need", file: file, line: line) }
}

func assertError(_ r: ParseResult, _ msg: String, file: StaticString = #filePath, line: UInt = #line) {
    guard case .error(let m) = r else { return XCTFail("expected .error(\(msg)), got \(r)", file: file, line: line) }
    XCTAssertEqual(m, msg, file: file, line: line)
}

/// RESP multibulk encoding of `args`.
func multibulk(_ args: [String]) -> [UInt8] {
    var s = "*\(args.count)\r\n"
    for a in args { s += "$\(a.utf8.count)\r\n\(a)\r\n" }
    return Array(s.utf8)
}
