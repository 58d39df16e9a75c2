import CMalloc
import Commands
import RESP
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// used_memory once the server had started, before any client: MEMORY
/// STATS startup.allocated (Redis's initial_memory_usage).
let startupMemory = Atomic<Int>(0)

/// MEMORY: USAGE on the key's shard; STATS and DOCTOR from every shard's
/// figures (`.memoryStats`) and the allocator's; MALLOC-STATS and PURGE ask
/// glibc's malloc directly (it is one allocator for the whole process).
extension Worker {
    func memoryCommand(_ c: Client, _ r: Reply) {
        let sub = args[1]
        let argc = args.count
        if sub.equalsLower("usage") {
            if argc < 3 { return r.error(string: wrongArityError("memory|usage")) }
            let (samples, err) = ServerCommandSpecs.memoryUsageSamples(args)
            if let err { return r.error(err) }
            let k = args[2]
            let sh = shardOf(k.ptr, k.count, shards: shardCount)
            if lentDepth > 0 {
                // EXEC or a script holds the key's shard (commandShards): run it here, now.
                withLentShard(sh) {
                    var x = Exec(args: args, reply: r, store: store, stats: stats, db: c.db, now: now,
                                 shard: execShard, shardCount: shardCount)
                    ServerCommandSpecs.memoryUsage(&x, key: 2, samples: samples)
                }
            } else {
                forwardStep(c, to: sh, .memoryUsage(samples: samples), key: k)
            }
            return
        }
        // Every other subcommand takes no argument: Redis checks each one's arity.
        let name: String
        if sub.equalsLower("help") { name = "help" }
        else if sub.equalsLower("stats") { name = "stats" }
        else if sub.equalsLower("doctor") { name = "doctor" }
        else if sub.equalsLower("malloc-stats") { name = "malloc-stats" }
        else if sub.equalsLower("purge") { name = "purge" }
        else {
            // %.128s: clipped, and cut at a NUL.
            var bytes = Array("ERR unknown subcommand '".utf8)
            bytes.append(contentsOf: sub.buffer.prefix(while: { $0 != 0 }).prefix(128))
            bytes.append(contentsOf: "'. Try MEMORY HELP.".utf8)
            return r.error(bytes: bytes)
        }
        if argc != 2 { return r.error(string: wrongArityError("memory|" + name)) }
        switch name {
        case "help":
            r.helpLines(ServerCommandSpecs.memoryHelp)
        case "stats", "doctor":
            _ = fanoutInternal(c, .memoryStats, .memoryStats, saved: Array(name.utf8))
        case "malloc-stats":
            r.verbatim(mallocStatsText())
        default:
            // malloc_trim's result says whether anything went back to the
            // system; having nothing to give back is no error.
            _ = rk_malloc_trim()
            r.ok()
        }
    }

