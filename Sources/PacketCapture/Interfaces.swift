#if canImport(Glibc)
import Glibc
#endif
import CPacket

/// Interface names and indexes, for binding and for error messages.
public enum NetworkInterfaces {
    /// Names of every interface in this network namespace, in index order.
    public static func names() -> [String] {
        guard let list = if_nameindex() else { return [] }
        defer { if_freenameindex(list) }
        var out: [(UInt32, String)] = []
        var p = list
        while p.pointee.if_index != 0, let name = p.pointee.if_name {
            out.append((p.pointee.if_index, String(cString: name)))
            p += 1
        }
        return out.sorted { $0.0 < $1.0 }.map { $0.1 }
    }

    /// The interface's index, or `CaptureError.unknownInterface` naming the ones that exist.
    public static func index(of name: String) throws -> Int32 {
        let i = if_nametoindex(name)
        guard i != 0 else { throw CaptureError.unknownInterface(name, available: names()) }
        return Int32(i)
    }

    public static func name(of index: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(UInt32(index), &buf) != nil else { return nil }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func isLoopback(_ name: String) -> Bool {
        cpacket_is_loopback(name) == 1
    }
}

/// Resolves interface indexes to names once each; the capture tool prints a
/// name per frame and if_indextoname is a syscall-backed lookup.
public struct InterfaceNameCache {
    private var names: [Int32: String] = [:]
    public init() {}
    public mutating func name(of index: Int32) -> String {
        if let n = names[index] { return n }
        let n = NetworkInterfaces.name(of: index) ?? "if\(index)"
        names[index] = n
        return n
    }
}
