import FuzzSupport
import RESP

// Inline commands and sdssplitargs: the split agrees with the inline parser,
// and quoting every argument then splitting again gives the same arguments.

private let args = ArgVector(capacity: 4)
private let hex = Array("0123456789abcdef".utf8)

/// Each byte as \xHH inside double quotes: splitArgs must read it back exactly.
private func quoted(_ a: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for (i, arg) in a.enumerated() {
        if i > 0 { out.append(32) }
        out.append(34)
        for c in arg { out += [92, 120, hex[Int(c >> 4)], hex[Int(c & 15)]] }
        out.append(34)
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = Array(UnsafeBufferPointer(start: data, count: size))
    let split = line.withUnsafeBufferPointer { splitArgs($0) }
    if let split {
        let again = quoted(split).withUnsafeBufferPointer { splitArgs($0) }
        fuzzCheck(again == split, "quoted round trip: \(split) -> \(String(describing: again))")
    }

    // The inline parser on the first line, as a client would send it.
    guard let nl = line.firstIndex(of: 10) ?? Optional(line.count), nl > 0, line[0] != 42 else { return 0 }
    var first = Array(line[0..<nl])
    let expected = first.withUnsafeBufferPointer { splitArgs($0) }
    first += [13, 10]
    var limits = ProtocolLimits()
    limits.inlineMax = 1 << 20
    let r = first.withUnsafeBufferPointer { parseCommand($0.baseAddress!, $0.count, into: args, limits: limits) }
    switch r {
    case .command(let consumed):
        fuzzCheck(consumed == first.count, "inline consumed \(consumed) of \(first.count)")
        let got = (0..<args.count).map { args[$0].bytes }
        fuzzCheck(expected == got, "inline args \(got) vs splitArgs \(String(describing: expected))")
    case .skip(let consumed):
        fuzzCheck(consumed == first.count && expected == [], "skip of a non-empty line")
    case .error(let m):
        fuzzCheck(m == "unbalanced quotes in request" && expected == nil, "inline error \(m)")
    case .incomplete:
        fuzzCheck(false, "inline line with CRLF incomplete")
    }
    return 0
}

@_cdecl("fuzz_inline_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
