import RESP
import Storage

/// GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO
/// forms: Redis's georadiusGeneric. The area becomes up to nine geohash
/// cells (`GeoHash.searchAreas`), each cell a score range of the sorted set;
/// the members in those ranges are filtered by the exact shape, then sorted
/// by distance when asked.
extension GeoCommands {
    enum SearchMode { case radiusCoords, radiusMember, search, searchStore }
    enum Order { case none, asc, desc }

    static func georadius(_ x: inout Exec) { searchGeneric(&x, .radiusCoords, noStore: false) }
    static func georadiusRO(_ x: inout Exec) { searchGeneric(&x, .radiusCoords, noStore: true) }
    static func georadiusbymember(_ x: inout Exec) { searchGeneric(&x, .radiusMember, noStore: false) }
    static func georadiusbymemberRO(_ x: inout Exec) { searchGeneric(&x, .radiusMember, noStore: true) }
    static func geosearch(_ x: inout Exec) { searchGeneric(&x, .search, noStore: true) }
    static func geosearchstore(_ x: inout Exec) { searchGeneric(&x, .searchStore, noStore: false) }

    /// One match: the member's bytes stay in the source set, which nothing
    /// changes before the reply (or the copy for a store) is written.
    struct Point {
        var member: UnsafeBufferPointer<UInt8>
        var lon: Double, lat: Double
        var dist: Double
        var score: Double
    }

