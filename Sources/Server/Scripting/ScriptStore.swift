import Synchronization

/// Script bodies by SHA1, shared by every worker: SCRIPT LOAD or EVAL on one
/// worker makes EVALSHA work on all of them. Each worker compiles a body into
/// its own Lua state on first use; `generation` tells it when SCRIPT FLUSH
/// emptied the store. Touched by EVAL and SCRIPT only, never by plain commands.
final class ScriptStore: @unchecked Sendable {
    private struct State {
        /// Keyed by the lowercase hex SHA1: ASCII, so String equality is
        /// byte equality; lookups come through `Arg.asciiName`.
        var bodies: [String: [UInt8]] = [:]
        /// Scripts seen touching keys on shards they had not declared: they
        /// run with every shard locked from then on.
        var global: Set<String> = []
        /// Scripts seen (in a run with every shard locked) to stay on the
        /// shards of their declared keys: they lock only those.
        var local: Set<String> = []
    }
    private let state = Mutex(State())
    let generation = AtomicCounter(0)
    /// INFO: runs that locked every shard.
    let allShardRuns = AtomicCounter(0)

    func add(_ sha: String, _ body: [UInt8]) {
        state.withLock { $0.bodies[sha] = body }
    }

    func body(_ sha: String) -> [UInt8]? {
        state.withLock { $0.bodies[sha] }
    }

    func exists(_ sha: String) -> Bool {
        state.withLock { $0.bodies[sha] != nil }
    }

    func markGlobal(_ sha: String) {
        _ = state.withLock { $0.global.insert(sha) }
    }

    func isGlobal(_ sha: String) -> Bool {
        state.withLock { $0.global.contains(sha) }
    }

    func markLocal(_ sha: String) {
        _ = state.withLock { $0.local.insert(sha) }
    }

    /// Known to stay on its declared keys' shards (and not since seen leaving them).
    func isLocal(_ sha: String) -> Bool {
        state.withLock { $0.local.contains(sha) && !$0.global.contains(sha) }
    }

    func flush() {
        state.withLock { $0 = State() }
        generation.add(1)
    }

    var count: Int { state.withLock { $0.bodies.count } }

    /// The cached scripts' bodies and SHA1 names (MEMORY STATS lua.caches).
    var bytes: Int { state.withLock { $0.bodies.reduce(0) { $0 + $1.key.utf8.count + $1.value.count } } }
}

/// Redis's rand48 (its scripting PRNG), process-wide as in Redis so that
/// math.random gives Redis's sequence: a 48-bit LCG starting from the
/// standard rand48 seed; math.randomseed(n) restarts it from n.
final class ScriptRandom: @unchecked Sendable {
    private let x = AtomicCounter(0x1234_ABCD_330E)

    func next() -> Int {
        while true {
            let old = x.value
            let new = (0x5_DEEC_E66D &* old &+ 0xB) & 0xFFFF_FFFF_FFFF
            if x.compareExchange(old, new) { return new >> 17 }
        }
    }

    func seed(_ s: Int32) {
        x.store((Int(UInt32(bitPattern: s)) << 16) | 0x330E)
    }
}
