import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// What a typed key lookup found.
public enum Found {
    case missing
    /// The key holds another type; WRONGTYPE has been replied.
    case wrongType
    case found(Entry, slot: Int)
}

/// Key access for the collection families. Every handler of lists, hashes,
/// sets and sorted sets reaches its keys through these, never through
/// `keyspace` directly, so the same handler runs both on one shard and with
/// several shards held for it (`lent`), where each key lives in its owner's
/// keyspace.
extension Exec {
    /// The keyspace that owns key argument `i`.
    @inline(__always) public func keyspace(of i: Int) -> Keyspace {
        guard let l = lent else { return keyspace }
        let a = args[i]
        return l[shardOf(a.ptr, a.count, shards: l.count)].dbs[db]
    }

    /// The keyspace that owns the key `p[0..<n]` (a key built from a
    /// pattern, not an argument: SORT BY/GET).
    public func keyspace(forKey p: UnsafePointer<UInt8>, _ n: Int) -> Keyspace {
        guard let l = lent else { return keyspace }
        return l[shardOf(p, n, shards: l.count)].dbs[db]
    }

    /// Key argument `i` if it holds `type`. `read` is Redis's lookupKeyRead
    /// (counts a hit or miss, touches the LRU clock); otherwise
    /// lookupKeyWrite. Another type replies WRONGTYPE.
    @inline(__always)
    public mutating func find(_ i: Int, _ type: ValueType, read: Bool) -> Found {
        let a = args[i]
        let ks = keyspace(of: i)
        let s = ks.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count), now: now)
        if s < 0 {
            if read { stats.keyspaceMisses += 1 }
            return .missing
        }
        if read { stats.keyspaceHits += 1 }
        let e = ks.entry(at: s)
        e.touch(now, &stats.random)
        if e.type != type {
            error(Err.wrongType)
            return .wrongType
        }
        return .found(e, slot: s)
    }

    /// Key argument `i` of any type, or nil: for commands that check the
    /// type themselves (SORT, SMOVE's destination, ...).
    public func findAny(_ i: Int, read: Bool) -> (Entry, slot: Int)? {
        let a = args[i]
        let ks = keyspace(of: i)
        let s = ks.find(a.ptr, a.count, hash: hashBytes(a.ptr, a.count), now: now)
        if s < 0 {
            if read { stats.keyspaceMisses += 1 }
            return nil
        }
        if read { stats.keyspaceHits += 1 }
        let e = ks.entry(at: s)
        e.touch(now, &stats.random)
        return (e, s)
    }

    /// An object value of key argument `i` changed in place: WATCH sees it as
    /// a change (entry replacements count by themselves).
    @inline(__always) public func modified(_ i: Int) {
        keyspace(of: i).mutations &+= 1
    }

    /// Deletes key argument `i` in `slot` (a collection that became empty).
    @inline(__always) public func deleteKey(_ i: Int, slot: Int) {
        keyspace(of: i).remove(at: slot)
    }

    /// Stores a new compact value under key argument `i` (`slot` -1 inserts;
    /// otherwise the entry is rebuilt keeping its TTL and LRU).
    public func storeCompact(_ i: Int, slot: Int, type: ValueType, length: Int,
                             _ body: (UnsafeMutableRawPointer) -> Void) {
        let ks = keyspace(of: i)
        if slot >= 0 {
            ks.rewriteCompact(at: slot, type: type, length: length, body)
        } else {
            let a = args[i]
            ks.insertCompact(key: a.ptr, a.count, hash: hashBytes(a.ptr, a.count), type: type, length: length,
                             lru: lru, body)
        }
    }

    /// Stores an object value under key argument `i` (`slot` -1 inserts).
    public func storeObject(_ i: Int, slot: Int, type: ValueType, _ o: ValueObject) {
        let a = args[i]
        keyspace(of: i).putObject(o, type: type, at: slot, key: a.ptr, a.count, hash: hashBytes(a.ptr, a.count),
                                  lru: lru)
    }
}

/// Redis 7.0's addReplyDouble text: "inf"/"-inf", else "%.17g" (so 0.1
/// is "0.10000000000000001", as Redis 7.0 prints it). `out` needs 32 bytes.
public func formatScore(_ v: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
    if v.isInfinite {
        let s: StaticString = v < 0 ? "-inf" : "inf"
        out.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
        return s.utf8CodeUnitCount
    }
    // Integral scores under 10^15 print as their digits under %.17g: skip
    // vsnprintf for them (the common ZADD score). -0 keeps its sign below.
    if v == v.rounded(.towardZero) && abs(v) < 1e15 && !(v == 0 && v.sign == .minus) {
        return formatDecimal(Int(v), into: out)
    }
    return out.withMemoryRebound(to: CChar.self, capacity: 32) { c -> Int in
        Int(withVaList([v]) { vsnprintf(c, 32, "%.17g", $0) })
    }
}

extension Reply {
    /// A double as Redis 7.0 replies a score: a RESP3 double, else a bulk
    /// string (`formatScore`).
    public func score(_ v: Double) {
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = formatScore(v, into: p)
            if proto == 3 {
                buf.append(44)
                buf.append(p, n)
                buf.append("\r\n")
            } else {
                bulk(p, n)
            }
        }
    }
}
