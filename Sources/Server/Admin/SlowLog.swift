import RESP
import Storage

/// SLOWLOG entries of one worker; SLOWLOG GET merges all workers' newest.
struct SlowLog {
    struct Item {
        let id: Int
        let time: Int64
        let micros: Int
        let args: [[UInt8]]
    }
    var items: [Item] = []
    var nextID = 0
    var threshold = 10000
    var maxLen = 128

    mutating func add(_ a: ArgVector, micros: Int, now: Int64) {
        if maxLen <= 0 { return }
        var argv: [[UInt8]] = []
        // Redis keeps at most 32 arguments and 128 bytes of each.
        let n = min(a.count, 32)
        for i in 0..<n {
            if i == 31 && a.count > 32 {
                argv.append(Array("... (\(a.count - 31) more arguments)".utf8))
            } else if a[i].count > 128 {
                argv.append(Array(a[i].buffer.prefix(128)) + Array("... (\(a[i].count - 128) more bytes)".utf8))
            } else {
                argv.append(a[i].bytes)
            }
        }
        items.insert(Item(id: nextID, time: now / 1000, micros: micros, args: argv), at: 0)
        nextID += 1
        if items.count > maxLen { items.removeLast(items.count - maxLen) }
    }
}
