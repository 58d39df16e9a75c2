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

    /// Parses a manifest as Redis's aofLoadManifestFromFile accepts it:
    /// `#` lines are comments; each line is key/value pairs in any order.
    static func parse(_ text: String) -> Result<AofManifest, AofError> {
        var m = AofManifest()
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { continue }
            if line.count > 1024 { return .failure(AofError("The AOF manifest file contains too long line")) }
            let w = line.split(separator: " ")
            guard w.count % 2 == 0 else { return .failure(AofError("Invalid AOF manifest file format")) }
            var name: String?, seq: Int?, type: Character?
            for i in stride(from: 0, to: w.count, by: 2) {
                switch w[i] {
                case "file": name = String(w[i + 1])
                case "seq": seq = Int(w[i + 1])
                case "type": type = w[i + 1].count == 1 ? w[i + 1].first : nil
                default: break
                }
            }
            guard let n = name, let s = seq, let t = type, !n.contains("/") else {
                return .failure(AofError("Invalid AOF manifest file format"))
            }
            let f = File(name: n, seq: s, type: t)
            switch t {
            case "b":
                if m.base != nil { return .failure(AofError("Found duplicate base file information")) }
                m.base = f
            case "h": m.history.append(f)
            case "i":
                if let last = m.incrs.last, s <= last.seq {
                    return .failure(AofError("Found a non-monotonic sequence number"))
                }
                m.incrs.append(f)
            default: return .failure(AofError("Unknown AOF file type"))
            }
        }
        return .success(m)
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
