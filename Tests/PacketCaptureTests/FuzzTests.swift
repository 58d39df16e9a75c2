import XCTest
@testable import PacketCapture

/// Random and mutated bytes must never crash the decoder, the filter
/// interpreter or the stats; this is the cheap stand-in for a fuzzer.
final class FuzzTests: XCTestCase {
    /// A fixed seed keeps failures reproducible.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomBytes() {
        var rng = SplitMix64(state: 0xC0FFEE)
        var stats = CaptureStats(watchedPort: 6379)
        let programs = [CaptureFilter(port: 6379).compile(), CaptureFilter(host: IPAddress("10.0.0.1")).compile(),
                        CaptureFilter(etherType: 0x0800, port: 80, host: IPAddress("2001:db8::1")).compile()]
        for i in 0..<20_000 {
            let n = Int.random(in: 0...200, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Steer a share of inputs into the deeper decoders.
            if n >= 14, i % 2 == 0 {
                let types: [UInt16] = [0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8]
                let t = types[i / 2 % types.count]
                bytes[12] = UInt8(t >> 8); bytes[13] = UInt8(t & 0xFF)
                if n > 14, t == 0x0800 { bytes[14] = 0x45 }
                if n > 14, t == 0x86DD { bytes[14] = 0x60 }
            }
            let link: LinkLayer = i % 7 == 0 ? .rawIP : .ethernet
            let f = FrameDecoder.decode(bytes, metadata: FrameMetadata(linkLayer: link))
            XCTAssertEqual(f.capturedLength, n)
            stats.record(f)
            for p in programs { _ = p.run(on: bytes) }
        }
        XCTAssertEqual(stats.frames, 20_000)
        XCTAssertGreaterThan(stats.damagedFrames, 0)
    }

    func testMutatedValidFrames() {
        var rng = SplitMix64(state: 42)
        let seeds = [FrameBuilder.arpFrame(), FrameBuilder.tcp4Frame(), FrameBuilder.udp6Frame()]
        for i in 0..<20_000 {
            var bytes = seeds[i % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            let f = FrameDecoder.decode(bytes)
            XCTAssertLessThanOrEqual(f.capturedLength, 86)
        }
    }
}
