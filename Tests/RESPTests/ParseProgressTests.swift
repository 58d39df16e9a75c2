import XCTest
@testable import RESP

/// The saved parse position: a command arriving in pieces is checked once,
/// not rescanned from its start on every recv.
final class ParseProgressTests: XCTestCase {
    /// Feeds `bytes` growing by `step` as a connection buffer would, and
    /// returns the arguments of the one command plus the number of calls.
    private func feed(_ bytes: [UInt8], step: Int, limits: ProtocolLimits = ProtocolLimits()) -> (ParseResult, [[UInt8]], ParseProgress) {
        let args = ArgVector()
        var progress = ParseProgress()
        var result = ParseResult.incomplete(need: 0)
        var out: [[UInt8]] = []
        bytes.withUnsafeBufferPointer { b in
            var n = 0
            while n < b.count {
                n = min(b.count, n + step)
                result = parseCommand(b.baseAddress!, n, into: args, limits: limits, progress: &progress)
                if case .incomplete = result { continue }
                break
            }
            if case .command = result { for i in 0..<args.count { out.append(args[i].bytes) } }
        }
        return (result, out, progress)
    }

    func testEverySplitGivesTheSameCommand() {
        let words = ["MSET", "k1", "hello world", "k2", "", "k3", String(repeating: "v", count: 300)]
        let cmd = multibulk(words)
        for step in 1...cmd.count {
            let (r, args, progress) = feed(cmd, step: step)
            assertCommand(r, consumed: cmd.count)
            XCTAssertEqual(strings(args), words, "step \(step)")
            XCTAssertFalse(progress.active, "step \(step)")
        }
    }

    func testProgressRecordsCheckedArguments() {
        let cmd = multibulk(["DEL", "a", "b", "c", "d"])
        let args = ArgVector()
        var progress = ParseProgress()
        cmd.withUnsafeBufferPointer { b in
            // Cut inside the fourth argument's payload ("c").
            let cut = multibulk(["DEL", "a", "b"]).count - 2 + 7 + 1
            let r = parseCommand(b.baseAddress!, cut, into: args, limits: ProtocolLimits(), progress: &progress)
            assertIncomplete(r)
            XCTAssertEqual(progress.argc, 5)
            XCTAssertEqual(progress.done, 3)
        }
    }

    func testErrorsAfterResumeAreTheStatelessOnes() {
        var bad = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n".utf8)
        let args = ArgVector()
        var progress = ParseProgress()
        bad.withUnsafeBufferPointer { b in
            assertIncomplete(parseCommand(b.baseAddress!, b.count, into: args, limits: ProtocolLimits(), progress: &progress))
        }
        XCTAssertTrue(progress.active)
        bad += Array("?1\r\nv\r\n".utf8)
        bad.withUnsafeBufferPointer { b in
            assertError(parseCommand(b.baseAddress!, b.count, into: args, limits: ProtocolLimits(), progress: &progress),
                        "expected '$', got '?'")
        }
        XCTAssertFalse(progress.active)
        assertError(parse(bad).0, "expected '$', got '?'")
    }

    /// `*2147483647` used to reserve room for 2^31 arguments at once.
    func testHugeCountDoesNotReserveByTheAnnouncedCount() {
        let args = ArgVector(capacity: 4)
        var progress = ParseProgress()
        let hdr = Array("*2147483647\r\n$3\r\nDEL\r\n".utf8)
        hdr.withUnsafeBufferPointer { b in
            assertIncomplete(parseCommand(b.baseAddress!, b.count, into: args, limits: ProtocolLimits(), progress: &progress))
        }
        XCTAssertLessThanOrEqual(args.capacity, initialArgvCap)
        XCTAssertEqual(progress.argc, 2147483647)
        XCTAssertEqual(progress.done, 1)
    }

    /// Checking a command that arrives in small pieces must scan each header
    /// about once: count the header scans instead of timing them.
    func testTrickledCommandIsLinear() {
        var words = ["DEL"]
        for i in 0..<20_000 { words.append("key:\(i)") }
        let cmd = multibulk(words)
        let args = ArgVector()
        var progress = ParseProgress()
        var calls = 0
        var doneSum = 0
        cmd.withUnsafeBufferPointer { b in
            var n = 0
            while n < b.count {
                n = min(b.count, n + 97)
                calls += 1
                let before = progress.done
                let r = parseCommand(b.baseAddress!, n, into: args, limits: ProtocolLimits(), progress: &progress)
                if case .incomplete = r { doneSum += progress.done - before; continue }
                assertCommand(r, consumed: cmd.count)
            }
        }
        XCTAssertEqual(args.count, words.count)
        // Every argument but the last few was checked exactly once on the way.
        XCTAssertGreaterThan(doneSum, words.count - 10)
        XCTAssertLessThanOrEqual(doneSum, words.count)
        XCTAssertGreaterThan(calls, 1000)
    }
}
