import CLiburing
import Config
import Logging
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A counter any thread may bump (INFO's connection and command totals).
/// Alone on its cache line (and the next: the adjacent-line prefetcher pulls
/// pairs), so a counter one worker writes does not slow another's reads.
final class AtomicCounter: @unchecked Sendable {
    private let p: UnsafeMutablePointer<Int>
    init(_ v: Int = 0) {
        p = allocateCacheLines(1).assumingMemoryBound(to: Int.self)
        p.pointee = v
    }
    deinit { free(p) }
    @discardableResult func add(_ v: Int) -> Int { rk_atomic_add(p, v) }
    var value: Int { rk_atomic_load_seqcst(p) }
    func store(_ v: Int) { rk_atomic_store_seqcst(p, v) }
    func exchange(_ v: Int) -> Int { rk_atomic_exchange(p, v) }
    func compareExchange(_ old: Int, _ new: Int) -> Bool { rk_atomic_cas(p, old, new) != 0 }
}

/// What other workers may touch of a worker: its inbox and its wake-up.
final class WorkerHandle: @unchecked Sendable {
    let inbox: MPSCQueue
    /// 1 while the worker may be blocked in the kernel; a producer that flips
    /// it back to 0 owes the worker a wake-up.
    let sleeping = AtomicCounter(0)
    var wakeFD: Int32 = -1
    /// Transaction parts, in id order.
    let lane = TxLane()
    /// 1 while some producer sleeps with messages for this full inbox: the
    /// owner wakes the sleepers once it has popped (Server/InboxRoom.swift).
    let roomWanted = AtomicCounter(0)
    /// A script running here past busy-reply-threshold: 1 EVAL, 2 FCALL;
    /// whether it has written; a SCRIPT/FUNCTION KILL request for it.
    let scriptBusy = AtomicCounter(0)
    let scriptWrote = AtomicCounter(0)
    let scriptKill = AtomicCounter(0)
    /// FUNCTION STATS' running_script while a function is busy here.
    let busyFunction = Mutex<BusyFunction?>(nil)
    /// Read by another worker only while this shard is locked for its EXEC.
    var store: ShardStore?
    var watches: WatchTable?
    var blocked: BlockRegistry?
    /// This shard's part of a running background snapshot (set during the cut).
    var snapshot: ShardSnapshot?
    /// Channel, pattern and shard-channel subscriptions of this worker's
    /// clients: a publisher on another worker sends here only when it is not 0.
    let subscriptions = AtomicCounter(0)
    /// MONITOR clients of this worker.
    let monitors = AtomicCounter(0)
    /// Tracking clients of this worker (a flush's null invalidation goes
    /// only to workers that have some).
    let trackers = AtomicCounter(0)
    /// Under maxmemory: keys this shard could evict under the policy (0 or
    /// not), published by its worker, so a shard with none left refuses a
    /// write only when no shard has any (Server/Eviction.swift).
    let evictable = AtomicCounter(0)
    init(queueCapacity: Int) { inbox = MPSCQueue(capacity: queueCapacity) }

    /// A producer that pushed into `inbox`: whether it owes the wake-up. The
    /// fence orders the pushes before the read of `sleeping`, pairing with the
    /// worker's store of 1 before it looks at its inbox, so no wake-up is
    /// lost; reading before the exchange leaves a busy worker's line unwritten.
    @inline(__always) func claimWake() -> Bool {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return sleeping.value == 1 && sleeping.exchange(0) == 1
    }
}

/// `n` zeroed 128-byte blocks, 128-byte aligned: malloc's 16-byte alignment
/// lets padded fields still share a line with their neighbours.
func allocateCacheLines(_ n: Int) -> UnsafeMutableRawPointer {
    var p: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&p, 128, 128 * n) == 0, let q = p else { fatalError("posix_memalign") }
    memset(q, 0, 128 * n)
    return q
}

