#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's geohash (geohash.c, geohash_helper.c): a point is a 52-bit
/// interleaved cell index (26 bits of latitude in the even bits, 26 of
/// longitude in the odd ones) stored as a sorted-set score, so an area is a
/// few score ranges. Every formula keeps Redis's operation order, so scores,
/// decoded coordinates and distances are bit for bit Redis's.
public enum GeoHash {
    public static let lonMin = -180.0, lonMax = 180.0
    /// Web Mercator's limits: there is no cell at the poles.
    public static let latMin = -85.05112878, latMax = 85.05112878
    public static let stepMax = 26
    /// Redis's EARTH_RADIUS_IN_METERS (quadratic mean radius for WGS-84).
    public static let earthRadius = 6372797.560856
    static let mercatorMax = 20037726.37
    /// M_PI / 180.0, as Redis's D_R.
    static let degToRad = Double.pi / 180.0

    /// A cell: `step` bits of each coordinate, interleaved.
    public struct Bits: Equatable, Sendable {
        public var bits: UInt64
        public var step: Int

        @inlinable public init(bits: UInt64, step: Int) {
            self.bits = bits
            self.step = step
        }

        /// Redis's HASHISZERO: a neighbour ruled out of a search.
        public var isZero: Bool { bits == 0 && step == 0 }
        public static let zero = Bits(bits: 0, step: 0)

        /// The score of the cell's first point (geohashAlign52Bits).
        public var aligned52: UInt64 { bits << UInt64(52 - step * 2) }
    }

    public struct Range: Sendable {
        public var min: Double, max: Double
        public init(_ min: Double, _ max: Double) {
            self.min = min
            self.max = max
        }
    }

    public struct Area: Sendable {
        public var hash: Bits
        public var lon: Range
        public var lat: Range
    }

    public static let lonRange = Range(lonMin, lonMax)
    public static let latRange = Range(latMin, latMax)

    // MARK: bits

    /// Lat bits in the even positions, lon bits in the odd ones.
    @inlinable static func interleave(_ xlo: UInt32, _ ylo: UInt32) -> UInt64 {
        var x = UInt64(xlo), y = UInt64(ylo)
        x = (x | (x << 16)) & 0x0000FFFF0000FFFF
        y = (y | (y << 16)) & 0x0000FFFF0000FFFF
        x = (x | (x << 8)) & 0x00FF00FF00FF00FF
        y = (y | (y << 8)) & 0x00FF00FF00FF00FF
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
        y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
        x = (x | (x << 2)) & 0x3333333333333333
        y = (y | (y << 2)) & 0x3333333333333333
        x = (x | (x << 1)) & 0x5555555555555555
        y = (y | (y << 1)) & 0x5555555555555555
        return x | (y << 1)
    }

    /// The even bits in the low word, the odd ones in the high word.
    @inlinable static func deinterleave(_ v: UInt64) -> UInt64 {
        var x = v, y = v >> 1
        x = x & 0x5555555555555555
        y = y & 0x5555555555555555
        x = (x | (x >> 1)) & 0x3333333333333333
        y = (y | (y >> 1)) & 0x3333333333333333
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
        y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
        y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
        y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
        x = (x | (x >> 16)) & 0x00000000FFFFFFFF
        y = (y | (y >> 16)) & 0x00000000FFFFFFFF
        return x | (y << 32)
    }

    /// C's (uint32_t) of a non-negative double below 2^32 (truncation).
    @inline(__always) static func truncU32(_ d: Double) -> UInt32 {
        d >= 0 && d < 4294967296 ? UInt32(d) : 0
    }

    /// x86-64's (uint64_t) of a double, as gcc compiles it (Redis's
    /// decodeGeohash casts any score): below 2^63 cvttsd2si, whose
    /// out-of-range answer is 0x8000000000000000 (so negatives wrap as
    /// int64); from 2^63 on, the same on d - 2^63 with the top bit flipped.
    public static func scoreBits(_ d: Double) -> UInt64 {
        @inline(__always) func cvtt(_ v: Double) -> UInt64 {
            if v.isNaN || v >= 9223372036854775808.0 || v < -9223372036854775808.0 { return 1 << 63 }
            return UInt64(bitPattern: Int64(v))
        }
        if d < 9223372036854775808.0 { return cvtt(d) }
        return cvtt(d - 9223372036854775808.0) ^ (1 << 63)
    }

    // MARK: encode / decode