    static func searchGeneric(_ x: inout Exec, _ mode: SearchMode, noStore: Bool) {
        let src = mode == .searchStore ? 2 : 1
        let (ok, v) = source(&x, src)
        if !ok { return }
        let isSearch = mode == .search || mode == .searchStore
        var shape = GeoShape()
        var base: Int
        var storeKey = -1
        var storeDist = false
        switch mode {
        case .radiusCoords:
            base = 6
            shape.kind = .radius
            guard let (lon, lat) = lonLat(&x, 2) else { return }
            shape.lon = lon
            shape.lat = lat
            guard radius(&x, 4, into: &shape) else { return }
        case .radiusMember:
            base = 5
            // Without the key the member cannot be looked up; the options
            // are still parsed, for the reply's shape.
            if let v {
                shape.kind = .radius
                guard let s = v.score(x[2]), let (lon, lat) = GeoHash.decode(score: s) else {
                    return x.error(badMember)
                }
                shape.lon = lon
                shape.lat = lat
                guard radius(&x, 3, into: &shape) else { return }
            }
        case .search:
            base = 2
        case .searchStore:
            base = 3
            storeKey = 1
        }

        var withDist = false, withHash = false, withCoord = false
        var fromMember = false, fromLoc = false, byRadius = false, byBox = false
        var order = Order.none
        var any = false
        var count = 0
        var i = base
        let argc = x.argc
        while i < argc {
            let a = x[i]
            if a.equalsLower("withdist") {
                withDist = true
            } else if a.equalsLower("withhash") {
                withHash = true
            } else if a.equalsLower("withcoord") {
                withCoord = true
            } else if a.equalsLower("any") {
                any = true
            } else if a.equalsLower("asc") {
                order = .asc
            } else if a.equalsLower("desc") {
                order = .desc
            } else if a.equalsLower("count") && i + 1 < argc {
                guard let c = SortedSetCommands.parseLong(&x, i + 1) else { return }
                if c <= 0 { return x.error("ERR COUNT must be > 0") }
                count = c
                i += 1
            } else if (a.equalsLower("store") || a.equalsLower("storedist")) && i + 1 < argc && !noStore
                        && !isSearch {
                storeKey = i + 1
                storeDist = a.equalsLower("storedist")
                i += 1
            } else if a.equalsLower("storedist") && mode == .searchStore {
                storeDist = true
            } else if a.equalsLower("frommember") && i + 1 < argc && isSearch && !fromLoc {
                if let v {
                    guard let s = v.score(x[i + 1]), let (lon, lat) = GeoHash.decode(score: s) else {
                        return x.error(badMember)
                    }
                    shape.lon = lon
                    shape.lat = lat
                }
                fromMember = true
                i += 1
            } else if a.equalsLower("fromlonlat") && i + 2 < argc && isSearch && !fromMember {
                guard let (lon, lat) = lonLat(&x, i + 1) else { return }
                shape.lon = lon
                shape.lat = lat
                fromLoc = true
                i += 2
            } else if a.equalsLower("byradius") && i + 2 < argc && isSearch && !byBox {
                guard radius(&x, i + 1, into: &shape) else { return }
                shape.kind = .radius
                byRadius = true
                i += 2
            } else if a.equalsLower("bybox") && i + 3 < argc && isSearch && !byRadius {
                guard box(&x, i + 1, into: &shape) else { return }
                shape.kind = .box
                byBox = true
                i += 3
            } else {
                return x.error(Err.syntax)
            }
            i += 1
        }

        if storeKey >= 0 && (withDist || withHash || withCoord) {
            return mode == .searchStore
                ? x.error("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
                : x.error("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        }
        if isSearch && !(fromMember || fromLoc) {
            return x.error(string: "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(x[0].lossyString)")
        }
        if isSearch && !(byRadius || byBox) {
            return x.error(string: "ERR exactly one of BYRADIUS and BYBOX can be specified for \(x[0].lossyString)")
        }
        if any && count == 0 { return x.error("ERR the ANY argument requires COUNT argument") }

        guard let set = v else {
            if storeKey >= 0 {
                SortedSetCommands.storeEmpty(&x, storeKey)
                x.reply.int(0)
            } else {
                x.reply.array(0)
            }
            return
        }
        // The closest COUNT need a sort; ANY takes the first COUNT found.
        if count != 0 && order == .none && !any { order = .asc }

        var points = collect(set, shape, limit: any ? count : 0)
        let returned = count == 0 || points.count < count ? points.count : count
        if order != .none {
            if returned == points.count {
                // Stable, as glibc's qsort (a merge sort) keeps equal
                // distances in the order they were found.
                if order == .asc { points.sort { $0.dist < $1.dist } } else { points.sort { $0.dist > $1.dist } }
            } else {
                partialSort(&points, 0, points.count, first: 0, last: returned - 1, desc: order == .desc)
            }
        }

        let r = x.reply
        if storeKey < 0 {
            let options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0)
            r.array(returned)
            for k in 0..<returned {
                let p = points[k]
                if options > 0 { r.array(options + 1) }
                r.bulk(p.member)
                if withDist { replyDistance(r, p.dist / shape.conversion) }
                if withHash { r.int(Int(p.score)) }
                if withCoord {
                    r.array(2)
                    replyCoordinate(r, p.lon)
                    replyCoordinate(r, p.lat)
                }
            }
            return
        }
        if returned == 0 {
            SortedSetCommands.storeEmpty(&x, storeKey)
            return r.int(0)
        }
        store(&x, storeKey, points[0..<returned], dist: storeDist, conversion: shape.conversion)
        r.int(returned)
    }

    /// Redis's membersOfAllNeighbors: the members inside `shape`, cell by
    /// cell in Redis's order, stopping at `limit` matches (0: no limit).
    static func collect(_ v: ZView, _ shape: GeoShape, limit: Int) -> [Point] {
        var points: [Point] = []
        let areas = GeoHash.searchAreas(shape)
        // Huge areas can name one cell twice in a row: read it once. (Redis
        // compares with the last cell read only once one past the centre was.)
        var last = 0
        for i in 0..<9 {
            let h = areas[i]
            if h.isZero { continue }
            if last != 0 && h == areas[last] { continue }
            if limit > 0 && points.count >= limit { break }
            let (lo, hi) = GeoHash.scoreRange(h)
            switch v {
            case .compact:
                let (rank, n) = v.locate(ScoreRange(min: lo, max: hi, minex: false, maxex: true), reverse: false)
                var full = false
                v.forEach(from: rank, count: n, reverse: false) { m, s in
                    if full { return }
                    if let (lon, lat) = GeoHash.decode(score: s), let d = shape.distanceIfInside(lon: lon, lat: lat) {
                        points.append(Point(member: m, lon: lon, lat: lat, dist: d, score: s))
                    }
                    if limit > 0 && points.count >= limit { full = true }
                }
            case .skiplist(let z):
                // As Redis's zslFirstInRange: one descent to the first score
                // at least `lo`, then forward while under `hi`. The walk is
                // bound by node cache misses: a node's member (often on its
                // next cache line) is read only for a match.
                var node = z.list.lastWhere { $0.score < lo }.node.next
                while let nd = node {
                    let s = nd.score
                    if s >= hi { break }
                    if let (lon, lat) = GeoHash.decode(score: s), let d = shape.distanceIfInside(lon: lon, lat: lat) {
                        points.append(Point(member: nd.member, lon: lon, lat: lat, dist: d, score: s))
                    }
                    if limit > 0 && points.count >= limit { break }
                    node = nd.next
                }
            }
            last = i
        }
        return points
    }

    /// Stores the matches as a sorted set under key argument `i`: scores
    /// are the geohashes, or the distances in the query's unit (STOREDIST).
    /// Redis builds a skiplist and turns it into a listpack when it fits.
    static func store(_ x: inout Exec, _ i: Int, _ points: ArraySlice<Point>, dist: Bool, conversion: Double) {
        var pairs: [(score: Double, member: UnsafeBufferPointer<UInt8>)] = points.map {
            (dist ? $0.dist / conversion : $0.score, $0.member)
        }
        pairs.sort { $0.score < $1.score || ($0.score == $1.score && compareMembers($0.member, $1.member) < 0) }
        var maxLength = 0
        for p in pairs where p.member.count > maxLength { maxLength = p.member.count }
        // Copied out first: the destination may be the source.
        var packed = PackedBuffer()
        defer { packed.free() }
        for p in pairs { CompactZSet.appendPair(&packed, p.member.baseAddress, p.member.count, p.score) }
        SortedSetCommands.storeResult(&x, i, pairs: packed, members: pairs.count,
                                      compact: SortedSetCommands.fitsCompact(count: pairs.count,
                                                                             maxLength: maxLength),
                                      x[0].equalsLower("geosearchstore") ? "geosearchstore" : "georadiusstore")
    }

    /// Redis's pqsort (Bentley & McIlroy's quicksort that only recurses
    /// into parts overlapping positions first...last), so the closest COUNT
    /// of many, equal distances included, come out in Redis's order.
    static func partialSort(_ a: inout [Point], _ start: Int, _ count: Int, first: Int, last: Int, desc: Bool) {
        @inline(__always) func cmp(_ i: Int, _ j: Int) -> Int {
            let x = a[i].dist, y = a[j].dist
            let c = x > y ? 1 : (x == y ? 0 : -1)
            return desc ? -c : c
        }
        func med3(_ p: Int, _ q: Int, _ r: Int) -> Int {
            cmp(p, q) < 0 ? (cmp(q, r) < 0 ? q : (cmp(p, r) < 0 ? r : p))
                : (cmp(q, r) > 0 ? q : (cmp(p, r) < 0 ? p : r))
        }
        func vecswap(_ p: Int, _ q: Int, _ n: Int) {
            for k in 0..<max(n, 0) { a.swapAt(p + k, q + k) }
        }
        /// Whether [lo, lo+n) holds any position of first...last.
        @inline(__always) func wanted(_ lo: Int, _ n: Int) -> Bool {
            let hi = lo + n - 1
            return !((first < lo && last < lo) || (first > hi && last > hi))
        }
        var base = start, n = count
        while true {
            if n < 7 {
                var pm = base + 1
                while pm < base + n {
                    var pl = pm
                    while pl > base && cmp(pl - 1, pl) > 0 {
                        a.swapAt(pl, pl - 1)
                        pl -= 1
                    }
                    pm += 1
                }
                return
            }
            var pm = base + n / 2
            if n > 7 {
                var pl = base, pn = base + n - 1
                if n > 40 {
                    let d = n / 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                }
                pm = med3(pl, pm, pn)
            }
            a.swapAt(base, pm)
            var pa = base + 1, pb = base + 1, pc = base + n - 1, pd = base + n - 1
            while true {
                while pb <= pc {
                    let c = cmp(pb, base)
                    if c > 0 { break }
                    if c == 0 {
                        a.swapAt(pa, pb)
                        pa += 1
                    }
                    pb += 1
                }
                while pb <= pc {
                    let c = cmp(pc, base)
                    if c < 0 { break }
                    if c == 0 {
                        a.swapAt(pc, pd)
                        pd -= 1
                    }
                    pc -= 1
                }
                if pb > pc { break }
                a.swapAt(pb, pc)
                pb += 1
                pc -= 1
            }
            let pn = base + n
            var r = min(pa - base, pb - pa)
            vecswap(base, pb - r, r)
            r = min(pd - pc, pn - pd - 1)
            vecswap(pb, pn - r, r)
            r = pb - pa
            if r > 1 && wanted(base, r) {
                partialSort(&a, base, r, first: first, last: last, desc: desc)
            }
            r = pd - pc
            guard r > 1 else { return }
            base = pn - r
            n = r
            if !wanted(base, n) { return }
        }
    }
}
