/// The shard's random numbers (splitmix64). Swift's system generator makes a
/// getrandom system call per draw, which cost SPOP a third of its time; this
/// one is seeded from it once and then draws in a few instructions. Owned by
/// one shard (`ShardStats.random`, a keyspace), so it needs no lock.
public struct ShardRandom: RandomNumberGenerator {
    public var state: UInt64

    public init() {
        var g = SystemRandomNumberGenerator()
        state = g.next()
    }

    public init(seed: UInt64) { state = seed }

    @inline(__always) public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0).
    @inline(__always) public mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

    /// A generator of its own for one command, seeded from this one.
    public mutating func split() -> ShardRandom { ShardRandom(seed: next()) }
}
