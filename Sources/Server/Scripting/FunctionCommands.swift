import Commands
import Config
import RESP
import Storage

/// FUNCTION and FCALL. Libraries are validated by loading them into this
/// worker's Lua state, then kept in the shared `FunctionStore`; every worker
/// reloads them into its own state when the store's generation moves.
/// FCALL runs like EVAL (ScriptCommands.swift): same locking, same errors.
extension Worker {
    /// This worker's functions, reloaded when another worker changed the libraries.
    func syncFunctions() {
        let gen = state.functions.generation.value
        let e = lua
        if e.functionGeneration == gen { return }
        e.release(Array(e.libraryFunctions.values))
        e.libraryFunctions.removeAll()
        for lib in state.functions.all {
            var code = lib.code
            _ = parseLibraryShebang(&code)
            if case .success(let fs) = e.loadLibrary(code) {
                for f in fs { e.libraryFunctions[f.name] = f }
            }
        }
        e.functionGeneration = gen
    }

    func fcall(_ c: Client, _ r: Reply, readOnly ro: Bool) {
        guard let numkeys = parseStrictInt(args[2].ptr, args[2].count) else {
            return r.error("ERR Bad number of keys provided")
        }
        if numkeys < 0 { return r.error("ERR Number of keys can't be negative") }
        if numkeys > args.count - 3 { return r.error("ERR Number of keys can't be greater than number of args") }
        syncFunctions()
        guard let name = args[1].asciiName, let f = lua.libraryFunctions[name] else { return r.error("ERR Function not found") }
        if ro && !f.noWrites { return r.error("ERR Can not execute a script with write flag using *_ro command.") }
        if memLimit.max != 0 && scriptOOM && !f.noWrites && !f.flags.contains("allow-oom") { return refuseScriptOOM(r) }
        startScript(c, r, sha: "fn:" + f.name, function: f.name, readOnly: ro || f.noWrites, numkeys: numkeys)
    }

