import CMalloc
import Commands
import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// The maxmemory settings a worker applies per command (copied from the
/// config by `refreshConfig`).
struct MemoryLimit {
    var max = 0
    var policy = EvictionPolicy.noeviction
    var samples = 5
    var tenacity = 10
}

let oomError: StaticString = "OOM command not allowed when used memory > 'maxmemory'."

/// maxmemory, as Redis's performEvictions, shared out between shards.
///
/// Memory is what malloc handed out and not taken back (CMalloc's
/// per-thread counters, summed). Each worker knows its own thread's counter
/// exactly and reads the others' once per loop iteration, so a write
/// command's check costs two loads. A shard evicts only from its own
/// keyspace, before it runs a denyoom command (or in cron while over): it
/// frees what its thread holds above maxmemory / shards, and at least its
/// 1/shards part of the total excess, so the shards that write are the
/// shards that make room and the total is honoured even when one thread's
/// counter is skewed by blocks other threads free (lazy free, EXEC's lent
/// shards). A shard that has nothing left to evict while the total is over
/// answers -OOM only when no other shard has anything left either (each
/// publishes a flag, `WorkerHandle.evictable`, after every loop iteration),
/// as Redis does when it cannot free enough; otherwise the other shards make
/// the room, from their next command or cron. What the lazy-free
/// thread frees for a shard is credited back to its figure (CMalloc's
/// credits); blocks allocated by one worker for another shard's keys (EXEC
/// and scripts on lent shards) still count for the worker that ran them.
extension Worker {
    /// Process-wide allocated bytes: this thread exact, the others as of
    /// this loop iteration.
    @inline(__always) var usedMemoryNow: Int { Int(rk_mem_slot_bytes(memSlot)) + othersMemory }

    /// What this shard's thread holds: its counter, less what the lazy-free
    /// thread released for it.
    var ownMemory: Int { Int(rk_mem_slot_owned(memSlot)) }

    /// Called on the worker's thread before it serves anything.
    func claimMemorySlot() { memSlot = rk_mem_thread_slot() }

    func refreshOthersMemory() {
        othersMemory = Int(rk_mem_total_bytes()) - Int(rk_mem_slot_bytes(memSlot))
    }

    /// Redis's evictionTimeLimitUs, in nanoseconds.
    var evictionTimeLimitNanos: Int {
        let t = memLimit.tenacity
        if t <= 10 { return 50_000 * t }
        if t < 100 { return Int(500_000 * pow(1.15, Double(t - 10))) }
        return Int.max
    }

    /// False when memory is over maxmemory and this shard cannot evict
    /// enough (Redis's EVICT_FAIL): the caller refuses a denyoom command.
    @discardableResult
    func performEvictions() -> Bool {
        let limit = memLimit.max
        var used = usedMemoryNow
        if limit == 0 || used <= limit {
            evictionPending = false
            return true
        }
        if memLimit.policy == .noeviction {
            evictionPending = false
            return false
        }
        // Lent whole to a coordinator: its data is not ours to touch now.
        if locks.wholeExclusive != 0 && lentDepth == 0 { return true }
        let own = ownMemory
        let over = used - limit
        let share = (over + shardCount - 1) / shardCount
        let toFree = min(over, max(own - limit / shardCount, share))
        let start = monotonicNanos()
        let timeLimit = evictionTimeLimitNanos
        var freed = 0
        var keys = 0
        // `evicted` events (and tracking invalidations) go out now, before
        // the command that made room runs, as Redis's do; from cron no
        // command follows to publish them.
        defer { flushKeyEvents(store) }
        while freed < toFree {
            let before = Int(rk_mem_slot_bytes(memSlot))
            var deferred = 0
            let ok = evictor.evictOne(store, policy: memLimit.policy, samples: memLimit.samples, now: now) { db, e in
                // A big value is freed by the LazyFree thread: count what it will free.
                if e.payload == .object && e.object.freeEffort > LazyFree.threshold {
                    deferred = e.memoryUsage(samples: 5)
                }
                if !watches.isEmpty {
                    let k = e.key
                    watches.touch(DBKey(db: db, bytes: Array(k)))
                }
                store.dbs[db].noteEvicted(e)
            }
            if !ok {
                // Nothing left here. Redis's EVICT_FAIL only when no shard
                // has anything left either: otherwise the excess is theirs
                // to evict (from their next command or cron), whatever this
                // thread's counter says (blocks it allocated may be held or
                // freed by other threads), or values are still being freed
                // in the background (Redis waits for those briefly).
                evictionPending = false
                publishEvictable()
                refreshOthersMemory()
                used = usedMemoryNow
                return used <= limit || othersCanEvict() || LazyFree.shared.pending > 0
            }
            freed += max(0, before - Int(rk_mem_slot_bytes(memSlot))) + deferred
            keys += 1
            if keys % 16 == 0 && monotonicNanos() - start > timeLimit {
                // Redis's EVICT_RUNNING: the command goes on, cron carries on evicting.
                evictionPending = true
                return true
            }
        }
        evictionPending = false
        publishEvictable()
        return true
    }

