import RESP
import Storage

/// Hashes family (Redis 7.0's t_hash.c). A small hash lives inline in its
/// entry (`CompactHash`, "listpack"); past hash-max-listpack-entries fields
/// or a field or value longer than hash-max-listpack-value it becomes a
/// `HashValue` ("hashtable") and never goes back, as in Redis.
///
/// Split across files: this one has the table and the reads; `+Write` the
/// commands that change a hash; `+Random` HRANDFIELD and HSCAN.
public enum HashCommands {
    public static let specs: [CommandSpec] = [
        spec("hset", -4, [.write, .denyoom, .fast], "Set the string value of a hash field", hset),
        spec("hsetnx", 4, [.write, .denyoom, .fast], "Set the value of a hash field, only if the field does not exist",
             hsetnx),
        spec("hmset", -4, [.write, .denyoom, .fast], "Set multiple hash fields to multiple values", hmset),
        spec("hget", 3, [.readonly, .fast], "Get the value of a hash field", hget),
        spec("hmget", -3, [.readonly, .fast], "Get the values of all the given hash fields", hmget),
        spec("hdel", -3, [.write, .fast], "Delete one or more hash fields", hdel),
        spec("hlen", 2, [.readonly, .fast], "Get the number of fields in a hash", hlen),
        spec("hstrlen", 3, [.readonly, .fast], "Get the length of the value of a hash field", hstrlen,
             since: "3.2.0"),
        spec("hexists", 3, [.readonly, .fast], "Determine if a hash field exists", hexists),
        spec("hkeys", 2, [.readonly], "Get all the fields in a hash", hkeys),
        spec("hvals", 2, [.readonly], "Get all the values in a hash", hvals),
        spec("hgetall", 2, [.readonly], "Get all the fields and values in a hash", hgetall),
        spec("hincrby", 4, [.write, .denyoom, .fast], "Increment the integer value of a hash field by the given number",
             hincrby),
        spec("hincrbyfloat", 4, [.write, .denyoom, .fast],
             "Increment the float value of a hash field by the given amount", hincrbyfloat, since: "2.6.0"),
        spec("hrandfield", -2, [.readonly], "Get one or multiple random fields from a hash", hrandfield,
             since: "6.2.0"),
        spec("hscan", -3, [.readonly], "Incrementally iterate hash fields and associated values", hscan,
             since: "2.8.0"),
    ]

    static func spec(_ name: String, _ arity: Int, _ flags: CommandFlags, _ summary: String, _ h: @escaping Handler,
                     since: String = "2.0.0") -> CommandSpec {
        CommandSpec(name, arity: arity, flags: flags, keys: (1, 1, 1), route: .key, group: "hash",
                    summary: summary, since: since, acl: ["@hash"], handler: h)
    }

    // MARK: reads

    static func hget(_ x: inout Exec) {
        switch x.find(1, .hash, read: true) {
        case .missing: x.reply.null()
        case .wrongType: return
        case .found(let e, _):
            let f = x[2]
            if let v = HashRef(e).get(f.ptr, f.count) { x.reply.bulk(v) } else { x.reply.null() }
        }
    }

    /// A missing key is an empty hash: one null per field.
    static func hmget(_ x: inout Exec) {
        var h: HashRef? = nil
        switch x.find(1, .hash, read: true) {
        case .missing: break
        case .wrongType: return
        case .found(let e, _): h = HashRef(e)
        }
        x.reply.array(x.argc - 2)
        for i in 2..<x.argc {
            let f = x[i]
            if let h, let v = h.get(f.ptr, f.count) { x.reply.bulk(v) } else { x.reply.null() }
        }
    }

    static func hlen(_ x: inout Exec) {
        switch x.find(1, .hash, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _): x.reply.int(HashRef(e).count)
        }
    }

    static func hstrlen(_ x: inout Exec) {
        switch x.find(1, .hash, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _):
            let f = x[2]
            x.reply.int(HashRef(e).get(f.ptr, f.count)?.count ?? 0)
        }
    }

    static func hexists(_ x: inout Exec) {
        switch x.find(1, .hash, read: true) {
        case .missing: x.reply.int(0)
        case .wrongType: return
        case .found(let e, _):
            let f = x[2]
            x.reply.int(HashRef(e).get(f.ptr, f.count) == nil ? 0 : 1)
        }
    }

    static func hkeys(_ x: inout Exec) { getAll(&x, fields: true, values: false) }
    static func hvals(_ x: inout Exec) { getAll(&x, fields: false, values: true) }
    static func hgetall(_ x: inout Exec) { getAll(&x, fields: true, values: true) }

    /// HGETALL replies a map (RESP3), HKEYS and HVALS a flat array; a
    /// compact hash in insertion order, as Redis walks its listpack.
    static func getAll(_ x: inout Exec, fields: Bool, values: Bool) {
        let e: Entry
        switch x.find(1, .hash, read: true) {
        case .missing:
            if fields && values { x.reply.map(0) } else { x.reply.array(0) }
            return
        case .wrongType: return
        case .found(let f, _): e = f
        }
        let h = HashRef(e)
        if fields && values { x.reply.map(h.count) } else { x.reply.array(h.count) }
        switch h {
        case .compact(let c):
            var it = c.pairs
            while let (f, v) = it.next() {
                if fields { x.reply.bulk(f) }
                if values { x.reply.bulk(v) }
            }
        case .table(let t):
            for i in 0..<t.slotCount where t.isLive(i) {
                if fields { x.reply.bulk(t.field(at: i)) }
                if values { x.reply.bulk(t.value(at: i)) }
            }
        }
    }
}

/// A hash value in either encoding, for the read paths.
enum HashRef {
    case compact(CompactHash)
    case table(HashValue)

    @inline(__always) init(_ e: Entry) {
        self = e.payload == .object ? .table(e.objectRef(HashValue.self)) : .compact(CompactHash(e))
    }

    @inline(__always) var count: Int {
        switch self {
        case .compact(let c): return c.count
        case .table(let t): return t.count
        }
    }

    @inline(__always) func get(_ f: UnsafePointer<UInt8>, _ n: Int) -> UnsafeBufferPointer<UInt8>? {
        switch self {
        case .compact(let c): return c.get(f, n)
        case .table(let t): return t.get(f, n)
        }
    }
}
