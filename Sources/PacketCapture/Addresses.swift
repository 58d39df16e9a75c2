#if canImport(Glibc)
import Glibc
#endif

/// A 48-bit MAC address held in the low bits of a UInt64, so frames and
/// stats can store and hash it without an array allocation.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        var v: UInt64 = 0
        for b in [b0, b1, b2, b3, b4, b5] { v = v << 8 | UInt64(b) }
        self.rawValue = v
    }

    /// Parses "aa:bb:cc:dd:ee:ff" (also "-" separated).
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            guard p.count <= 2, let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        self.rawValue = v
    }

    public static let zero = MACAddress(rawValue: 0)
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64($0))) } }
    public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF_FFFF }
    public var isMulticast: Bool { (rawValue >> 40) & 1 == 1 }

    public var description: String {
        var s = ""
        s.reserveCapacity(17)
        for i in 0..<6 {
            if i > 0 { s.append(":") }
            appendHexByte(&s, UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64(i))))
        }
        return s
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}

/// IPv4 address in host order (10.0.0.1 is 0x0A000001).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, let b = UInt8(p, radix: 10) else { return nil }
            v = v << 8 | UInt32(b)
        }
        rawValue = v
    }

    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xFF).\(rawValue >> 8 & 0xFF).\(rawValue & 0xFF)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }
}

/// IPv6 address as two host-order 64-bit halves.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let high: UInt64
    public let low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    public init?(_ text: String) {
        var addr = in6_addr()
        let ok = text.withCString { inet_pton(AF_INET6, $0, &addr) }
        guard ok == 1 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: &addr) { raw in for i in 0..<16 { bytes[i] = raw[i] } }
        self.init(bytes: bytes)
    }

    init(bytes: [UInt8]) {
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        high = h; low = l
    }

    /// The four 32-bit words in wire order, as a BPF program compares them.
    public var words: [UInt32] {
        [UInt32(truncatingIfNeeded: high >> 32), UInt32(truncatingIfNeeded: high),
         UInt32(truncatingIfNeeded: low >> 32), UInt32(truncatingIfNeeded: low)]
    }

    public var description: String {
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count)) != nil else { return "?" }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Accepts dotted IPv4 or any IPv6 text inet_pton understands.
    public init?(_ text: String) {
        if let a = IPv4Address(text) { self = .v4(a) } else if let a = IPv6Address(text) { self = .v6(a) } else { return nil }
    }

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }
}

@inline(__always)
func appendHexByte(_ s: inout String, _ b: UInt8) {
    let digits: StaticString = "0123456789abcdef"
    digits.withUTF8Buffer { d in
        s.unicodeScalars.append(Unicode.Scalar(d[Int(b >> 4)]))
        s.unicodeScalars.append(Unicode.Scalar(d[Int(b & 0xF)]))
    }
}

/// "0x0806"-style four-digit hex, as the seed's output prints EtherTypes.
public func hex16(_ v: UInt16) -> String {
    var s = "0x"
    appendHexByte(&s, UInt8(v >> 8))
    appendHexByte(&s, UInt8(v & 0xFF))
    return s
}