    /// Publishes whether this shard has a key the policy may evict, when
    /// that changed (once per loop iteration and after evicting).
    @inline(__always)
    func publishEvictable() {
        // Lent whole to a coordinator: its keyspaces are not ours to read now.
        if locks.wholeExclusive != 0 && lentDepth == 0 { return }
        let policy = memLimit.policy
        var has = 0
        if policy != .noeviction {
            for ks in store.dbs where (policy.allKeys ? ks.count : ks.expiringCount) > 0 {
                has = 1
                break
            }
        }
        if has != evictablePublished {
            evictablePublished = has
            handle.evictable.store(has)
        }
    }

    /// Whether another shard still has something to evict.
    func othersCanEvict() -> Bool {
        for t in 0..<shardCount where t != id && state.handles[t].evictable.value != 0 { return true }
        return false
    }

    /// The denyoom check of a command about to run on this shard: evicts,
    /// then writes Redis's -OOM when that was not enough. False = refused.
    @inline(__always)
    func admitDenyOOM(_ spec: CommandSpec, out: ByteBuf, proto: Int, client: Client?) -> Bool {
        if client != nil && client === scriptClient {
            // Scripts: decided once when the script started (Redis's script_oom).
            if !scriptOOM { return true }
        } else if lentDepth > 0 {
            // Inside EXEC: admitted as a whole when EXEC was.
            return true
        } else if performEvictions() {
            return true
        }
        cmdRejected[spec.id] += 1
        countError("OOM")
        Reply(out, proto: proto).error(oomError)
        return false
    }

    /// MULTI queueing and EXEC, EVAL and FCALL: Redis runs performEvictions
    /// before every command and these refuse (or remember) its failure.
    func outOfMemory() -> Bool {
        memLimit.max != 0 && !performEvictions()
    }

    /// Redis's evictionTimeProc: an eviction cut short by its time limit
    /// goes on from the next loop iteration, which then does not sleep.
    /// Left to cron alone it got 0.5 ms per 100 ms, and a lowered maxmemory
    /// was still 1.5 MB over after 5 s on a loaded machine (CI).
    @inline(__always) var evictionContinues: Bool {
        evictionPending && locks.wholeExclusive == 0
    }

    func continueEviction() {
        refreshOthersMemory()
        performEvictions()
    }

    /// cron: keep evicting while over the limit, so a lowered maxmemory is
    /// reached without writes.
    func evictionCron() {
        if memLimit.max == 0 { return }
        publishEvictable()
        refreshOthersMemory()
        if memLimit.policy != .noeviction && (evictionPending || usedMemoryNow > memLimit.max) {
            performEvictions()
        }
    }
}

extension Worker {
    /// Redis's processCommand maxmemory step for a client command, before
    /// routing: inside MULTI every command but EXEC, DISCARD, QUIT and RESET
    /// is refused while out of memory (and the transaction aborted); EXEC is
    /// refused when its block holds a denyoom command; EVAL and FCALL
    /// remember the answer for their redis.call (and a script declared
    /// writing without allow-oom is refused); server-routed denyoom commands
    /// (FUNCTION LOAD/RESTORE) are refused. Keyed denyoom commands are
    /// checked by the shard that runs them (`admitDenyOOM`).
    func admitUnderMaxmemory(_ spec: CommandSpec, _ c: Client) -> Bool {
        var denied = false
        var isExec = false
        if case .server(let op) = spec.route {
            switch op {
            case .exec:
                isExec = true
                denied = c.multi?.denyoom ?? false
            case .discard, .quit, .reset:
                return true
            case .eval, .evalsha, .evalRO, .evalshaRO, .fcall, .fcallRO:
                if c.multi == nil {
                    scriptOOM = outOfMemory()
                    return true
                }
                denied = true
            default:
                denied = c.multi != nil || spec.flags.contains(.denyoom)
            }
        } else if c.multi != nil {
            denied = true
        } else if spec.flags.contains(.denyoom) {
            // Under noeviction the answer is the same on every shard: refuse
            // here, before any hop. Commands that run with several shards
            // lent to them (SUNIONSTORE across shards, ...) are refused here
            // too: their shards are admitted as a whole, as EXEC's are.
            switch spec.route {
            case .key, .keys: denied = memLimit.policy == .noeviction
            default: denied = true
            }
        }
        if !denied || !outOfMemory() { return true }
        cmdRejected[spec.id] += 1
        let r = Reply(replyBuffer(c), proto: c.proto)
        if isExec {
            // Redis's execCommandAbort: the block is discarded.
            endTransactionState(c)
            countError("EXECABORT")
            r.error("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")
        } else {
            c.multi?.aborted = true
            countError("OOM")
            r.error(oomError)
        }
        return false
    }
}

extension Worker {
    /// Sets `scriptOOM` for a script about to run: out of memory and not
    /// declared allow-oom. Inside EXEC nothing is evicted (Redis checks the
    /// EXEC, not what it runs); elsewhere this shard evicts first.
    func noteScriptOOM(sha: String, function: String?) {
        let allowOOM = function.map { lua.libraryFunctions[$0]?.flags.contains("allow-oom") ?? false }
            ?? (lua.flags[sha]?.allowOOM ?? false)
        if allowOOM {
            scriptOOM = false
        } else if lentDepth > 0 {
            scriptOOM = memLimit.max != 0 && memLimit.policy == .noeviction && usedMemoryNow > memLimit.max
        } else {
            scriptOOM = outOfMemory()
        }
    }

    /// EVAL or FCALL of a script declared writing while out of memory
    /// (counted as a failed call of EVAL, where Redis counts a rejected one).
    func refuseScriptOOM(_ r: Reply) {
        r.error(oomError)
    }
}
