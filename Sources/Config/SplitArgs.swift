import RESP

/// redis.conf argument splitting (sdssplitargs semantics). Returns nil on
/// unbalanced quotes. Bytes that are not valid UTF-8 (from `\xHH`) are
/// repaired by `String(decoding:)`; use `splitArgs` for raw bytes.
public func splitConfigLine(_ line: String) -> [String]? {
    var l = line
    guard let parts = l.withUTF8({ splitArgs($0) }) else { return nil }
    return parts.map { String(decoding: $0, as: UTF8.self) }
}

/// Redis's `sdscatrepr`: a double-quoted, escaped representation.
public func quotedRepr(_ s: String) -> String {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for c in s.utf8 {
        switch c {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""):
            out.append(UInt8(ascii: "\\")); out.append(c)
        case 0x0a: out.append(contentsOf: Array("\\n".utf8))
        case 0x0d: out.append(contentsOf: Array("\\r".utf8))
        case 0x09: out.append(contentsOf: Array("\\t".utf8))
        case 0x07: out.append(contentsOf: Array("\\a".utf8))
        case 0x08: out.append(contentsOf: Array("\\b".utf8))
        default:
            if c >= 0x20 && c <= 0x7e {
                out.append(c)
            } else {
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}