    func functionCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        if sub.equalsLower("load") && (args.count == 3 || args.count == 4) {
            var replace = false
            if args.count == 4 {
                guard args[2].equalsLower("replace") else { return r.error(string: "ERR Unknown option given: \(args[2].lossyString)") }
                replace = true
            }
            switch installLibrary(Array(args[args.count - 1].buffer), replace: replace) {
            case .success(let name): r.bulk(string: name)
            case .failure(let e): r.error(string: e.message)
            }
        } else if sub.equalsLower("delete") && args.count == 3 {
            if let name = args[2].asciiName, state.functions.remove(name) { r.ok() } else { r.error("ERR Library not found") }
        } else if sub.equalsLower("flush") && args.count <= 3 {
            if args.count == 3 && !args[2].equalsLower("sync") && !args[2].equalsLower("async") {
                return r.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
            }
            state.functions.flush()
            r.ok()
        } else if sub.equalsLower("list") {
            functionList(r)
        } else if sub.equalsLower("stats") && args.count == 2 {
            // Redis refuses it while an EVAL (not a function) is busy.
            if state.handles.contains(where: { $0.scriptBusy.value == 1 }) { return r.error(string: busyError()) }
            let libs = state.functions.all
            r.map(2)
            r.bulk(static: "running_script")
            writeRunningFunction(r)
            r.bulk(static: "engines")
            r.map(1)
            r.bulk(static: "LUA")
            r.map(2)
            r.bulk(static: "libraries_count")
            r.int(libs.count)
            r.bulk(static: "functions_count")
            r.int(libs.reduce(0) { $0 + $1.functions.count })
        } else if sub.equalsLower("dump") && args.count == 2 {
            r.bulk(functionDump())
        } else if sub.equalsLower("restore") && (args.count == 3 || args.count == 4) {
            functionRestore(r)
        } else if sub.equalsLower("kill") && args.count == 2 {
            killScript(r, function: true)
        } else if sub.equalsLower("help") && args.count == 2 {
            r.helpLines([
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "LOAD [REPLACE] <FUNCTION CODE>", "    Create a new library with the given library name and code.",
                "DELETE <LIBRARY NAME>", "    Delete the given library.",
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]", "    Return general information on all the libraries:",
                "    * Library name", "    * The engine used to run the Library",
                "    * Library description", "    * Functions list", "    * Library code (if WITHCODE is given)",
                "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
                "STATS", "    Return information about the current function running:", "    * Function name",
                "    * Command used to run the function", "    * Duration in MS that the function is running",
                "    If no function is running, return nil", "    In addition, returns a list of available engines.",
                "KILL", "    Kill the current running function.",
                "FLUSH [ASYNC|SYNC]", "    Delete all the libraries.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the libraries.", "    * SYNC: Synchronously flush the libraries.",
                "DUMP", "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
                "    control how to handle existing libraries (default APPEND):",
                "    * FLUSH: delete all existing libraries.",
                "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
                "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
                "      libraries with the new libraries (notice that even on this option there is a chance of failure",
                "      in case of functions name collision with another library).",
                "HELP", "    Print this help.",
            ])
        } else if ["load", "delete", "flush", "stats", "dump", "restore", "kill", "help"]
            .contains(sub.lossyString.lowercased()) {
            r.error(string: "ERR wrong number of arguments for 'function|\(sub.lossyString.lowercased())' command")
        } else {
            r.error(string: "ERR unknown subcommand '\(sub.lossyString)'. Try FUNCTION HELP.")
        }
    }

    /// Validates `code` by loading it here, then stores it for every worker.
    func installLibrary(_ code: [UInt8], replace: Bool) -> Result<String, ScriptError> {
        var body = code
        let name: String
        switch parseLibraryShebang(&body) {
        case .failure(let e): return .failure(e)
        case .success(let n): name = n
        }
        if !replace && state.functions.library(name) != nil {
            return .failure(ScriptError("ERR Library '\(name)' already exists"))
        }
        let fs: [LoadedFunction]
        switch lua.loadLibrary(body) {
        case .failure(let e): return .failure(e)
        case .success(let v): fs = v
        }
        lua.release(fs)
        let lib = FunctionStore.Library(
            name: name, code: code,
            functions: fs.map { FunctionStore.Function(name: $0.name, description: $0.description, flags: $0.flags) })
        if let err = state.functions.put(lib, replace: replace) { return .failure(ScriptError(err)) }
        return .success(name)
    }

    func functionList(_ r: Reply) {
        var withCode = false
        var pattern: Arg?
        var i = 2
        while i < args.count {
            if args[i].equalsLower("withcode") && !withCode {
                withCode = true
            } else if args[i].equalsLower("libraryname") && pattern == nil {
                guard i + 1 < args.count else { return r.error("ERR library name argument was not given") }
                pattern = args[i + 1]
                i += 1
            } else {
                return r.error(string: "ERR Unknown argument \(args[i].lossyString)")
            }
            i += 1
        }
        var libs = state.functions.all
        if let p = pattern {
            libs = libs.filter { l in
                Array(l.name.utf8).withUnsafeBufferPointer { b in
                    globMatch(p.buffer, b, nocase: false)
                }
            }
        }
        r.array(libs.count)
        for l in libs {
            r.map(withCode ? 4 : 3)
            r.bulk(static: "library_name")
            r.bulk(string: l.name)
            r.bulk(static: "engine")
            r.bulk(static: "LUA")
            r.bulk(static: "functions")
            r.array(l.functions.count)
            for f in l.functions.sorted(by: { $0.name < $1.name }) {
                r.map(3)
                r.bulk(static: "name")
                r.bulk(string: f.name)
                r.bulk(static: "description")
                if let d = f.description { r.bulk(string: d) } else { r.null() }
                r.bulk(static: "flags")
                r.set(f.flags.count)
                for fl in f.flags { r.simple(string: fl) }
            }
            if withCode {
                r.bulk(static: "library_code")
                r.bulk(l.code)
            }
        }
    }

    /// Redis's FUNCTION DUMP payload: per library the RDB FUNCTION2 opcode
    /// and the code as an RDB string (LZF-compressed as rdbSaveRawString
    /// decides), then the RDB version and a CRC64.
    func functionDump() -> [UInt8] {
        var w = RdbWriter()
        for l in state.functions.all {
            w.byte(245)
            w.string(l.code)
        }
        var out = w.out
        out.append(10)
        out.append(0)
        let crc = out.withUnsafeBytes { crc64(0, $0) }
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: crc >> (8 * k))) }
        return out
    }

    func functionRestore(_ r: Reply) {
        var policy = "append"
        if args.count == 4 {
            let p = args[3].lossyString.lowercased()
            guard ["flush", "append", "replace"].contains(p) else { return r.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.") }
            policy = p
        }
        let payload = Array(args[2].buffer)
        guard payload.count >= 10 else { return r.error("ERR DUMP payload version or checksum are wrong") }
        let body = payload[0..<(payload.count - 8)]
        let crc = body.withUnsafeBytes { crc64(0, $0) }
        var stored: UInt64 = 0
        for k in 0..<8 { stored |= UInt64(payload[payload.count - 8 + k]) << (8 * k) }
        let version = Int(payload[payload.count - 10]) | Int(payload[payload.count - 9]) << 8
        guard crc == stored, version <= 10 else { return r.error("ERR DUMP payload version or checksum are wrong") }
        var libs: [[UInt8]] = []
        var pos = 0
        let end = payload.count - 10
        while pos < end {
            guard payload[pos] == 245 else { return r.error("ERR given type is not a function") }
            pos += 1
            guard let (code, next) = rdbString(payload, at: pos, end: end) else {
                return r.error("ERR payload is corrupted")
            }
            libs.append(code)
            pos = next
        }
        if policy == "flush" { state.functions.flush() }
        for code in libs {
            if case .failure(let e) = installLibrary(code, replace: policy == "replace") {
                return r.error(string: e.message)
            }
        }
        r.ok()
    }
}

