import Commands
import RESP
import Storage

/// SLOWLOG entries of one worker; SLOWLOG GET merges all workers' newest.
struct SlowLog {
    struct Item {
        let id: Int
        let time: Int64
        let micros: Int
        let args: [[UInt8]]
        /// The client's ip:port and name as Redis's entries carry them.
        let addr: String
        let name: [UInt8]
    }
    var items: [Item] = []
    var threshold = 10000
    var maxLen = 128

    /// `id` comes from ServerState.slowlogIDs: ids are unique server-wide.
    mutating func add(_ a: ArgVector, micros: Int, now: Int64, id: Int, addr: String, name: [UInt8]?) {
        if maxLen <= 0 { return }
        var argv: [[UInt8]] = []
        // Redis keeps at most 32 arguments and 128 bytes of each.
        let n = min(a.count, 32)
        let secret = a[0].equalsLower("migrate") ? MigrateCommand.secretArguments(a) : []
        for i in 0..<n {
            if secret.contains(i) {
                argv.append(Array("(redacted)".utf8))
            } else if i == 31 && a.count > 32 {
                argv.append(Array("... (\(a.count - 31) more arguments)".utf8))
            } else if a[i].count > 128 {
                argv.append(Array(a[i].buffer.prefix(128)) + Array("... (\(a[i].count - 128) more bytes)".utf8))
            } else {
                argv.append(a[i].bytes)
            }
        }
        items.insert(Item(id: id, time: now / 1000, micros: micros, args: argv, addr: addr, name: name ?? []),
                     at: 0)
        if items.count > maxLen { items.removeLast(items.count - maxLen) }
    }
}

extension Worker {
    /// Every shard's newest `n` entries, merged newest first by id.
    func mergeSlowlog(_ s: ReplyTicket, _ r: Reply) {
        let n = parseStrictInt(s.saved.base, s.saved.count) ?? 10
        var entries: [(id: Int, p: UnsafePointer<UInt8>, len: Int)] = []
        for m in s.parts {
            var rr = ReplyReader(m)
            let (count, after) = rr.lineInt(at: 0)
            rr.pos = after
            for _ in 0..<max(0, count) {
                let (a, b) = rr.next()
                // An entry is *6 then :id.
                let idAt = rr.lineInt(at: a).1
                entries.append((rr.lineInt(at: idAt).0, rr.p + a, b - a))
            }
        }
        entries.sort { $0.id > $1.id }
        let k = min(n, entries.count)
        r.array(k)
        for e in entries.prefix(k) { r.buf.append(e.p, e.len) }
    }
}
