import XCTest
@testable import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Redis's geohash: scores, decoding, GEOHASH strings and reply text are
/// checked against values redis-server 7.0.15 gave for the same input;
/// neighbours, step estimation and the search cells by their properties.
final class GeoHashTests: XCTestCase {
    func text(_ f: (UnsafeMutablePointer<UInt8>) -> Int) -> String {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBufferPointer { f($0.baseAddress!) }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }

    func coord(_ v: Double) -> String { text { GeoHash.formatCoordinate(v, into: $0) } }
    func dist(_ v: Double) -> String { text { GeoHash.formatDistance(v, into: $0) } }

    func testScoresAreRedisScores() {
        let cases: [(Double, Double, UInt64)] = [
            (13.361389, 38.115556, 3479099956230698), (15.087269, 37.502669, 3479447370796909),
            (-180, -85.05112878, 0), (-73.9857, 40.7484, 1791875672646935), (0, 0, 3377699720527872),
            (179.999999, 0.000001, 4128299658422954),
            // The top edge encodes one cell past the grid, as in Redis.
            (180, 85.05112878, 13510798882111488),
        ]
        for (lon, lat, want) in cases {
            XCTAssertEqual(GeoHash.score(lon: lon, lat: lat), want, "\(lon),\(lat)")
        }
        XCTAssertNil(GeoHash.score(lon: 180.0001, lat: 0))
        XCTAssertNil(GeoHash.score(lon: 0, lat: 85.06))
        XCTAssertNil(GeoHash.score(lon: 0, lat: -85.06))
    }

    func testDecodeGivesRedisCoordinates() {
        let cases: [(Double, String, String)] = [
            (3479099956230698, "13.36138933897018433", "38.11555639549629859"),
            (0, "-179.99999731779098511", "-85.05112751263942528"),
            (3377699720527872, "0.00000268220901489", "0.00000126736058093"),
            (1791875672646935, "-73.98570209741592407", "40.74839914563441567"),
            (13510798882111488, "180", "85.0511287799999991"),
            (-1, "180", "85.0511287799999991"),
            (1e300, "-179.99999731779098511", "-85.05112751263942528"),
        ]
        for (score, lon, lat) in cases {
            let p = GeoHash.decode(score: score)!
            XCTAssertEqual(coord(p.lon), lon, "\(score)")
            XCTAssertEqual(coord(p.lat), lat, "\(score)")
        }
    }