/// `#!lua name=<library>`: the name, with the line blanked.
func parseLibraryShebang(_ body: inout [UInt8]) -> Result<String, ScriptError> {
    guard body.count >= 2, body[0] == 35, body[1] == 33 else { return .failure(ScriptError("ERR Missing library metadata")) }
    let end = body.firstIndex(of: 10) ?? body.count
    let parts = String(decoding: body[2..<end], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
    guard let engine = parts.first else { return .failure(ScriptError("ERR Missing library metadata")) }
    guard engine.lowercased() == "lua" else { return .failure(ScriptError("ERR Engine '\(engine)' not found")) }
    var name: String?
    for p in parts.dropFirst() {
        if p.hasPrefix("name=") { name = String(p.dropFirst(5)) } else {
            return .failure(ScriptError("ERR Invalid metadata value given: \(p)"))
        }
    }
    guard let n = name else { return .failure(ScriptError("ERR Library name was not given")) }
    guard validLibraryName(n) else {
        return .failure(ScriptError("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
    }
    for i in 0..<end { body[i] = 32 }
    return .success(n)
}

/// RDB length encoding (6-bit, 14-bit, 32-bit and 64-bit forms).
func rdbLength(_ n: Int, into out: inout [UInt8]) {
    if n < 64 {
        out.append(UInt8(n))
    } else if n < 16384 {
        out.append(UInt8(0x40 | (n >> 8)))
        out.append(UInt8(n & 0xFF))
    } else if n <= Int(UInt32.max) {
        out.append(0x80)
        for k in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: n >> (8 * k))) }
    } else {
        out.append(0x81)
        for k in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: n >> (8 * k))) }
    }
}

/// Reads an RDB length at `pos`: (value, is-encoded, next position).
func rdbReadLength(_ p: [UInt8], at pos: Int, end: Int) -> (Int, Bool, Int)? {
    guard pos < end else { return nil }
    let b = p[pos]
    switch b >> 6 {
    case 0: return (Int(b & 0x3F), false, pos + 1)
    case 1:
        guard pos + 1 < end else { return nil }
        return (Int(b & 0x3F) << 8 | Int(p[pos + 1]), false, pos + 2)
    case 2:
        let k = b == 0x80 ? 4 : (b == 0x81 ? 8 : 0)
        guard k > 0, pos + k < end else { return nil }
        var v = 0
        for i in 1...k { v = v << 8 | Int(p[pos + i]) }
        guard v >= 0, v <= 1 << 32 else { return nil }
        return (v, false, pos + 1 + k)
    default:
        return (Int(b & 0x3F), true, pos + 1)
    }
}

/// An RDB string (plain or LZF-compressed) at `pos`: (bytes, next position).
func rdbString(_ p: [UInt8], at pos: Int, end: Int) -> ([UInt8], Int)? {
    guard let (len, encoded, next) = rdbReadLength(p, at: pos, end: end) else { return nil }
    if !encoded {
        guard next + len <= end else { return nil }
        return (Array(p[next..<(next + len)]), next + len)
    }
    guard len == 3, // LZF
          let (clen, _, n1) = rdbReadLength(p, at: next, end: end),
          let (ulen, _, n2) = rdbReadLength(p, at: n1, end: end),
          n2 + clen <= end else { return nil }
    let out = p[n2..<(n2 + clen)].withUnsafeBytes { lzfDecompress($0, outLen: ulen) }
    guard let s = out else { return nil }
    return (s, n2 + clen)
}
