import Commands
import RESP
import Storage

/// Reading replies back: just enough RESP to find element boundaries and
/// integers in the replies shards send to a coordinator.
struct ReplyReader {
    let p: UnsafePointer<UInt8>
    let n: Int
    var pos: Int

    init(_ m: ShardMessage) {
        p = UnsafePointer(m.replies.base)
        n = m.replies.count
        pos = 0
    }

    var type: UInt8 { pos < n ? p[pos] : 0 }
    var isError: Bool { type == 45 }

    /// The integer after the type byte up to CRLF.
    func lineInt(at i: Int) -> (Int, Int) {
        var j = i + 1
        var neg = false
        if j < n && p[j] == 45 { neg = true; j += 1 }
        var v = 0
        // Wrapping: -9223372036854775808 (INCRBY's floor) has no positive twin.
        while j < n && p[j] != 13 { v = v &* 10 &+ Int(p[j] &- 48); j += 1 }
        return (neg ? 0 &- v : v, j + 2)
    }

    /// End offset of the element starting at `i`.
    func end(of i: Int) -> Int {
        switch p[i] {
        case 36, 61, 33: // $ = ! : length-prefixed
            let (len, after) = lineInt(at: i)
            return len < 0 ? after : after + len + 2
        case 42, 126, 62: // * ~ > : aggregates
            let (cnt, after) = lineInt(at: i)
            var j = after
            if cnt > 0 { for _ in 0..<cnt { j = end(of: j) } }
            return j
        case 37: // % map
            let (cnt, after) = lineInt(at: i)
            var j = after
            if cnt > 0 { for _ in 0..<(cnt * 2) { j = end(of: j) } }
            return j
        default: // + - : _ , # ( simple lines
            var j = i
            while j < n && p[j] != 10 { j += 1 }
            return j + 1
        }
    }

    mutating func next() -> (Int, Int) {
        let s = pos
        pos = end(of: s)
        return (s, pos)
    }
}

extension Worker {
    /// All parts of a fan-out are back: build the one reply.
    func completeFanout(_ s: ReplyTicket, _ c: Client?) {
        let out = s.buf
        let r = Reply(out, proto: c?.proto ?? 2)
        // The first error any shard returned wins, as a single shard would have said it first.
        if s.merge != .pair && s.merge != .setIfNoneExist && s.merge != .exec && s.merge != .script
            && s.merge != .colocated && s.merge != .blocked && s.merge != .save {
            for m in s.parts {
                let rr = ReplyReader(m)
                if rr.isError {
                    let e = rr.end(of: 0)
                    out.append(m.replies.base, e)
                    s.ready = true
                    return
                }
            }
        }
        switch s.merge {
        case .sum:
            var total = 0
            for m in s.parts { total += ReplyReader(m).lineInt(at: 0).0 }
            r.int(total)
        case .ok:
            r.ok()
        case .perKey:
            r.array(s.keyShards.count)
            // The worker's scratch, taken and given back: an array per
            // command was an allocation per cross-shard MGET.
            var readers = mergeReaders
            mergeReaders = []
            if readers.count != shardCount { readers = [ReplyReader?](repeating: nil, count: shardCount) }
            for m in s.parts {
                var rr = ReplyReader(m)
                rr.pos = rr.lineInt(at: 0).1
                readers[m.target] = rr
            }
            for sh in s.keyShards {
                let (a, b) = readers[sh]!.next()
                out.append(readers[sh]!.p + a, b - a)
            }
            for m in s.parts { readers[m.target] = nil }
            mergeReaders = readers
        case .concatArrays:
            var total = 0
            for m in s.parts { total += ReplyReader(m).lineInt(at: 0).0 }
            r.array(total)
            for m in s.parts {
                let after = ReplyReader(m).lineInt(at: 0).1
                out.append(m.replies.base + after, m.replies.count - after)
            }
        case .randomKey:
            var found: [ShardMessage] = []
            for m in s.parts where m.replies.count > 0 && m.replies.base[0] == 36 && m.replies.base[1] != 45 {
                found.append(m)
            }
            if let m = found.randomElement() { out.append(m.replies) } else { r.null() }
        case .setIfNoneExist:
            if s.stage == 0 {
                for m in s.parts where ReplyReader(m).isError {
                    out.append(m.replies)
                    s.ready = true
                    return
                }
                var total = 0
                for m in s.parts { total += ReplyReader(m).lineInt(at: 0).0 }
                if total > 0 && s.txid != 0 {
                    // Called off: the shards' locks are released, then it answers.
                    s.stage = 2
                    let next = s.nextParts
                    s.nextParts.removeAll()
                    for m in next {
                        m.requests.clear()
                        m.op = .txRelease
                    }
                    s.parts.append(contentsOf: next)
                    launch(s, next)
                    return
                } else if total > 0 {
                    r.int(0)
                    for m in s.nextParts { recycle(m) }
                    s.nextParts.removeAll()
                } else {
                    s.stage = 1
                    let next = s.nextParts
                    s.nextParts.removeAll()
                    s.parts.append(contentsOf: next)
                    launch(s, next)
                    return
                }
            } else {
                r.int(s.stage == 2 ? 0 : 1)
            }
        case .pair:
            if completePair(s, c) { return }
        case .info, .clientList, .firstReply, .slowlog:
            mergeServerFanout(s, c, r)
        case .memoryStats:
            mergeMemoryStats(s, r)
        case .digest:
            mergeDigest(s, r)
        case .save:
            if completeSave(s, c) { return }
        case .exec:
            if completeExec(s, c) { return }
        case .script:
            if completeScript(s, c) { return }
        case .colocated:
            if completeColocated(s, c) { return }
        case .blocked:
            if completeBlocked(s, c) { return }
        }
        s.ready = true
    }

