#if canImport(Glibc)
import Glibc
#endif

/// Redis's member order inside a score: memcmp over the shorter length,
/// then the shorter member first (sdscmp).
@inlinable
public func compareMembers(_ a: UnsafePointer<UInt8>?, _ an: Int, _ b: UnsafePointer<UInt8>?, _ bn: Int) -> Int {
    let m = an < bn ? an : bn
    if m > 0 {
        let c = memcmp(a!, b!, m)
        if c != 0 { return Int(c) }
    }
    return an - bn
}

@inlinable
public func compareMembers(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    compareMembers(a.baseAddress, a.count, b.baseAddress, b.count)
}

/// A ZRANGEBYSCORE/ZRANGEBYLEX interval. Both encodings find a range the
/// way Redis does: the first element that is at least `min` (walking
/// forward), the last that is at most `max` (walking back), so results on
/// data the range does not order (a lex range over mixed scores) still
/// match Redis's compact encoding.
public protocol ZRangeSpec {
    /// Redis's zslIsInRange / zslIsInLexRange "always empty" test.
    var isEmpty: Bool { get }
    func gteMin(_ score: Double, _ member: UnsafeBufferPointer<UInt8>) -> Bool
    func lteMax(_ score: Double, _ member: UnsafeBufferPointer<UInt8>) -> Bool
}

/// `min`/`max` with Redis's "(" exclusive flags.
public struct ScoreRange: ZRangeSpec {
    public var min: Double, max: Double
    public var minex: Bool, maxex: Bool

    @inlinable public init(min: Double, max: Double, minex: Bool, maxex: Bool) {
        self.min = min
        self.max = max
        self.minex = minex
        self.maxex = maxex
    }

    @inlinable public var isEmpty: Bool { min > max || (min == max && (minex || maxex)) }
    @inlinable public func gteMin(_ v: Double) -> Bool { minex ? v > min : v >= min }
    @inlinable public func lteMax(_ v: Double) -> Bool { maxex ? v < max : v <= max }
    @inlinable public func gteMin(_ score: Double, _ member: UnsafeBufferPointer<UInt8>) -> Bool { gteMin(score) }
    @inlinable public func lteMax(_ score: Double, _ member: UnsafeBufferPointer<UInt8>) -> Bool { lteMax(score) }
}

/// One end of a lex range: "-" (below everything), "+" (above everything),
/// or member bytes.
public enum LexBound {
    case minusInf
    case plusInf
    case bytes(UnsafeBufferPointer<UInt8>)

    /// sdscmplex of a member against this bound (a member is never ±inf).
    @inlinable func compare(member m: UnsafeBufferPointer<UInt8>) -> Int {
        switch self {
        case .minusInf: return 1
        case .plusInf: return -1
        case .bytes(let b): return compareMembers(m, b)
        }
    }

    /// sdscmplex between two bounds; ±inf only equal to itself.
    @inlinable func compare(_ o: LexBound) -> Int {
        switch (self, o) {
        case (.minusInf, .minusInf), (.plusInf, .plusInf): return 0
        case (.minusInf, _), (_, .plusInf): return -1
        case (.plusInf, _), (_, .minusInf): return 1
        case (.bytes(let a), .bytes(let b)): return compareMembers(a, b)
        }
    }
}

public struct LexRange: ZRangeSpec {
    public var min: LexBound, max: LexBound
    public var minex: Bool, maxex: Bool

    @inlinable public init(min: LexBound, max: LexBound, minex: Bool, maxex: Bool) {
        self.min = min
        self.max = max
        self.minex = minex
        self.maxex = maxex
    }

    @inlinable public var isEmpty: Bool {
        let c = min.compare(max)
        return c > 0 || (c == 0 && (minex || maxex))
    }

    @inlinable public func gteMin(_ score: Double, _ m: UnsafeBufferPointer<UInt8>) -> Bool {
        let c = min.compare(member: m)
        return minex ? c > 0 : c >= 0
    }

    @inlinable public func lteMax(_ score: Double, _ m: UnsafeBufferPointer<UInt8>) -> Bool {
        let c = max.compare(member: m)
        return maxex ? c < 0 : c <= 0
    }
}
