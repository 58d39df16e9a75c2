import RESP

/// One worker's records of the current loop iteration, cut into chunks
/// (Persistence/AofService.swift) that the writer may place independently:
/// a new chunk starts when the shard whose data the records change is a
/// different one, when a lent run starts or ends (its records are one
/// unit), and around each global command's part. Touched only by its worker.
final class AofShardLog {
    var chunks: [AofChunk] = []
    var cur: AofChunk?
    /// Set by the worker while it runs with shards lent (lentDepth > 0).
    var lent = false

    @inline(__always) var isEmpty: Bool { cur == nil && chunks.isEmpty }

    /// The buffer the next record (in `db`, changing the shards of `mask`) goes to.
    func open(mask: UInt64, db: Int) -> ByteBuf {
        if let c = cur, c.global || c.lent != lent || (!lent && c.mask != mask) { cut() }
        let c: AofChunk
        if let x = cur {
            c = x
        } else {
            c = AofChunk()
            c.lent = lent
            c.mask = mask
            c.startDb = db
            c.endDb = db
            cur = c
        }
        c.mask |= mask
        if c.endDb != db {
            appendSelect(c.bytes, db)
            c.endDb = db
        }
        c.records += 1
        return c.bytes
    }

    /// Ends the current chunk (a lent run starts or ends).
    func cut() {
        if let c = cur {
            chunks.append(c)
            cur = nil
        }
    }

    /// One shard's part of a global command; `db` -1 when it names none.
    func global(shard: Int, db: Int, _ build: (ByteBuf) -> Void) {
        cut()
        let c = AofChunk()
        c.global = true
        c.mask = 1 << UInt64(shard)
        c.startDb = db
        c.endDb = db
        c.records = 1
        build(c.bytes)
        chunks.append(c)
    }

    /// Everything recorded, in order; the log is empty afterwards.
    func take() -> [AofChunk] {
        cut()
        let cs = chunks
        chunks.removeAll(keepingCapacity: true)
        return cs
    }

    /// Drops what was recorded (the log was turned off meanwhile).
    func discard() {
        cur = nil
        chunks.removeAll(keepingCapacity: true)
    }
}