    /// Stages of a cross-shard pair command; returns true while more is pending.
    func completePair(_ s: ReplyTicket, _ c: Client?) -> Bool {
        var last = s.parts[s.parts.count - 1]
        switch s.stage {
        case 0:
            // As a transaction, stage 0 also held the destination (`.txHold`).
            if let e = s.parts.first(where: { if case .export = $0.op { return true } else { return false } }) { last = e }
            let rr = ReplyReader(last)
            if rr.isError {
                s.buf.append(last.replies)
                return releasePair(s, c, shards: [s.pairSource, s.pairTarget])
            }
            // Stage 1: run the command where the destination lives, with the entry.
            s.stage = 1
            let m = addPart(s, c, shard: s.pairTarget)
            let exists = rr.type == 36 && rr.p[1] != 45
            var blobStart = 0, blobLen = 0
            if exists {
                let (len, after) = rr.lineInt(at: 0)
                blobStart = after
                blobLen = len
            }
            // args: <blob> <original args...>
            let saved = UnsafePointer(s.saved.base)
            let (argc, body) = ReplyReader(p: saved, n: s.saved.count, pos: 0).lineInt(at: 0)
            m.op = .withImport(exists: exists)
            arrayHeader(m.requests, argc + 1)
            appendBulkArg(m.requests, UnsafePointer(last.replies.base + blobStart), blobLen)
            m.requests.append(saved + body, s.saved.count - body)
            m.commandCount = 1
            m.txFinal = true
            launch(s, [m])
            return true
        case 1:
            let rr = ReplyReader(last)
            let consumed: Bool
            switch s.pairSpec?.route {
            case .keyPair(.movedOnOK): consumed = rr.type == 43
            case .keyPair(.movedOnOne): consumed = rr.type == 58 && rr.lineInt(at: 0).0 == 1
            default: consumed = false
            }
            s.buf.append(last.replies)
            if consumed {
                s.stage = 2
                let m = addPart(s, c, shard: s.pairSource)
                let saved = UnsafePointer(s.saved.base)
                var sr = ReplyReader(p: saved, n: s.saved.count, pos: 0)
                sr.pos = sr.lineInt(at: 0).1
                _ = sr.next()
                let (a, b) = sr.next()
                m.op = .deleteExported
                arrayHeader(m.requests, 1)
                m.requests.append(saved + a, b - a)
                m.commandCount = 1
                m.txFinal = true
                launch(s, [m])
                return true
            }
            return releasePair(s, c, shards: [s.pairSource])
        default:
            return false
        }
    }

    /// A pair transaction that ends early releases the shards it still holds.
    func releasePair(_ s: ReplyTicket, _ c: Client?, shards: [Int]) -> Bool {
        if s.txid == 0 { return false }
        s.stage = 3
        releaseShards(s, c, shards)
        return true
    }
}

extension ReplyReader {
    init(p: UnsafePointer<UInt8>, n: Int, pos: Int) {
        self.p = p
        self.n = n
        self.pos = pos
    }
}
