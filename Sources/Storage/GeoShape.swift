#if canImport(Glibc)
import Glibc
#endif

/// A GEOSEARCH area: a circle or an axis-aligned box around a point, with
/// its sizes in the query's unit (`conversion` meters each).
public struct GeoShape: Sendable {
    public enum Kind: Sendable { case radius, box }
    public var kind: Kind = .radius
    public var lon = 0.0, lat = 0.0
    public var conversion = 0.0
    public var radius = 0.0
    public var width = 0.0, height = 0.0

    public init() {}

    public struct Bounds: Sendable {
        public var minLon, minLat, maxLon, maxLat: Double
    }

    /// geohashBoundingBox: the longitude span is the wider of the box's
    /// edges, which lies toward the equator.
    public func boundingBox() -> Bounds {
        let h = conversion * (kind == .radius ? radius : height / 2)
        let w = conversion * (kind == .radius ? radius : width / 2)
        let latDelta = GeoHash.radDeg(h / GeoHash.earthRadius)
        let lonDeltaTop = GeoHash.radDeg(w / GeoHash.earthRadius / cos(GeoHash.degRad(lat + latDelta)))
        let lonDeltaBottom = GeoHash.radDeg(w / GeoHash.earthRadius / cos(GeoHash.degRad(lat - latDelta)))
        let south = lat < 0
        return Bounds(minLon: south ? lon - lonDeltaBottom : lon - lonDeltaTop, minLat: lat - latDelta,
                      maxLon: south ? lon + lonDeltaBottom : lon + lonDeltaTop, maxLat: lat + latDelta)
    }

    /// Meters from the centre to the farthest point of the shape (a box's
    /// corner), for the cell size.
    public var coveringRadius: Double {
        let r = kind == .radius ? radius : sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2))
        return r * conversion
    }

    /// geoWithinShape for a decoded point: its distance from the centre in
    /// meters, or nil outside.
    public func distanceIfInside(lon x2: Double, lat y2: Double) -> Double? {
        switch kind {
        case .radius:
            let d = GeoHash.distance(lon, lat, x2, y2)
            return d > radius * conversion ? nil : d
        case .box:
            let wm = width * conversion, hm = height * conversion
            if GeoHash.latDistance(y2, lat) > hm / 2 { return nil }
            if GeoHash.distance(x2, y2, lon, y2) > wm / 2 { return nil }
            return GeoHash.distance(lon, lat, x2, y2)
        }
    }
}
