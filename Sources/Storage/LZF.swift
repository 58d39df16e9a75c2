/// LZF decompression (the format of Redis's compressed RDB strings).
/// Returns nil when the input is malformed or does not produce `outLen` bytes.
public func lzfDecompress(_ input: UnsafeRawBufferPointer, outLen: Int) -> [UInt8]? {
    guard outLen >= 0, outLen <= 1 << 29 else { return nil }
    // Not reserved by `outLen`: that length comes from the payload, and the
    // output grows only as the input produces it.
    var out = [UInt8]()
    var ip = 0
    while ip < input.count {
        let ctrl = Int(input[ip])
        ip += 1
        if ctrl < 32 {
            let n = ctrl + 1
            guard ip + n <= input.count, out.count + n <= outLen else { return nil }
            out.append(contentsOf: input[ip..<(ip + n)])
            ip += n
        } else {
            var len = ctrl >> 5
            if len == 7 {
                guard ip < input.count else { return nil }
                len += Int(input[ip])
                ip += 1
            }
            guard ip < input.count else { return nil }
            let back = ((ctrl & 0x1F) << 8) + Int(input[ip]) + 1
            ip += 1
            guard back <= out.count, out.count + len + 2 <= outLen else { return nil }
            var ref = out.count - back
            for _ in 0..<(len + 2) {
                out.append(out[ref])
                ref += 1
            }
        }
    }
    return out.count == outLen ? out : nil
}
