import FuzzSupport
import RESP

// The RESP parser fed as recv delivers bytes: the stream is cut at points
// chosen by the first bytes, each piece appended to a connection buffer
// that keeps its ParseProgress between reads. Every command, skip and
// error must equal what one parse of the whole stream gives.

private let protocolErrors: Set<String> = [
    "too big mbulk count string", "invalid multibulk length", "unauthenticated multibulk length",
    "too big bulk count string", "invalid bulk length", "unauthenticated bulk length",
    "too big inline request", "unbalanced quotes in request",
]

private func isProtocolError(_ m: String) -> Bool {
    protocolErrors.contains(m) || (m.hasPrefix("expected '$', got '") && m.hasSuffix("'"))
}

private enum Event: Equatable {
    case command([[UInt8]], consumed: Int)
    case skip(Int)
    case error(String)
}

private let args = ArgVector(capacity: 4)

private func snapshot() -> [[UInt8]] { (0..<args.count).map { args[$0].bytes } }

/// Parses `stream` delivered in pieces ending at `cuts` (sorted offsets).
private func run(_ stream: [UInt8], cuts: [Int], limits: ProtocolLimits, resumable: Bool) -> [Event] {
    var events: [Event] = []
    var buf: [UInt8] = []
    var progress = ParseProgress()
    var delivered = 0
    for end in cuts + [stream.count] where end > delivered {
        buf.append(contentsOf: stream[delivered..<end])
        delivered = end
        while !buf.isEmpty {
            let r: ParseResult = buf.withUnsafeBufferPointer { b in
                resumable
                    ? parseCommand(b.baseAddress!, b.count, into: args, limits: limits, progress: &progress)
                    : parseCommand(b.baseAddress!, b.count, into: args, limits: limits)
            }
            switch r {
            case .command(let consumed):
                fuzzCheck(consumed > 0 && consumed <= buf.count, "consumed \(consumed) of \(buf.count)")
                fuzzCheck(args.count > 0, "command with no arguments")
                events.append(.command(snapshot(), consumed: consumed))
                buf.removeFirst(consumed)
            case .skip(let consumed):
                fuzzCheck(consumed > 0 && consumed <= buf.count, "skip \(consumed) of \(buf.count)")
                events.append(.skip(consumed))
                buf.removeFirst(consumed)
            case .incomplete(let need):
                fuzzCheck(need == 0 || need > buf.count, "incomplete, need \(need) with \(buf.count) held")
                break
            case .error(let m):
                fuzzCheck(isProtocolError(m), "not a Redis protocol error: \(m)")
                events.append(.error(m))
                return events
            }
            if case .incomplete = r { break }
        }
    }
    return events
}

/// As in Redis, a line still without its newline is refused once the buffer
/// holds more than the inline limit ("too big ..."), so a long line that
/// arrives whole can pass where the same line in pieces is refused: the
/// split run may stop early with such an error, after the same events.
private func agree(_ whole: [Event], _ split: [Event]) -> Bool {
    if whole == split { return true }
    guard case .error(let m)? = split.last, m.hasPrefix("too big ") else { return false }
    return split.count - 1 <= whole.count && Array(whole.prefix(split.count - 1)) == Array(split.dropLast())
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // byte 0: bits 0-2 the number of cuts, bit 3 small limits, bit 4 authRequired;
    // bytes 1...7: cut points, as fractions of the stream.
    let input = FuzzInput(data, size, control: 8)
    let stream = input.body
    var limits = ProtocolLimits()
    if input.byte(0) & 8 != 0 {
        limits.inlineMax = 32
        limits.maxBulkLen = 40
        limits.maxMultibulk = 6
    }
    limits.authRequired = input.byte(0) & 16 != 0
    let k = Int(input.byte(0) & 7)
    var cuts: [Int] = []
    for i in 0..<k { cuts.append(Int(input.byte(1 + i)) * stream.count / 256) }
    cuts.sort()
    // Byte-by-byte delivery for short streams: the harshest split.
    if input.byte(0) & 0x20 != 0 && stream.count <= 256 { cuts = Array(0..<stream.count) }

    let whole = run(stream, cuts: [], limits: limits, resumable: false)
    let pieces = run(stream, cuts: cuts, limits: limits, resumable: true)
    fuzzCheck(agree(whole, pieces), "split parse differs: whole \(whole) pieces \(pieces) cuts \(cuts)")
    let stateless = run(stream, cuts: cuts, limits: limits, resumable: false)
    fuzzCheck(agree(whole, stateless), "stateless split parse differs")
    return 0
}

@_cdecl("fuzz_resp_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
