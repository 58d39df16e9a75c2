// redis.conf loading (Redis 7.0's loadServerConfig / loadServerConfigFromString).

import RESP
import Glibc

let fatalHeader = "*** FATAL CONFIG FILE ERROR (RingKV, Redis 7.0.15 compatible) ***"

@inline(__always)
private func isTrimByte(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a
}

/// Trims " \t\r\n" from both ends (sdstrim).
func trimLine(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var s = line.startIndex
    var e = line.endIndex
    while s < e && isTrimByte(line[s]) { s += 1 }
    while e > s && isTrimByte(line[e - 1]) { e -= 1 }
    return line[s..<e]
}

/// Splits bytes on "\n" like sdssplitlen (n newlines give n + 1 lines).
func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
}

struct ConfigLoader {
    var values: [String: String]
    var context = ParseContext(readingConfigFile: true)

    init(values: [String: String]) { self.values = values }

    func readFile(_ path: String, shownAs: String) throws -> [UInt8] {
        guard let fp = fopen(path, "r") else {
            throw ConfigError("Fatal error, can't open config file '\(shownAs)': \(errnoString(errno))")
        }
        defer { fclose(fp) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, fp)
            if n > 0 { out.append(contentsOf: buf[0..<n]) }
            if n < buf.count { break }
        }
        return out
    }

    /// `include path`: a path with wildcards includes every match (none is fine).
    mutating func include(_ path: String, depth: Int) throws {
        if depth > 16 {
            throw ConfigError("Fatal error, config file include nesting too deep at '\(path)'")
        }
        if hasGlobMetacharacters(path) {
            var g = glob_t()
            defer { globfree(&g) }
            if glob(path, 0, nil, &g) == 0 {
                for k in 0..<Int(g.gl_pathc) {
                    guard let p = g.gl_pathv[k] else { continue }
                    let file = stringFromCString(p)
                    let content = try readFile(file, shownAs: file)
                    try loadText(content, source: file, firstLine: 1, depth: depth)
                }
            }
            return
        }
        let content = try readFile(path, shownAs: path)
        try loadText(content, source: path, firstLine: 1, depth: depth)
    }

    /// Applies config text. `source` is the file name shown in errors (nil for
    /// command-line options); `firstLine` numbers the first line.
    mutating func loadText(_ text: [UInt8], source: String?, firstLine: Int, depth: Int) throws {
        for (i, raw) in splitLines(text).enumerated() {
            let lineNumber = firstLine + i
            let line = trimLine(raw)
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let lineText = String(decoding: line, as: UTF8.self)
            func fail(_ reason: String) -> ConfigError {
                let where_ = source.map { "Reading the configuration file '\($0)', at line \(lineNumber)" }
                    ?? "Reading the configuration file, at line \(lineNumber)"
                return ConfigError("\(fatalHeader)\n\(where_)\n>>> '\(lineText)'\n\(reason)")
            }
            guard let parts = Array(line).withUnsafeBufferPointer({ splitArgs($0) }) else {
                throw fail("Unbalanced quotes in configuration line")
            }
            if parts.isEmpty { continue }
            let argv = parts.map { String(decoding: $0, as: UTF8.self) }
            let name = argv[0].lowercased()
            if name == "include" && argv.count == 2 {
                try include(argv[1], depth: depth + 1)
                continue
            }
            guard let d = lookupDirective(name) else {
                if let n = deprecatedDirectives[name], n == argv.count { continue }
                throw fail("Bad directive or wrong number of arguments")
            }
            if !d.multiArg && argv.count != 2 { throw fail("wrong number of arguments") }
            var args = Array(argv.dropFirst())
            if d.multiArg && argv.count == 2 && !argv[1].isEmpty {
                // "--save '60 1 300 10'" style: one argument holding several.
                args = splitConfigLine(argv[1]) ?? []
            }
            switch parseDirective(d, args, current: values[d.name] ?? d.defaultValue, context: &context) {
            case .failure(let r):
                throw fail(r.text)
            case .success(let v):
                if case .dir = d.kind {
                    if chdir(v) != 0 { throw fail(errnoString(errno)) }
                    values[d.name] = currentWorkingDirectory()
                } else {
                    values[d.name] = v
                }
            }
        }
    }

    /// Checks made once everything is loaded.
    func finalChecks() throws {
        let logfile = values["logfile"] ?? ""
        if !logfile.isEmpty {
            guard let fp = fopen(logfile, "a") else {
                throw ConfigError("\(fatalHeader)\nCan't open the log file: \(errnoString(errno))")
            }
            fclose(fp)
        }
    }
}