/// State shared by all workers. Everything mutable here is atomic or
/// guarded; nothing on the data path takes a lock.
final class ServerState: @unchecked Sendable {
    let config: ConfigStore
    let shardCount: Int
    let queueCapacity: Int
    var handles: [WorkerHandle] = []
    let sequencer = TxSequencer()
    let scripts = ScriptStore()
    /// Workers whose script is busy: every other command gets -BUSY.
    let busyScripts = AtomicCounter(0)
    /// Clients blocked by BLPOP and friends (INFO blocked_clients).
    let blockedClients = AtomicCounter(0)
    let functions = FunctionStore()
    let scriptRandom = ScriptRandom()
    let stopping = AtomicCounter(0)
    let shutdownExitCode = AtomicCounter(0)
    let nextClientID = AtomicCounter(1)
    let connectedClients = AtomicCounter(0)
    let totalConnections = AtomicCounter(0)
    let rejectedConnections = AtomicCounter(0)
    let startMillis: Int64
    let backendName: String
    let backendDetail: String
    let runID: String
    let logger: Logger
    let port: Int
    /// LASTSAVE: start time, then the last successful SAVE (seconds).
    let lastSave: AtomicCounter
    /// Every shard's `dirty` summed at the last SAVE or load (rdb_changes_since_last_save's zero).
    let dirtyAtSave = AtomicCounter(0)
    let rdbSaves = AtomicCounter(0)
    /// The append-only file's writer (Persistence/AofService.swift).
    let aof = AofService()
    /// Function libraries of the RDB loaded at start-up, for worker 0 to install.
    var pendingFunctions: [[UInt8]] = []
    let startupFailed = AtomicCounter(0)
    let capture: CaptureControl
    /// SLOWLOG ids come from one counter so entries of different shards
    /// never share an id and merge newest-first by id.
    let slowlogIDs = AtomicCounter(0)
    /// DEBUG SET-ACTIVE-EXPIRE: 0 stops every worker's active expiry cycle.
    let activeExpire = AtomicCounter(1)
    /// Server-wide subscriber counts for PUBSUB and INFO (not PUBLISH).
    let pubsub = PubSubDirectory()
    /// MONITOR clients on any worker: 0 costs a command one load.
    let monitors = AtomicCounter(0)
    /// CLIENT PAUSE: its end (wall ms, 0: none) and type (PauseType).
    let pauseEnd = AtomicCounter(0)
    let pauseType = AtomicCounter(0)
    /// `notify-keyspace-events` (and whether anyone tracks keys), read by
    /// every shard's event sites.
    let notify = NotifySwitch()
    /// Clients with CLIENT TRACKING on, on any worker.
    let trackingClients = AtomicCounter(0)
    /// Where each connection lives, for CLIENT TRACKING REDIRECT.
    let clientDirectory = ClientDirectory()
    /// CLIENT TRACKING BCAST prefixes of every worker's clients.
    let bcast = BcastRegistry()
    /// BGSAVE and save points (Server/Persistence/BackgroundSave.swift).
    let bgsave: BackgroundSaves

    init(config: ConfigStore, backendName: String, backendDetail: String, logger: Logger) {
        self.config = config
        shardCount = max(1, config.shards)
        bgsave = BackgroundSaves(shards: shardCount)
        queueCapacity = config.shardQueueCapacity
        startMillis = wallMillis()
        self.backendName = backendName
        self.backendDetail = backendDetail
        self.logger = logger
        port = config.port
        lastSave = AtomicCounter(Int(startMillis / 1000))
        capture = CaptureControl(logger: logger)
        var id = ""
        let hex: [Character] = Array("0123456789abcdef")
        for _ in 0..<40 { id.append(hex[Int.random(in: 0..<16)]) }
        runID = id
        notify.set(config.settings.notifyKeyspaceEvents)
    }

    var isStopping: Bool { stopping.value != 0 }
}

public let ringkvVersion = "0.1.0"
public let redisCompatVersion = "7.0.15"