    /// geohashEncode: nil outside the ranges (or Redis's own limits).
    public static func encode(lon: Double, lat: Double, step: Int, lonRange: Range = lonRange,
                              latRange: Range = latRange) -> Bits? {
        if step > 32 || step == 0 { return nil }
        if lon > lonMax || lon < lonMin || lat > latMax || lat < latMin { return nil }
        if lat < latRange.min || lat > latRange.max || lon < lonRange.min || lon > lonRange.max { return nil }
        var latOff = (lat - latRange.min) / (latRange.max - latRange.min)
        var lonOff = (lon - lonRange.min) / (lonRange.max - lonRange.min)
        let scale = Double(UInt64(1) << UInt64(step))
        latOff *= scale
        lonOff *= scale
        return Bits(bits: interleave(truncU32(latOff), truncU32(lonOff)), step: step)
    }

    /// The 52-bit score of a point (GEOADD): nil outside Redis's limits.
    public static func score(lon: Double, lat: Double) -> UInt64? {
        encode(lon: lon, lat: lat, step: stepMax)?.aligned52
    }

    /// geohashDecode: the cell's bounds.
    public static func decode(_ h: Bits, lonRange: Range = lonRange, latRange: Range = latRange) -> Area? {
        if h.isZero { return nil }
        let sep = deinterleave(h.bits)
        let latScale = latRange.max - latRange.min
        let lonScale = lonRange.max - lonRange.min
        let ilat = UInt32(truncatingIfNeeded: sep)
        let ilon = UInt32(truncatingIfNeeded: sep >> 32)
        let div = Double(UInt64(1) << UInt64(h.step))
        let la = Range(latRange.min + (Double(ilat) * 1.0 / div) * latScale,
                       latRange.min + (Double(ilat &+ 1) * 1.0 / div) * latScale)
        let lo = Range(lonRange.min + (Double(ilon) * 1.0 / div) * lonScale,
                       lonRange.min + (Double(ilon &+ 1) * 1.0 / div) * lonScale)
        return Area(hash: h, lon: lo, lat: la)
    }

    /// geohashDecodeAreaToLongLat: the cell's centre, kept inside the limits.
    public static func center(_ a: Area) -> (lon: Double, lat: Double) {
        var lon = (a.lon.min + a.lon.max) / 2
        if lon > lonMax { lon = lonMax }
        if lon < lonMin { lon = lonMin }
        var lat = (a.lat.min + a.lat.max) / 2
        if lat > latMax { lat = latMax }
        if lat < latMin { lat = latMin }
        return (lon, lat)
    }

    /// Redis's decodeGeohash: the point a sorted-set score stands for.
    public static func decode(score: Double) -> (lon: Double, lat: Double)? {
        guard let a = decode(Bits(bits: scoreBits(score), step: stepMax)) else { return nil }
        return center(a)
    }

    /// GEOHASH's 11 characters: the point re-encoded over the standard
    /// -90..90 latitude range, 10 base32 digits of the 52 bits and a '0'.
    public static func base32(lon: Double, lat: Double, into out: UnsafeMutablePointer<UInt8>) {
        let alphabet: StaticString = "0123456789bcdefghjkmnpqrstuvwxyz"
        let bits = encode(lon: lon, lat: lat, step: 26, lonRange: Range(-180, 180), latRange: Range(-90, 90))?
            .bits ?? 0
        for i in 0..<11 {
            let idx = i == 10 ? 0 : Int((bits >> UInt64(52 - (i + 1) * 5)) & 0x1f)
            out[i] = alphabet.utf8Start[idx]
        }
    }

    // MARK: neighbours

    /// Steps a cell `d` (-1, 0, 1) along one axis: longitude bits are the odd
    /// ones (moveX), latitude bits the even ones (moveY), as Redis interleaves them.
    static func moveX(_ h: inout Bits, _ d: Int) { move(&h, d, axis: 0xaaaaaaaaaaaaaaaa) }
    static func moveY(_ h: inout Bits, _ d: Int) { move(&h, d, axis: 0x5555555555555555) }

    private static func move(_ h: inout Bits, _ d: Int, axis: UInt64) {
        if d == 0 { return }
        var a = h.bits & axis
        let other = h.bits & ~axis
        let zz: UInt64 = ~axis >> UInt64(64 - h.step * 2)
        if d > 0 {
            a = a &+ (zz &+ 1)
        } else {
            a = a | zz
            a = a &- (zz &+ 1)
        }
        a &= axis >> UInt64(64 - h.step * 2)
        h.bits = a | other
    }

    /// The eight cells around one, wrapping at the edges as Redis's do.
    public struct Neighbors: Sendable {
        public var north, south, east, west, northEast, northWest, southEast, southWest: Bits
    }

