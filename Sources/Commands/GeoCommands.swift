import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Geo commands (Redis 7.0's geo.c). A geo set is a sorted set whose scores
/// are 52-bit geohashes (`Storage/GeoHash.swift`), so GEOADD is ZADD with
/// computed scores (`SortedSetCommands.addPairs`) and every other sorted-set
/// command works on it. This file: the table, argument parsing, GEOADD,
/// GEOPOS, GEODIST, GEOHASH; `+Search`: GEOSEARCH, GEOSEARCHSTORE and the
/// GEORADIUS family.
public enum GeoCommands {
    static func spec(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
                     route: Route = .key, since: String = "3.2.0", _ summary: String,
                     keysOf: (@Sendable (ArgVector) -> KeySpan?)? = nil, _ handler: @escaping Handler) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: flags, keys: keys, route: route, group: "geo", summary: summary,
                    since: since, acl: ["@geo"], keysOf: keysOf, handler: handler)
    }

    public static let specs: [CommandSpec] = [
        spec("geoadd", -5, [.write, .denyoom],
             "Add one or more geospatial items in the geospatial index represented using a sorted set", geoadd),
        spec("geodist", -4, [.readonly], "Returns the distance between two members of a geospatial index", geodist),
        spec("geohash", -2, [.readonly], "Returns members of a geospatial index as standard geohash strings",
             geohash),
        spec("geopos", -2, [.readonly], "Returns longitude and latitude of members of a geospatial index", geopos),
        spec("georadius", -6, [.write, .denyoom, .movableKeys], route: .colocated,
             "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
             keysOf: georadiusKeys, georadius),
        spec("georadius_ro", -6, [.readonly], since: "3.2.10", "A read-only variant for GEORADIUS", georadiusRO),
        spec("georadiusbymember", -5, [.write, .denyoom, .movableKeys], route: .colocated,
             "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
             keysOf: georadiusbymemberKeys, georadiusbymember),
        spec("georadiusbymember_ro", -5, [.readonly], since: "3.2.10", "A read-only variant for GEORADIUSBYMEMBER",
             georadiusbymemberRO),
        spec("geosearch", -7, [.readonly], since: "6.2.0",
             "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
             geosearch),
        spec("geosearchstore", -8, [.write, .denyoom], keys: (1, 2, 1), route: .colocated, since: "6.2.0",
             "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
             geosearchstore),
    ]

    /// Keys of GEORADIUS (options from argument 6) and GEORADIUSBYMEMBER
    /// (from 5) as their key specs find them, which is what Redis's COMMAND
    /// GETKEYS answers: the source, then the key after the first STORE and
    /// the one after the first STOREDIST. The handler writes the last one
    /// given; locking both is harmless.
    static func georadiusKeys(_ a: ArgVector) -> KeySpan? { storeKeys(a, from: 6) }
    static func georadiusbymemberKeys(_ a: ArgVector) -> KeySpan? { storeKeys(a, from: 5) }

    static func storeKeys(_ a: ArgVector, from start: Int) -> KeySpan? {
        var ps = [1]
        for word: StaticString in ["store", "storedist"] {
            var i = start
            while i < a.count - 1 {
                if a[i].equalsLower(word) {
                    ps.append(i + 1)
                    break
                }
                i += 1
            }
        }
        return .positions(ps)
    }

    // MARK: arguments

    static let badMember: StaticString = "ERR could not decode requested zset member"

    /// getDoubleFromObjectOrReply: `msg` (Redis's "value is not a valid
    /// float" when none) for anything strtod does not take whole.
    static func parseDouble(_ x: inout Exec, _ i: Int, _ msg: StaticString = Err.notFloat) -> Double? {
        let a = x[i]
        guard let v = parseRedisDouble(a.ptr, a.count) else {
            x.error(msg)
            return nil
        }
        return v
    }

    /// extractLongLatOrReply: arguments `i` and `i+1`, inside Redis's limits.
    static func lonLat(_ x: inout Exec, _ i: Int) -> (Double, Double)? {
        guard let lon = parseDouble(&x, i), let lat = parseDouble(&x, i + 1) else { return nil }
        if lon < GeoHash.lonMin || lon > GeoHash.lonMax || lat < GeoHash.latMin || lat > GeoHash.latMax {
            x.error(string: "ERR invalid longitude,latitude pair \(cFixed(lon)),\(cFixed(lat))")
            return nil
        }
        return (lon, lat)
    }

    /// printf's "%f" (an error message's text only).
    static func cFixed(_ v: Double) -> String {
        var buf = [CChar](repeating: 0, count: 400)
        let n = withVaList([v]) { vsnprintf(&buf, 400, "%f", $0) }
        return String(decoding: buf.prefix(Int(max(0, min(n, 399)))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// extractUnitOrReply: meters per unit.
    static func unit(_ x: inout Exec, _ i: Int) -> Double? {
        let u = x[i]
        if u.equalsLower("m") { return 1 }
        if u.equalsLower("km") { return 1000 }
        if u.equalsLower("ft") { return 0.3048 }
        if u.equalsLower("mi") { return 1609.34 }
        x.error("ERR unsupported unit provided. please use M, KM, FT, MI")
        return nil
    }

    /// extractDistanceOrReply: `<radius> <unit>` at argument `i`.
    static func radius(_ x: inout Exec, _ i: Int, into shape: inout GeoShape) -> Bool {
        guard let r = parseDouble(&x, i, "ERR need numeric radius") else { return false }
        if r < 0 {
            x.error("ERR radius cannot be negative")
            return false
        }
        shape.radius = r
        guard let c = unit(&x, i + 1) else { return false }
        shape.conversion = c
        return true
    }

    /// extractBoxOrReply: `<width> <height> <unit>` at argument `i`.
    static func box(_ x: inout Exec, _ i: Int, into shape: inout GeoShape) -> Bool {
        guard let w = parseDouble(&x, i, "ERR need numeric width"),
              let h = parseDouble(&x, i + 1, "ERR need numeric height") else { return false }
        if h < 0 || w < 0 {
            x.error("ERR height or width cannot be negative")
            return false
        }
        shape.width = w
        shape.height = h
        guard let c = unit(&x, i + 2) else { return false }
        shape.conversion = c
        return true
    }

    // MARK: replies

    /// addReplyHumanLongDouble: a bulk string, or a RESP3 double.
    static func replyCoordinate(_ r: Reply, _ v: Double) {
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let n = GeoHash.formatCoordinate(v, into: p)
            if r.proto == 3 {
                r.buf.append(44)
                r.buf.append(p, n)
                r.buf.append("\r\n")
            } else {
                r.bulk(p, n)
            }
        }
    }

    /// addReplyDoubleDistance: four decimals, a bulk string in both protocols.
    static func replyDistance(_ r: Reply, _ d: Double) {
        var tmp: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            r.bulk(p, GeoHash.formatDistance(d, into: p))
        }
    }

    // MARK: GEOADD

    /// GEOADD key [NX|XX] [CH] lon lat member [lon lat member ...]: ZADD
    /// with the members' geohashes as scores.
    static func geoadd(_ x: inout Exec) {
        var f = SortedSetCommands.AddFlags()
        var ch = false
        var idx = 2
        while idx < x.argc {
            let o = x[idx]
            if o.equalsLower("nx") { f.nx = true }
            else if o.equalsLower("xx") { f.xx = true }
            else if o.equalsLower("ch") { ch = true }
            else { break }
            idx += 1
        }
        let rest = x.argc - idx
        if rest % 3 != 0 || (f.xx && f.nx) || rest == 0 { return x.error(Err.syntax) }
        let n = rest / 3
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { scores in
            for j in 0..<n {
                guard let (lon, lat) = lonLat(&x, idx + 3 * j) else { return }
                scores[j] = Double(GeoHash.score(lon: lon, lat: lat)!)
            }
            let args = x.args
            SortedSetCommands.addPairs(&x, f, ch: ch, pairs: n, score: { scores[$0] },
                                       member: { args[idx + 3 * $0 + 2] })
        }
    }

    // MARK: GEOPOS / GEODIST / GEOHASH

    /// The sorted set of key 1 for reading, nil when missing; false after WRONGTYPE.
    static func source(_ x: inout Exec, _ i: Int) -> (ok: Bool, ZView?) {
        switch x.find(i, .zset, read: true) {
        case .wrongType: return (false, nil)
        case .missing: return (true, nil)
        case .found(let e, _): return (true, ZView(e))
        }
    }

    static func geopos(_ x: inout Exec) {
        let (ok, v) = source(&x, 1)
        if !ok { return }
        let r = x.reply
        r.array(x.argc - 2)
        for j in 2..<x.argc {
            guard let s = v?.score(x[j]), let (lon, lat) = GeoHash.decode(score: s) else {
                r.nullArray()
                continue
            }
            r.array(2)
            replyCoordinate(r, lon)
            replyCoordinate(r, lat)
        }
    }

    static func geodist(_ x: inout Exec) {
        var toMeter = 1.0
        if x.argc == 5 {
            guard let u = unit(&x, 4) else { return }
            toMeter = u
        } else if x.argc > 5 {
            return x.error(Err.syntax)
        }
        let (ok, v0) = source(&x, 1)
        if !ok { return }
        guard let v = v0, let s1 = v.score(x[2]), let s2 = v.score(x[3]),
              let a = GeoHash.decode(score: s1), let b = GeoHash.decode(score: s2) else {
            return x.reply.null()
        }
        replyDistance(x.reply, GeoHash.distance(a.lon, a.lat, b.lon, b.lat) / toMeter)
    }

    static func geohash(_ x: inout Exec) {
        let (ok, v) = source(&x, 1)
        if !ok { return }
        let r = x.reply
        r.array(x.argc - 2)
        var tmp: (UInt64, UInt64) = (0, 0)
        for j in 2..<x.argc {
            guard let s = v?.score(x[j]), let (lon, lat) = GeoHash.decode(score: s) else {
                r.null()
                continue
            }
            withUnsafeMutableBytes(of: &tmp) { raw in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                GeoHash.base32(lon: lon, lat: lat, into: p)
                r.bulk(p, 11)
            }
        }
    }
}
