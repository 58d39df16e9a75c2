#if canImport(Glibc)
import Glibc
#endif

/// Redis 7.0's multi-part AOF manifest (`<appendfilename>.manifest` in
/// `appenddirname`): one line per file, `file <name> seq <n> type <b|h|i>`,
/// the base first, then history, then the incr files in replay order.
struct AofManifest: Equatable {
    struct File: Equatable {
        var name: String
        var seq: Int
        var type: Character   // b, h, i
    }
    var base: File?
    var history: [File] = []
    var incrs: [File] = []

    var text: String {
        var s = ""
        for f in (base.map { [$0] } ?? []) + history + incrs {
            s += "file \(f.name) seq \(f.seq) type \(f.type)\n"
        }
        return s
    }

    /// Parses a manifest as Redis 7.0's aofLoadManifestFromFile does, over
    /// bytes (a Swift Character would fold "\r\n" into one and refuse a
    /// manifest with CRLF line ends, which Redis loads): lines of at most
    /// 1024 bytes read as fgets reads them, `#` at a line's start for a
    /// comment, the rest trimmed of " \t\r\n", split at whitespace into
    /// key/value pairs in any order (keys in any case), seq read as atoll,
    /// type as the value's first byte. Quoted names (Redis writes them only
    /// for an appendfilename that needs quoting) are not unquoted.
    static func parse(_ text: String) -> Result<AofManifest, AofError> {
        let b = Array(text.utf8)
        if b.isEmpty { return .failure(AofError("Found an empty AOF manifest")) }
        var m = AofManifest()
        var start = 0
        while start < b.count {
            let limit = min(b.count, start + 1024)
            var end = start
            while end < limit && b[end] != 10 { end += 1 }
            let whole = end < limit
            defer { start = whole ? end + 1 : limit }
            if b[start] == 35 /* # */ { continue }
            guard whole else { return .failure(AofError("The AOF manifest file contains too long line")) }
            let words = b[start..<end].split(whereSeparator: { $0 == 32 || ($0 >= 9 && $0 <= 13) })
            guard words.count >= 6, words.count % 2 == 0 else {
                return .failure(AofError("Invalid AOF manifest file format"))
            }
            var name: String?, seq = 0, type: UInt8 = 0
            for i in stride(from: 0, to: words.count, by: 2) {
                let v = words[i + 1]
                if keyIs(words[i], "file") {
                    if v.contains(47 /* / */) || v.contains(92 /* \ */) {
                        return .failure(AofError("File can't be a path, just a filename"))
                    }
                    name = String(decoding: v, as: UTF8.self)
                } else if keyIs(words[i], "seq") {
                    seq = cAtoll(v)
                } else if keyIs(words[i], "type") {
                    type = v.first!
                }
            }
            guard let n = name, seq != 0, type != 0 else { return .failure(AofError("Invalid AOF manifest file format")) }
            let f = File(name: n, seq: seq, type: Character(Unicode.Scalar(type)))
            switch type {
            case 98 /* b */:
                if m.base != nil { return .failure(AofError("Found duplicate base file information")) }
                m.base = f
            case 104 /* h */: m.history.append(f)
            case 105 /* i */:
                if seq <= (m.incrs.last?.seq ?? 0) {
                    return .failure(AofError("Found a non-monotonic sequence number"))
                }
                m.incrs.append(f)
            default: return .failure(AofError("Unknown AOF file type"))
            }
        }
        return .success(m)
    }

    private static func keyIs(_ w: ArraySlice<UInt8>, _ key: StaticString) -> Bool {
        w.count == key.utf8CodeUnitCount && zip(w, UnsafeBufferPointer(start: key.utf8Start, count: w.count))
            .allSatisfy { $0 | 0x20 == $1 }
    }

    /// C's atoll: an optional sign, then digits up to the first other byte;
    /// saturated as glibc's strtoll saturates.
    private static func cAtoll(_ w: ArraySlice<UInt8>) -> Int {
        var i = w.startIndex
        var neg = false
        if i < w.endIndex && (w[i] == 43 || w[i] == 45) { neg = w[i] == 45; i += 1 }
        var v = 0
        while i < w.endIndex, w[i] >= 48, w[i] <= 57 {
            let (a, o1) = v.multipliedReportingOverflow(by: 10)
            let (c, o2) = a.addingReportingOverflow(Int(w[i] - 48))
            if o1 || o2 { return neg ? Int.min : Int.max }
            v = c
            i += 1
        }
        return neg ? -v : v
    }

    var nextBaseSeq: Int { (base?.seq ?? 0) + 1 }
    var nextIncrSeq: Int { (incrs.last?.seq ?? 0) + 1 }
}

struct AofError: Error {
    let message: String
    init(_ m: String) { message = m }
}

/// Files of the AOF directory, relative to the server's `dir` as Redis's are.
struct AofPaths {
    let dir: String
    let name: String
    var manifest: String { "\(dir)/\(name).manifest" }
    func path(_ f: String) -> String { "\(dir)/\(f)" }
    func baseName(_ seq: Int) -> String { "\(name).\(seq).base.rdb" }
    func incrName(_ seq: Int) -> String { "\(name).\(seq).incr.aof" }
}

func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : 0
}

/// Writes `text` to a temp file, fsyncs it and renames it over `path`
/// (Redis's persistAofManifest), then fsyncs the directory.
func writeFileAtomically(_ path: String, dir: String, tempName: String, _ text: String) -> Bool {
    let tmp = "\(dir)/\(tempName)"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { return false }
    var ok = true
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { b in
        var off = 0
        while off < b.count {
            let n = write(fd, b.baseAddress! + off, b.count - off)
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            off += n
        }
    }
    if fsync(fd) != 0 { ok = false }
    close(fd)
    if !ok || rename(tmp, path) != 0 {
        unlink(tmp)
        return false
    }
    fsyncDirectory(dir)
    return true
}

func fsyncDirectory(_ dir: String) {
    let d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if d >= 0 {
        _ = fsync(d)
        close(d)
    }
}