    func testRoundTripStaysInsideTheCell() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let lon = Double.random(in: -180..<180, using: &rng)
            let lat = Double.random(in: -85.05..<85.05, using: &rng)
            let s = GeoHash.score(lon: lon, lat: lat)!
            XCTAssertLessThan(s, 1 << 52)
            let p = GeoHash.decode(score: Double(s))!
            // A step-26 cell is 360/2^26 degrees wide.
            XCTAssertLessThanOrEqual(abs(p.lon - lon), 360.0 / Double(1 << 26))
            XCTAssertLessThanOrEqual(abs(p.lat - lat), 170.2 / Double(1 << 26))
            XCTAssertEqual(GeoHash.score(lon: p.lon, lat: p.lat), s)
        }
    }

    func testScoreBitsFollowX86Conversion() {
        XCTAssertEqual(GeoHash.scoreBits(-1), UInt64.max)
        XCTAssertEqual(GeoHash.scoreBits(1.5), 1)
        XCTAssertEqual(GeoHash.scoreBits(.infinity), 0)
        XCTAssertEqual(GeoHash.scoreBits(-.infinity), 1 << 63)
        XCTAssertEqual(GeoHash.scoreBits(1e300), 0)
        XCTAssertEqual(GeoHash.scoreBits(1.8e19), UInt64(1.8e19))
    }

    func testGeohashStrings() {
        let cases: [(Double, String)] = [
            (3479099956230698, "sqc8b49rny0"), (3479447370796909, "sqdtr74hyu0"), (0, "00bh0hbj200"),
            (13510798882111488, "bp05b5048p0"), (3377699720527872, "s0000000000"),
            (4128299658422954, "xbpbpbpbpb0"), (1791875672646935, "dr5ru6j28h0"),
        ]
        for (score, want) in cases {
            let p = GeoHash.decode(score: score)!
            XCTAssertEqual(text { GeoHash.base32(lon: p.lon, lat: p.lat, into: $0); return 11 }, want)
        }
    }

    func testDistances() {
        let a = GeoHash.decode(score: 3479099956230698)!, b = GeoHash.decode(score: 3479447370796909)!
        XCTAssertEqual(dist(GeoHash.distance(a.lon, a.lat, b.lon, b.lat)), "166274.1516")
        XCTAssertEqual(dist(GeoHash.distance(a.lon, a.lat, b.lon, b.lat) / 1000), "166.2742")
        let n = GeoHash.decode(score: 1791875672646935)!, o = GeoHash.decode(score: 3377699720527872)!
        XCTAssertEqual(dist(GeoHash.distance(n.lon, n.lat, o.lon, o.lat) / 1000), "8668.5604")
        // Same longitude: the meridian shortcut.
        XCTAssertEqual(GeoHash.distance(10, 0, 10, 1), GeoHash.earthRadius * (Double.pi / 180.0))
        XCTAssertEqual(GeoHash.distance(10, 20, 10, 20), 0)
        // Half the circumference between antipodes.
        XCTAssertEqual(GeoHash.distance(0, 0, 180, 0), Double.pi * GeoHash.earthRadius, accuracy: 1e-6)
    }

    func testDistanceTextIsFixedPointHalfEven() {
        // Expected values: Python's round(d * 10000.0), half-even on the double product as llrint.
        let cases: [(Double, String)] = [
            (0, "0.0000"), (-0.0, "0.0000"), (0.00015, "0.0001"), (1.00005, "1.0001"), (2.5e-5, "0.0000"),
            (12345.67895, "12345.6790"), (5e-5, "0.0000"), (7, "7.0000"), (20015086.796, "20015086.7960"),
        ]
        for (d, want) in cases { XCTAssertEqual(dist(d), want, "\(d)") }
    }

    /// The same text as glibc's "%.17f" with trailing zeros trimmed (Redis
    /// formats the value as a long double, which holds the double exactly).
    func testCoordinateTextMatchesPrintf() {
        func reference(_ v: Double) -> String {
            var buf = [CChar](repeating: 0, count: 128)
            let n = Int(withVaList([v]) { vsnprintf(&buf, 128, "%.17f", $0) })
            var s = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s == "-0" ? "0" : s
        }
        var rng = SystemRandomNumberGenerator()
        var cases: [Double] = [0, -0.0, 1, -1, 180, -180, 0.5, 1e-17, 5e-18, 4.9e-18, 1e-300, -1e-20,
                               85.05112878, 0.1, 123.456, 1e15, 9.999999999999999e-18]
        for _ in 0..<5000 { cases.append(Double.random(in: -180...180, using: &rng)) }
        for _ in 0..<500 { cases.append(Double(bitPattern: UInt64.random(in: 0...0x4330_0000_0000_0000, using: &rng))) }
        for v in cases { XCTAssertEqual(coord(v), reference(v), "\(v)") }
    }

    func testNeighboursAreAdjacentCells() {
        for step in [1, 3, 10, 26] {
            let h = GeoHash.encode(lon: 13.36, lat: 38.11, step: step)!
            let c = GeoHash.decode(h)!
            let n = GeoHash.neighbors(h)
            let north = GeoHash.decode(n.north)!, south = GeoHash.decode(n.south)!
            let east = GeoHash.decode(n.east)!, west = GeoHash.decode(n.west)!
            let ne = GeoHash.decode(n.northEast)!, sw = GeoHash.decode(n.southWest)!
            if step > 1 {
                XCTAssertEqual(north.lat.min, c.lat.max, accuracy: 1e-9)
                XCTAssertEqual(south.lat.max, c.lat.min, accuracy: 1e-9)
                XCTAssertEqual(north.lon.min, c.lon.min)
                XCTAssertEqual(ne.lat.min, c.lat.max, accuracy: 1e-9)
                XCTAssertEqual(sw.lon.max, c.lon.min, accuracy: 1e-9)
                XCTAssertEqual(east.lon.min, c.lon.max, accuracy: 1e-9)
                XCTAssertEqual(west.lon.max, c.lon.min, accuracy: 1e-9)
                XCTAssertEqual(ne.lon.min, c.lon.max, accuracy: 1e-9)
            } else {
                // Two cells a side: every neighbour is the other half, or this one.
                XCTAssertEqual(east.lon.min, -180)
                XCTAssertEqual(west.lon.min, -180)
            }
            XCTAssertEqual(east.lat.min, c.lat.min)
        }
        // The easternmost cell's east neighbour wraps to the westernmost.
        let edge = GeoHash.encode(lon: 179.9, lat: 0, step: 8)!
        XCTAssertEqual(GeoHash.decode(GeoHash.neighbors(edge).east)!.lon.min, -180)
    }

    func testStepEstimate() {
        XCTAssertEqual(GeoHash.estimateSteps(radius: 0, lat: 0), 26)
        XCTAssertEqual(GeoHash.estimateSteps(radius: 100_000, lat: 0), 7)
        XCTAssertEqual(GeoHash.estimateSteps(radius: 100_000, lat: 70), 6)
        XCTAssertEqual(GeoHash.estimateSteps(radius: 100_000, lat: -81), 5)
        XCTAssertEqual(GeoHash.estimateSteps(radius: 1e9, lat: 0), 1)
        XCTAssertEqual(GeoHash.estimateSteps(radius: 0.001, lat: 0), 26)
        XCTAssertEqual(GeoHash.estimateSteps(radius: .infinity, lat: 0), 1)
    }

    /// Every point inside a shape lies in one of the cells Redis reads.
    func testSearchCellsCoverTheShape() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var shape = GeoShape()
            shape.lon = Double.random(in: -170...170, using: &rng)
            shape.lat = Double.random(in: -60...60, using: &rng)
            shape.conversion = 1000
            if Bool.random(using: &rng) {
                shape.kind = .radius
                shape.radius = Double.random(in: 0.1...500, using: &rng)
            } else {
                shape.kind = .box
                shape.width = Double.random(in: 0.1...500, using: &rng)
                shape.height = Double.random(in: 0.1...500, using: &rng)
            }
            let areas = GeoHash.searchAreas(shape)
            XCTAssertFalse(areas[0].isZero)
            let b = shape.boundingBox()
            for _ in 0..<50 {
                let lon = Double.random(in: b.minLon...b.maxLon, using: &rng)
                let lat = Double.random(in: b.minLat...b.maxLat, using: &rng)
                guard let s = GeoHash.score(lon: lon, lat: lat) else { continue }
                let p = GeoHash.decode(score: Double(s))!
                guard shape.distanceIfInside(lon: p.lon, lat: p.lat) != nil else { continue }
                let covered = (0..<9).contains { i in
                    let h = areas[i]
                    if h.isZero { return false }
                    let (lo, hi) = GeoHash.scoreRange(h)
                    return Double(s) >= lo && Double(s) < hi
                }
                XCTAssertTrue(covered, "\(lon),\(lat) around \(shape)")
            }
        }
    }

    func testShapeFilter() {
        var box = GeoShape()
        box.kind = .box
        box.lon = 0
        box.lat = 0
        box.conversion = 1
        box.width = 200_000
        box.height = 100_000
        // 0.5 degree of latitude is about 55.6 km: outside a 100 km high box.
        XCTAssertNil(box.distanceIfInside(lon: 0, lat: 0.5))
        XCTAssertNotNil(box.distanceIfInside(lon: 0.8, lat: 0.4))
        XCTAssertNil(box.distanceIfInside(lon: 0.9, lat: 0))
        var circle = box
        circle.kind = .radius
        circle.radius = 100_000
        XCTAssertNotNil(circle.distanceIfInside(lon: 0, lat: 0.8))
        XCTAssertNil(circle.distanceIfInside(lon: 0.8, lat: 0.8))
        XCTAssertEqual(circle.distanceIfInside(lon: 0, lat: 0), 0)
    }
}
