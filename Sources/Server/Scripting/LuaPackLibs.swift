import CLua

/// `cmsgpack` and `struct`, the two libraries Redis gives scripts that Debian
/// does not package for Lua 5.1: equivalents with the same names, calls and
/// encodings (MessagePack as lua-cmsgpack writes it; Roberto Ierusalimschy's
/// struct formats). Errors are pushed and returned as -1, never raised here.
extension LuaEngine {
    // MARK: cmsgpack

    func msgpackPack() -> Int32 {
        let argc = lua_gettop(L)
        if argc == 0 { return fail(whereCalled() + "bad argument #0 to 'pack' (MessagePack pack needs input.)") }
        var out: [UInt8] = []
        for i in 1...argc { mpEncode(i, depth: 0, into: &out) }
        out.withUnsafeBufferPointer { rk_lua_pushbytes(L, $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        return 1
    }

    /// unpack(s), unpack_one(s [, offset]), unpack_limit(s, limit [, offset]).
    func msgpackUnpack(limit fixedLimit: Int?, hasLimitArg: Bool) -> Int32 {
        guard lua_type(L, 1) == LUA_TSTRING else { return fail("bad argument #1 (string expected)") }
        var n = 0
        let p = UnsafeRawPointer(lua_tolstring(L, 1, &n)!).assumingMemoryBound(to: UInt8.self)
        var limit = fixedLimit ?? 0
        var offset = 0
        if hasLimitArg {
            limit = luaInteger(lua_tonumber(L, 2))
            offset = lua_gettop(L) >= 3 ? luaInteger(lua_tonumber(L, 3)) : 0
        } else if fixedLimit == 1 {
            offset = lua_gettop(L) >= 2 ? luaInteger(lua_tonumber(L, 2)) : 0
        }
        if offset < 0 || limit < 0 { return fail("Invalid request to unpack with offset of \(offset) and limit of \(limit).") }
        if offset > n { offset = n }
        let returnsOffset = fixedLimit != 0 || hasLimitArg
        let base = lua_gettop(L)
        if returnsOffset { lua_pushnil(L) } // the offset, filled in below
        var pos = offset
        var count = 0
        while pos < n && (limit == 0 || count < limit) {
            guard lua_checkstack(L, 8) != 0 else { return fail("too many values to unpack") }
            switch mpDecode(p, n, &pos, depth: 0) {
            case .ok: count += 1
            case .truncated:
                lua_settop(L, base)
                return fail(whereCalled() + "Missing bytes in input.")
            case .bad:
                lua_settop(L, base)
                return fail(whereCalled() + "Bad data format in input.")
            }
        }
        if returnsOffset {
            lua_pushnumber(L, Double(pos >= n ? -1 : pos))
            lua_replace(L, base + 1)
            return Int32(count + 1)
        }
        return Int32(count)
    }

    private func mpEncode(_ idx: Int32, depth: Int, into out: inout [UInt8]) {
        let t = idx < 0 ? lua_gettop(L) + idx + 1 : idx
        switch lua_type(L, t) {
        case LUA_TBOOLEAN:
            out.append(lua_toboolean(L, t) != 0 ? 0xC3 : 0xC2)
        case LUA_TNUMBER:
            let d = lua_tonumber(L, t)
            if d.isFinite, d >= -9.223372036854775808e18, d < 9.223372036854775808e18, d == d.rounded(.towardZero) {
                mpInt(Int64(d), into: &out)
            } else if Double(Float(d)) == d || d.isNaN {
                out.append(0xCA)
                be(UInt64(Float(d).bitPattern), 4, into: &out)
            } else {
                out.append(0xCB)
                be(d.bitPattern, 8, into: &out)
            }
        case LUA_TSTRING:
            var n = 0
            let p = UnsafeRawPointer(lua_tolstring(L, t, &n)!).assumingMemoryBound(to: UInt8.self)
            if n < 32 { out.append(0xA0 | UInt8(n)) } else if n <= 0xFF { out.append(0xD9); out.append(UInt8(n)) } else if n <= 0xFFFF {
                out.append(0xDA)
                be(UInt64(n), 2, into: &out)
            } else {
                out.append(0xDB)
                be(UInt64(n), 4, into: &out)
            }
            out.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        case LUA_TTABLE where depth < 16:
            if let n = arrayLength(t) {
                if n < 16 { out.append(0x90 | UInt8(n)) } else if n <= 0xFFFF { out.append(0xDC); be(UInt64(n), 2, into: &out) } else {
                    out.append(0xDD)
                    be(UInt64(n), 4, into: &out)
                }
                for i in 0..<n {
                    lua_rawgeti(L, t, Int32(i + 1))
                    mpEncode(-1, depth: depth + 1, into: &out)
                    rk_lua_pop(L, 1)
                }
            } else {
                var n = 0
                lua_pushnil(L)
                while lua_next(L, t) != 0 { n += 1; rk_lua_pop(L, 1) }
                if n < 16 { out.append(0x80 | UInt8(n)) } else if n <= 0xFFFF { out.append(0xDE); be(UInt64(n), 2, into: &out) } else {
                    out.append(0xDF)
                    be(UInt64(n), 4, into: &out)
                }
                lua_pushnil(L)
                while lua_next(L, t) != 0 {
                    mpEncode(-2, depth: depth + 1, into: &out)
                    mpEncode(-1, depth: depth + 1, into: &out)
                    rk_lua_pop(L, 1)
                }
            }
        default:
            out.append(0xC0)
        }
    }

    /// n when the table's keys are exactly 1...n (lua-cmsgpack's rule).
    private func arrayLength(_ t: Int32) -> Int? {
        var count = 0
        var maxKey = 0
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            rk_lua_pop(L, 1)
            guard lua_type(L, -1) == LUA_TNUMBER else { rk_lua_pop(L, 1); return nil }
            let k = lua_tonumber(L, -1)
            guard k >= 1, k == k.rounded(.towardZero), k < 1e15 else { rk_lua_pop(L, 1); return nil }
            count += 1
            maxKey = max(maxKey, Int(k))
        }
        return maxKey == count ? count : nil
    }

    private func mpInt(_ v: Int64, into out: inout [UInt8]) {
        if v >= 0 {
            if v <= 127 { out.append(UInt8(v)) } else if v <= 0xFF { out.append(0xCC); out.append(UInt8(v)) } else if v <= 0xFFFF {
                out.append(0xCD)
                be(UInt64(v), 2, into: &out)
            } else if v <= 0xFFFF_FFFF {
                out.append(0xCE)
                be(UInt64(v), 4, into: &out)
            } else {
                out.append(0xCF)
                be(UInt64(v), 8, into: &out)
            }
        } else {
            if v >= -32 { out.append(UInt8(bitPattern: Int8(v))) } else if v >= -128 { out.append(0xD0); out.append(UInt8(bitPattern: Int8(v))) } else if v >= -32768 {
                out.append(0xD1)
                be(UInt64(bitPattern: v), 2, into: &out)
            } else if v >= -2_147_483_648 {
                out.append(0xD2)
                be(UInt64(bitPattern: v), 4, into: &out)
            } else {
                out.append(0xD3)
                be(UInt64(bitPattern: v), 8, into: &out)
            }
        }
    }

    private func be(_ v: UInt64, _ n: Int, into out: inout [UInt8]) {
        for k in (0..<n).reversed() { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
    }

    enum Decoded { case ok, truncated, bad }

    private func mpDecode(_ p: UnsafePointer<UInt8>, _ n: Int, _ pos: inout Int, depth: Int) -> Decoded {
        guard pos < n else { return .truncated }
        func read(_ k: Int) -> UInt64? {
            guard pos + k <= n else { return nil }
            var v: UInt64 = 0
            for i in 0..<k { v = v << 8 | UInt64(p[pos + i]) }
            pos += k
            return v
        }
        func bytes(_ k: Int) -> Decoded {
            guard k >= 0, pos + k <= n else { return .truncated }
            rk_lua_pushbytes(L, p + pos, k)
            pos += k
            return .ok
        }
        func seq(_ count: Int, map: Bool) -> Decoded {
            guard depth < 1000, lua_checkstack(L, 4) != 0 else { return .bad }
            lua_createtable(L, map ? 0 : Int32(min(count, 1 << 16)), map ? Int32(min(count, 1 << 16)) : 0)
            for i in 0..<count {
                if map {
                    let a = mpDecode(p, n, &pos, depth: depth + 1)
                    if case .ok = a {} else { return a }
                    let b = mpDecode(p, n, &pos, depth: depth + 1)
                    if case .ok = b {} else { return b }
                    lua_settable(L, -3)
                } else {
                    let a = mpDecode(p, n, &pos, depth: depth + 1)
                    if case .ok = a {} else { return a }
                    lua_rawseti(L, -2, Int32(i + 1))
                }
            }
            return .ok
        }
        let b = p[pos]
        pos += 1
        switch b {
        case 0x00...0x7F: lua_pushnumber(L, Double(b))
        case 0xE0...0xFF: lua_pushnumber(L, Double(Int8(bitPattern: b)))
        case 0xA0...0xBF: return bytes(Int(b & 0x1F))
        case 0x90...0x9F: return seq(Int(b & 0x0F), map: false)
        case 0x80...0x8F: return seq(Int(b & 0x0F), map: true)
        case 0xC0: lua_pushnil(L)
        case 0xC2: lua_pushboolean(L, 0)
        case 0xC3: lua_pushboolean(L, 1)
        case 0xCC, 0xCD, 0xCE, 0xCF:
            guard let v = read(1 << Int(b - 0xCC)) else { return .truncated }
            lua_pushnumber(L, Double(v))
        case 0xD0, 0xD1, 0xD2, 0xD3:
            let k = 1 << Int(b - 0xD0)
            guard let v = read(k) else { return .truncated }
            let shift = UInt64(64 - 8 * k)
            lua_pushnumber(L, Double(Int64(bitPattern: v << shift) >> Int64(shift)))
        case 0xCA:
            guard let v = read(4) else { return .truncated }
            lua_pushnumber(L, Double(Float(bitPattern: UInt32(v))))
        case 0xCB:
            guard let v = read(8) else { return .truncated }
            lua_pushnumber(L, Double(bitPattern: v))
        case 0xD9, 0xC4:
            guard let v = read(1) else { return .truncated }
            return bytes(Int(v))
        case 0xDA, 0xC5:
            guard let v = read(2) else { return .truncated }
            return bytes(Int(v))
        case 0xDB, 0xC6:
            guard let v = read(4) else { return .truncated }
            return bytes(Int(v))
        case 0xDC, 0xDD:
            guard let v = read(b == 0xDC ? 2 : 4) else { return .truncated }
            guard Int(v) <= n - pos else { return .truncated }
            return seq(Int(v), map: false)
        case 0xDE, 0xDF:
            guard let v = read(b == 0xDE ? 2 : 4) else { return .truncated }
            guard Int(v) <= n - pos else { return .truncated }
            return seq(Int(v), map: true)
        default:
            return .bad
        }
        return .ok
    }

    // MARK: struct

    private struct Format {
        let f: [UInt8]
        var i = 0
        var little = true
        var maxAlign = 1
        /// Set by a size or alignment the struct library refuses; the caller raises it.
        var error: String? = nil

        /// lua_struct's getnum: digits as a C int, refused past INT_MAX
        /// (a bigger one crashed here on Int overflow).
        mutating func number(_ dflt: Int) -> Int {
            guard i < f.count, f[i] >= 48, f[i] <= 57 else { return dflt }
            var v = 0
            while i < f.count, f[i] >= 48, f[i] <= 57 {
                let d = Int(f[i] - 48)
                if v > Int(Int32.max) / 10 || v * 10 > Int(Int32.max) - d {
                    error = "integral size overflow"
                    return 0
                }
                v = v * 10 + d
                i += 1
            }
            return v
        }
    }

    /// The size of a numeric or padded option at `fmt.i` (after the option byte).
    private func optSize(_ op: UInt8, _ fmt: inout Format) -> Int? {
        func number(_ dflt: Int) -> Int { fmt.number(dflt) }
        switch op {
        case 98, 66, 120: return 1 // b B x
        case 104, 72: return 2     // h H
        case 108, 76, 84: return 8 // l L T
        case 102: return 4         // f
        case 100: return 8         // d
        case 105, 73:              // i I
            return number(4)
        case 99: return number(1)  // c
        case 115: return 0         // s
        default: return nil
        }
    }

    private func align(_ size: Int, _ fmt: Format, at total: Int) -> Int {
        let a = min(size, fmt.maxAlign)
        guard a > 1, a & (a - 1) == 0 else { return 0 }
        return (a - (total & (a - 1))) & (a - 1)
    }

    private func controls(_ op: UInt8, _ fmt: inout Format) -> Bool {
        switch op {
        case 32: return true
        case 62: fmt.little = false; return true
        case 60, 61: fmt.little = true; return true
        case 33:
            let v = fmt.number(8)
            if fmt.error == nil && (v <= 0 || v & (v - 1) != 0) { fmt.error = "alignment \(v) is not a power of 2" }
            fmt.maxAlign = v
            return true
        default: return false
        }
    }

    private func formatError(_ fn: String, _ op: UInt8) -> Int32 {
        fail(whereCalled() + "bad argument #1 to '\(fn)' (invalid format option '\(Character(UnicodeScalar(op)))')")
    }

    func structPack() -> Int32 {
        guard lua_type(L, 1) == LUA_TSTRING, let fs = string(at: 1) else { return fail("bad argument #1 to 'pack' (string expected)") }
        var fmt = Format(f: Array(fs.utf8))
        var out: [UInt8] = []
        var arg: Int32 = 2
        while fmt.i < fmt.f.count {
            let op = fmt.f[fmt.i]
            fmt.i += 1
            if controls(op, &fmt) {
                if let e = fmt.error { return fail(whereCalled() + e) }
                continue
            }
            guard let size = optSize(op, &fmt) else { return formatError("pack", op) }
            if let e = fmt.error { return fail(whereCalled() + e) }
            if (op == 105 || op == 73) && (size < 1 || size > 8) { return fail(whereCalled() + "integral size \(size) is larger than limit of 8") }
            out.append(contentsOf: repeatElement(0, count: align(size, fmt, at: out.count)))
            switch op {
            case 120: out.append(0)
            case 98, 66, 104, 72, 108, 76, 84, 105, 73:
                let v = lua_tonumber(L, arg)
                arg += 1
                let bits = v < 0 ? UInt64(bitPattern: Int64(luaInteger(v))) : v.isNaN ? 0 : UInt64(min(v, 1.8e19))
                putBytes(bits, size, little: fmt.little, into: &out)
            case 102, 100:
                let v = lua_tonumber(L, arg)
                arg += 1
                putBytes(size == 4 ? UInt64(Float(v).bitPattern) : v.bitPattern, size, little: fmt.little, into: &out)
            case 99, 115:
                guard lua_type(L, arg) == LUA_TSTRING || lua_type(L, arg) == LUA_TNUMBER else {
                    return fail(whereCalled() + "bad argument #\(arg) to 'pack' (string expected, got no value)")
                }
                var n = 0
                let p = UnsafeRawPointer(lua_tolstring(L, arg, &n)!).assumingMemoryBound(to: UInt8.self)
                arg += 1
                if op == 115 {
                    out.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
                    out.append(0)
                } else {
                    var want = size
                    if size == 0 { want = n }
                    if n < want { return fail(whereCalled() + "bad argument #\(arg - 1) to 'pack' (string too short)") }
                    out.append(contentsOf: UnsafeBufferPointer(start: p, count: want))
                }
            default: break
            }
        }
        out.withUnsafeBufferPointer { rk_lua_pushbytes(L, $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        return 1
    }

    func structUnpack() -> Int32 {
        guard lua_type(L, 1) == LUA_TSTRING, let fs = string(at: 1) else { return fail("bad argument #1 to 'unpack' (string expected)") }
        guard lua_type(L, 2) == LUA_TSTRING else { return fail("bad argument #2 to 'unpack' (string expected)") }
        var n = 0
        let p = UnsafeRawPointer(lua_tolstring(L, 2, &n)!).assumingMemoryBound(to: UInt8.self)
        let start = lua_gettop(L) >= 3 ? luaInteger(lua_tonumber(L, 3)) : 1
        if start < 1 || start > n + 1 { return fail(whereCalled() + "bad argument #3 to 'unpack' (offset must be 1 or greater)") }
        var pos = start - 1
        var fmt = Format(f: Array(fs.utf8))
        var results: Int32 = 0
        var lastNumber = 0
        while fmt.i < fmt.f.count {
            let op = fmt.f[fmt.i]
            fmt.i += 1
            if controls(op, &fmt) {
                if let e = fmt.error { return fail(whereCalled() + e) }
                continue
            }
            guard let size = optSize(op, &fmt) else { return formatError("unpack", op) }
            if let e = fmt.error { return fail(whereCalled() + e) }
            pos += align(size, fmt, at: pos)
            guard lua_checkstack(L, 2) != 0 else { return fail("too many results") }
            switch op {
            case 120:
                pos += 1
                continue
            case 98, 66, 104, 72, 108, 76, 84, 105, 73:
                guard pos + size <= n else { return fail(whereCalled() + "bad argument #2 to 'unpack' (data string too short)") }
                let v = getBytes(p + pos, size, little: fmt.little)
                pos += size
                let signed = op == 98 || op == 104 || op == 108 || op == 105
                var d: Double
                if signed && size < 8 && v & (1 << (8 * UInt64(size) - 1)) != 0 {
                    d = Double(Int64(bitPattern: v | ~((1 << (8 * UInt64(size))) - 1)))
                } else if signed {
                    d = Double(Int64(bitPattern: v))
                } else {
                    d = Double(v)
                }
                lastNumber = luaInteger(d)
                lua_pushnumber(L, d)
            case 102, 100:
                guard pos + size <= n else { return fail(whereCalled() + "bad argument #2 to 'unpack' (data string too short)") }
                let v = getBytes(p + pos, size, little: fmt.little)
                pos += size
                lua_pushnumber(L, size == 4 ? Double(Float(bitPattern: UInt32(v))) : Double(bitPattern: v))
            case 99:
                let want = size == 0 ? lastNumber : size
                guard want >= 0, pos + want <= n else { return fail(whereCalled() + "bad argument #2 to 'unpack' (data string too short)") }
                rk_lua_pushbytes(L, p + pos, want)
                pos += want
            case 115:
                var e = pos
                while e < n && p[e] != 0 { e += 1 }
                guard e < n else { return fail(whereCalled() + "bad argument #2 to 'unpack' (unfinished string in data)") }
                rk_lua_pushbytes(L, p + pos, e - pos)
                pos = e + 1
            default: break
            }
            results += 1
        }
        lua_pushnumber(L, Double(pos + 1))
        return results + 1
    }

    func structSize() -> Int32 {
        guard lua_type(L, 1) == LUA_TSTRING, let fs = string(at: 1) else { return fail("bad argument #1 to 'size' (string expected)") }
        var fmt = Format(f: Array(fs.utf8))
        var total = 0
        while fmt.i < fmt.f.count {
            let op = fmt.f[fmt.i]
            fmt.i += 1
            if controls(op, &fmt) {
                if let e = fmt.error { return fail(whereCalled() + e) }
                continue
            }
            guard let size = optSize(op, &fmt) else { return formatError("size", op) }
            if let e = fmt.error { return fail(whereCalled() + e) }
            if op == 115 || (op == 99 && size == 0) { return fail(whereCalled() + "bad argument #1 to 'size' (options 'c0' - 's' have undefined sizes)") }
            total += align(size, fmt, at: total) + size
        }
        lua_pushnumber(L, Double(total))
        return 1
    }

    /// `size` bytes of `bits`, in the format's byte order.
    private func putBytes(_ bits: UInt64, _ size: Int, little: Bool, into out: inout [UInt8]) {
        for k in 0..<size { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(little ? k : size - 1 - k)))) }
    }

    private func getBytes(_ p: UnsafePointer<UInt8>, _ size: Int, little: Bool) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<size { v |= UInt64(p[little ? k : size - 1 - k]) << (8 * UInt64(k)) }
        return v
    }

    func fail(_ m: String) -> Int32 {
        lua_pushstring(L, m)
        return -1
    }
}
