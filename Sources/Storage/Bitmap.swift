/// Bit-level views of a string value, with Redis's conventions (bitops.c):
/// bit 0 is the most significant bit of the first byte, and a string reads
/// as if padded with zero bytes on the right.
public enum Bitmap {
    /// Number of set bits in `p[0..<n]`, eight bytes per popcount.
    @inlinable
    public static func popcount(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var bits = 0
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 32 <= n {
            bits &+= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
                &+ raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self).nonzeroBitCount
                &+ raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self).nonzeroBitCount
                &+ raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self).nonzeroBitCount
            i += 32
        }
        while i + 8 <= n {
            bits &+= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
            i += 8
        }
        while i < n {
            bits &+= p[i].nonzeroBitCount
            i += 1
        }
        return bits
    }

    /// Redis's redisBitpos: the position of the first bit equal to `bit` in
    /// `p[0..<n]`. Looking for 1 and finding none: -1. Looking for 0 and
    /// finding none: n * 8, the first bit of the zero padding.
    @inlinable
    public static func firstBit(_ p: UnsafePointer<UInt8>, _ n: Int, _ bit: Int) -> Int {
        let skip: UInt64 = bit == 1 ? 0 : .max
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) == skip { i += 8 }
        let skipByte = UInt8(truncatingIfNeeded: skip)
        while i < n {
            let b = p[i]
            if b != skipByte {
                // Bit 0 of the string is the byte's most significant bit.
                let v = bit == 1 ? b : ~b
                return i * 8 + v.leadingZeroBitCount
            }
            i += 1
        }
        return bit == 1 ? -1 : n * 8
    }

    @inlinable public static func getBit(_ p: UnsafePointer<UInt8>, _ offset: Int) -> Bool {
        p[offset >> 3] & (0x80 >> UInt8(offset & 7)) != 0
    }

    /// Redis's getUnsignedBitfield: `bits` (1...64) bits from bit `offset`,
    /// most significant first. The bytes touched must exist.
    @inlinable
    public static func getUnsigned(_ p: UnsafePointer<UInt8>, offset: Int, bits: Int) -> UInt64 {
        var v: UInt64 = 0
        var o = offset
        for _ in 0..<bits {
            let b = UInt64(p[o >> 3] >> UInt8(7 - (o & 7))) & 1
            v = v << 1 | b
            o += 1
        }
        return v
    }

    /// Two's complement of the low `bits` bits, sign-extended.
    @inlinable
    public static func getSigned(_ p: UnsafePointer<UInt8>, offset: Int, bits: Int) -> Int64 {
        var v = getUnsigned(p, offset: offset, bits: bits)
        if bits < 64 && v & (1 << UInt64(bits - 1)) != 0 { v |= UInt64.max << UInt64(bits) }
        return Int64(bitPattern: v)
    }

    /// Redis's setUnsignedBitfield: writes the low `bits` bits of `value`.
    @inlinable
    public static func setUnsigned(_ p: UnsafeMutablePointer<UInt8>, offset: Int, bits: Int, _ value: UInt64) {
        var o = offset
        for j in 0..<bits {
            let bit = UInt8(truncatingIfNeeded: value >> UInt64(bits - 1 - j)) & 1
            let shift = UInt8(7 - (o & 7))
            p[o >> 3] = (p[o >> 3] & ~(1 << shift)) | (bit << shift)
            o += 1
        }
    }

    public enum Overflow: Sendable { case wrap, sat, fail }

    /// Redis's checkUnsignedBitfieldOverflow: 0 when `value + incr` fits in
    /// `bits` unsigned bits, 1 on overflow, -1 on underflow; `limit` is the
    /// value to store instead under WRAP or SAT.
    @inlinable
    public static func checkUnsigned(_ value: UInt64, _ incr: Int64, bits: Int, _ ow: Overflow,
                                     limit: inout UInt64) -> Int {
        let max: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        let maxincr = Int64(bitPattern: max &- value)
        let minincr = Int64(bitPattern: 0 &- value)
        var r = 0
        if value > max || (incr > 0 && incr > maxincr) {
            r = 1
            if ow == .sat { limit = max }
        } else if incr < 0 && incr < minincr {
            r = -1
            if ow == .sat { limit = 0 }
        } else {
            return 0
        }
        if ow == .wrap {
            let mask: UInt64 = bits >= 64 ? 0 : UInt64.max << UInt64(bits)
            limit = (value &+ UInt64(bitPattern: incr)) & ~mask
            return 1
        }
        return r
    }

    /// Redis's checkSignedBitfieldOverflow (see checkUnsigned).
    @inlinable
    public static func checkSigned(_ value: Int64, _ incr: Int64, bits: Int, _ ow: Overflow,
                                   limit: inout Int64) -> Int {
        let max: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let min: Int64 = -max - 1
        let maxincr = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
        let minincr = min &- value
        var r = 0
        if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
            r = 1
            if ow == .sat { limit = max }
        } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
            r = -1
            if ow == .sat { limit = min }
        } else {
            return 0
        }
        if ow == .wrap {
            var c = UInt64(bitPattern: value) &+ UInt64(bitPattern: incr)
            if bits < 64 {
                let mask = UInt64.max << UInt64(bits)
                if c & (1 << UInt64(bits - 1)) != 0 { c |= mask } else { c &= ~mask }
            }
            limit = Int64(bitPattern: c)
            return 1
        }
        return r
    }
}
