#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer over raw memory. It is a class so connections,
/// shard batches and replies can share one without copy-on-write surprises,
/// and it is reused for the life of its owner, so the hot path does not allocate.
public final class ByteBuf: @unchecked Sendable {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public var count: Int = 0
    public private(set) var capacity: Int

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    @usableFromInline func grow(_ need: Int) {
        var c = capacity * 2
        while c < need { c *= 2 }
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        nb.update(from: base, count: count)
        base.deallocate()
        base = nb
        capacity = c
    }

    /// Drops capacity held after a burst (a big value or pipeline) so idle
    /// connections do not pin memory.
    public func shrink(to target: Int) {
        guard capacity > target, count <= target else { return }
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: target)
        nb.update(from: base, count: count)
        base.deallocate()
        base = nb
        capacity = target
    }

    @inlinable public func clear() { count = 0 }

    /// Removes the first `n` bytes, keeping the rest at the front.
    public func consumeFront(_ n: Int) {
        if n >= count { count = 0; return }
        (base).update(from: base + n, count: count - n)
        count -= n
    }

    @inlinable public func append(_ byte: UInt8) {
        if count == capacity { grow(count + 1) }
        base[count] = byte
        count += 1
    }

    @inlinable public func append(_ p: UnsafePointer<UInt8>, _ n: Int) {
        if n == 0 { return }
        if count + n > capacity { grow(count + n) }
        (base + count).update(from: p, count: n)
        count += n
    }

    @inlinable public func append(_ raw: UnsafeRawBufferPointer) {
        guard let b = raw.baseAddress else { return }
        append(b.assumingMemoryBound(to: UInt8.self), raw.count)
    }

    @inlinable public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0.baseAddress!, $0.count) }
    }

    @inlinable public func append(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    public func append(string s: String) {
        var s = s
        s.withUTF8 { append($0.baseAddress!, $0.count) }
    }

    @inlinable public func append(_ other: ByteBuf) { append(other.base, other.count) }

    /// Appends the decimal form of `v`.
    @inlinable public func appendDecimal(_ v: Int) {
        reserve(21)
        count += formatDecimal(v, into: base + count)
    }

    @inlinable public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }
    public var array: [UInt8] { Array(bytes) }
}

/// Writes `v` in decimal at `p`; returns the number of bytes written (at most 20).
@inlinable
public func formatDecimal(_ v: Int, into p: UnsafeMutablePointer<UInt8>) -> Int {
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &tmp) { raw -> Int in
        let t = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var n = v.magnitude
        var i = 24
        repeat {
            i -= 1
            t[i] = UInt8(truncatingIfNeeded: n % 10) &+ 48
            n /= 10
        } while n != 0
        var len = 0
        if v < 0 { p[0] = 45; len = 1 }
        let digits = 24 - i
        (p + len).update(from: t + i, count: digits)
        return len + digits
    }
}
