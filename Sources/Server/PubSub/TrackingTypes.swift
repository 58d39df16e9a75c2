import Commands
import Synchronization
import RESP
import Storage

/// CLIENT TRACKING state of one connection.
final class ClientTracking {
    var optin = false
    var optout = false
    var noloop = false
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) given for the next command.
    var caching = false
    /// The previous command was a CLIENT subcommand, which keeps the flag.
    var prevClient = false
    /// REDIRECT: the client that receives the invalidations (0: this one).
    var redirect = 0
    var brokenRedirect = false
    /// BCAST and its prefixes, sorted.
    var bcast = false
    var prefixes: [[UInt8]] = []
}

/// Every BCAST client's prefixes, server-wide: a key changed on any shard is
/// matched against them. Workers keep a copy, refreshed when `generation`
/// moves; `active` counts the entries, so without BCAST clients a write
/// pays one load.
final class BcastRegistry: @unchecked Sendable {
    struct Entry { let prefix: [UInt8]; let token: Int }
    private let entries = Mutex<[Entry]>([])
    let generation = AtomicCounter(0)
    let active = AtomicCounter(0)

    func add(_ prefixes: [[UInt8]], token: Int) {
        entries.withLock { e in
            for p in prefixes where !e.contains(where: { $0.token == token && $0.prefix == p }) {
                e.append(Entry(prefix: p, token: token))
                active.add(1)
            }
        }
        generation.add(1)
    }

    func remove(token: Int) {
        entries.withLock { e in
            let before = e.count
            e.removeAll { $0.token >> 1 == token >> 1 }
            active.add(e.count - before)
        }
        generation.add(1)
    }

    /// Prefixes in byte order, each with its tokens.
    func table() -> [([UInt8], [Int])] {
        entries.withLock { e in
            var d: [[UInt8]: [Int]] = [:]
            for x in e { d[x.prefix, default: []].append(x.token) }
            return d.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
        }
    }
}

/// The keys of one invalidation message: none (a flush's null), one key,
/// or a BCAST batch.
enum InvalidKeys {
    case null
    case one(UnsafeBufferPointer<UInt8>)
    case many([[UInt8]])

    func forEach(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch self {
        case .null: break
        case .one(let k): body(k)
        case .many(let ks): for k in ks { k.withUnsafeBufferPointer(body) }
        }
    }

    var count: Int {
        switch self {
        case .null: return 0
        case .one: return 1
        case .many(let ks): return ks.count
        }
    }

    func write(_ r: Reply) {
        if case .null = self { return r.null() }
        r.array(count)
        forEach { r.bulk($0) }
    }
}

/// Client id -> its worker and slot, for every connection: CLIENT TRACKING
/// REDIRECT checks that the target exists and sends it invalidations.
/// Touched at connect and close and by redirecting invalidations only.
final class ClientDirectory: Sendable {
    struct Place: Sendable {
        let worker: Int
        let index: Int
        let generation: UInt32
    }
    private let places = Mutex<[Int: Place]>([:])
    func add(_ id: Int, _ p: Place) { places.withLock { $0[id] = p } }
    func remove(_ id: Int) { _ = places.withLock { $0.removeValue(forKey: id) } }
    func find(_ id: Int) -> Place? { places.withLock { $0[id] } }
}