    /// glibc's malloc_info report (XML), as Redis replies jemalloc's text.
    func mallocStatsText() -> String {
        var len = 0
        guard let p = rk_malloc_info(&len) else { return "Stats not supported for the current allocator" }
        defer { free(p) }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// This worker's part of MEMORY STATS, as integers: its connections'
    /// buffer bytes and count, then per database the keys, the table's slot
    /// bytes and the expiry list's bytes.
    func memoryStatsPart(_ r: Reply) {
        var bytes = 0, count = 0
        for case let cl? in clients where !cl.closed {
            count += 1
            bytes += rk_malloc_usable_size(Unmanaged.passUnretained(cl).toOpaque())
            bytes += cl.inbuf.capacity + cl.out.capacity + cl.sending.capacity
            for i in cl.ticketHead..<cl.tickets.count { bytes += cl.tickets[i].buf.capacity }
        }
        r.array(3 + store.dbs.count * 3)
        r.int(bytes)
        r.int(count)
        r.int(store.dbs.count)
        for ks in store.dbs {
            r.int(ks.count)
            r.int(ks.tableBytes)
            r.int(ks.expiringBytes)
        }
    }

    /// The figures of Redis's getMemoryOverheadData, from RingKV's own
    /// accounting: malloc's totals (mallinfo2), the RSS, every shard's part.
    struct MemoryOverhead {
        var total = 0, peak = 0, startup = 0, clients = 0, clientCount = 0, lua = 0, functions = 0
        var dbs: [(db: Int, keys: Int, main: Int, expires: Int)] = []
        var keys = 0, overhead = 0, dataset = 0
        var allocated = 0, active = 0, resident = 0, rss = 0
    }

    func memoryOverhead(_ parts: [ShardMessage]) -> MemoryOverhead {
        var o = MemoryOverhead()
        o.total = usedMemory()
        o.peak = max(o.total, usedMemoryPeak.load(ordering: .relaxed))
        o.startup = startupMemory.load(ordering: .relaxed)
        var perDB: [(keys: Int, main: Int, expires: Int)] = []
        for m in parts {
            let rr = ReplyReader(m)
            var pos = rr.lineInt(at: 0).1
            func next() -> Int {
                let (v, after) = rr.lineInt(at: pos)
                pos = after
                return v
            }
            o.clients += next()
            o.clientCount += next()
            let n = next()
            if perDB.isEmpty { perDB = Array(repeating: (0, 0, 0), count: n) }
            for i in 0..<min(n, perDB.count) {
                perDB[i].keys += next()
                perDB[i].main += next()
                perDB[i].expires += next()
            }
        }
        o.lua = state.scripts.bytes
        o.functions = state.functions.bytes
        o.overhead = o.startup + o.clients + o.lua + o.functions
        for (i, d) in perDB.enumerated() where d.keys > 0 {
            o.dbs.append((i, d.keys, d.main, d.expires))
            o.keys += d.keys
            o.overhead += d.main + d.expires
        }
        o.dataset = max(0, o.total - o.overhead)
        o.rss = residentBytes()
        // glibc keeps no resident figure of its own: the process RSS stands
        // for it, as Redis does for libc malloc.
        o.allocated = o.total
        o.active = max(o.total, Int(rk_malloc_held_bytes()))
        o.resident = o.rss
        return o
    }

    func mergeMemoryStats(_ s: ReplyTicket, _ r: Reply) {
        let o = memoryOverhead(s.parts)
        if s.saved.bytes.elementsEqual("doctor".utf8) {
            return r.verbatim(memoryDoctorReport(o))
        }
        // Ratios as Redis computes them: in float, replied as doubles.
        func ratio(_ a: Int, _ b: Int) -> Double { Double(Float(a) / Float(max(b, 1))) }
        let net = o.total > o.startup ? o.total - o.startup : 1
        r.map(27 + o.dbs.count)
        func field(_ k: StaticString, _ v: Int) { r.bulk(static: k); r.int(v) }
        func field(_ k: StaticString, double v: Double) { r.bulk(static: k); r.score(v) }
        field("peak.allocated", o.peak)
        field("total.allocated", o.total)
        field("startup.allocated", o.startup)
        // No replication, cluster or AOF: these hold nothing.
        field("replication.backlog", 0)
        field("clients.slaves", 0)
        field("clients.normal", o.clients)
        field("cluster.links", 0)
        field("aof.buffer", 0)
        field("lua.caches", o.lua)
        field("functions.caches", o.functions)
        for d in o.dbs {
            r.bulk(string: "db.\(d.db)")
            r.map(3)
            field("overhead.hashtable.main", d.main)
            field("overhead.hashtable.expires", d.expires)
            field("overhead.hashtable.slot-to-keys", 0)
        }
        field("overhead.total", o.overhead)
        field("keys.count", o.keys)
        field("keys.bytes-per-key", o.keys > 0 ? net / o.keys : 0)
        field("dataset.bytes", o.dataset)
        field("dataset.percentage", double: Double(Float(o.dataset) * 100 / Float(net)))
        field("peak.percentage", double: Double(Float(o.total) * 100 / Float(max(o.peak, 1))))
        field("allocator.allocated", o.allocated)
        field("allocator.active", o.active)
        field("allocator.resident", o.resident)
        field("allocator-fragmentation.ratio", double: ratio(o.active, o.allocated))
        field("allocator-fragmentation.bytes", o.active - o.allocated)
        field("allocator-rss.ratio", double: ratio(o.resident, o.active))
        field("allocator-rss.bytes", o.resident - o.active)
        field("rss-overhead.ratio", double: ratio(o.rss, o.resident))
        field("rss-overhead.bytes", o.rss - o.resident)
        field("fragmentation", double: ratio(o.rss, o.total))
        field("fragmentation.bytes", o.rss - o.total)
    }

    /// Redis's memory doctor checks, on RingKV's figures; the two verdicts
    /// clients recognise (empty, no issue) keep Redis's words. "Empty" is
    /// judged on the memory used since startup: the receive buffers every
    /// worker allocates up front (io_uring's ring of them: megabytes) are
    /// no data.
    func memoryDoctorReport(_ o: MemoryOverhead) -> String {
        if o.total - o.startup < 5 << 20 {
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
        }
        func over(_ a: Int, _ b: Int, _ r: Double) -> Bool { b > 0 && Double(a) / Double(b) > r && a - b > 10 << 20 }
        var issues: [String] = []
        if Double(o.peak) / Double(o.total) > 1.5 {
            issues.append(" * Peak memory: this instance once used more than 150% of the memory it uses now. malloc keeps freed memory for reuse, so the RSS can stay high after a peak; MEMORY PURGE asks glibc to return what it can (malloc_trim).")
        }
        if over(o.rss, o.total, 1.4) {
            issues.append(" * High total RSS: the resident set is more than 1.4 times the bytes allocated. This usually follows a large peak (see above) or a workload that fragments the heap. The allocator is glibc malloc.")
        }
        if over(o.active, o.allocated, 1.1) {
            issues.append(" * High allocator fragmentation: glibc holds more than 1.1 times the bytes in use in free chunks. MEMORY PURGE may return some of it.")
        }
        if o.clientCount > 0 && o.clients / o.clientCount > 200 * 1024 {
            issues.append(" * Big client buffers: the connections' buffers average more than 200K per client, from large replies, deep pipelines or clients that do not read. CLIENT LIST shows which.")
        }
        if state.scripts.count > 1000 {
            issues.append(" * Many scripts: more than 1000 scripts are cached. Parameterize scripts with KEYS and ARGV and use EVALSHA, or call SCRIPT FLUSH now and then.")
        }
        if issues.isEmpty {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        }
        return "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + issues.map { $0 + "\n\n" }.joined() + "I'm here to keep you safe, Sam. I want to help you.\n"
    }
}