    public static func neighbors(_ h: Bits) -> Neighbors {
        func moved(_ dx: Int, _ dy: Int) -> Bits {
            var b = h
            moveX(&b, dx)
            moveY(&b, dy)
            return b
        }
        return Neighbors(north: moved(0, 1), south: moved(0, -1), east: moved(1, 0), west: moved(-1, 0),
                         northEast: moved(1, 1), northWest: moved(-1, 1), southEast: moved(1, -1),
                         southWest: moved(-1, -1))
    }

    // MARK: distances

    @inline(__always) static func degRad(_ a: Double) -> Double { a * degToRad }
    @inline(__always) static func radDeg(_ a: Double) -> Double { a / degToRad }

    /// geohashGetLatDistance: along a meridian.
    public static func latDistance(_ lat1: Double, _ lat2: Double) -> Double {
        earthRadius * abs(degRad(lat2) - degRad(lat1))
    }

    /// geohashGetDistance: haversine, in meters.
    public static func distance(_ lon1: Double, _ lat1: Double, _ lon2: Double, _ lat2: Double) -> Double {
        let lon1r = degRad(lon1), lon2r = degRad(lon2)
        let v = sin((lon2r - lon1r) / 2)
        if v == 0.0 { return latDistance(lat1, lat2) }
        let lat1r = degRad(lat1), lat2r = degRad(lat2)
        let u = sin((lat2r - lat1r) / 2)
        let a = u * u + cos(lat1r) * cos(lat2r) * v * v
        return 2.0 * earthRadius * asin(sqrt(a))
    }

    // MARK: search areas

    /// geohashEstimateStepsByRadius: cells about as wide as the radius.
    public static func estimateSteps(radius r0: Double, lat: Double) -> Int {
        if r0 == 0 { return 26 }
        var r = r0
        var step = 1
        while r < mercatorMax {
            r *= 2
            step += 1
        }
        step -= 2
        if lat > 66 || lat < -66 {
            step -= 1
            if lat > 80 || lat < -80 { step -= 1 }
        }
        return min(max(step, 1), 26)
    }

    /// The nine cells to read (centre first, in Redis's order; zero cells
    /// are ruled out) and the centre cell's step.
    public struct SearchAreas: Sendable {
        public var cells: (Bits, Bits, Bits, Bits, Bits, Bits, Bits, Bits, Bits)

        public subscript(i: Int) -> Bits {
            switch i {
            case 0: return cells.0
            case 1: return cells.1
            case 2: return cells.2
            case 3: return cells.3
            case 4: return cells.4
            case 5: return cells.5
            case 6: return cells.6
            case 7: return cells.7
            default: return cells.8
            }
        }
    }

    /// geohashCalculateAreasByShapeWGS84 for `shape`.
    public static func searchAreas(_ shape: GeoShape) -> SearchAreas {
        let b = shape.boundingBox()
        let radius = shape.coveringRadius
        var steps = estimateSteps(radius: radius, lat: shape.lat)
        var hash = encode(lon: shape.lon, lat: shape.lat, step: steps) ?? Bits(bits: 0, step: steps)
        var n = neighbors(hash)
        // A cell next to the centre may still end before the box does.
        var decrease = false
        if let a = decode(n.north), a.lat.max < b.maxLat { decrease = true }
        if let a = decode(n.south), a.lat.min > b.minLat { decrease = true }
        if let a = decode(n.east), a.lon.max < b.maxLon { decrease = true }
        if let a = decode(n.west), a.lon.min > b.minLon { decrease = true }
        if steps > 1 && decrease {
            steps -= 1
            hash = encode(lon: shape.lon, lat: shape.lat, step: steps) ?? Bits(bits: 0, step: steps)
            n = neighbors(hash)
        }
        if steps >= 2, let area = decode(hash) {
            if area.lat.min < b.minLat { n.south = .zero; n.southWest = .zero; n.southEast = .zero }
            if area.lat.max > b.maxLat { n.north = .zero; n.northEast = .zero; n.northWest = .zero }
            if area.lon.min < b.minLon { n.west = .zero; n.southWest = .zero; n.northWest = .zero }
            if area.lon.max > b.maxLon { n.east = .zero; n.southEast = .zero; n.northEast = .zero }
        }
        return SearchAreas(cells: (hash, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast,
                                   n.southWest))
    }

    /// The score range [min, max) of every point inside cell `h`.
    public static func scoreRange(_ h: Bits) -> (min: Double, max: Double) {
        var next = h
        next.bits &+= 1
        return (Double(h.aligned52), Double(next.aligned52))
    }
}
