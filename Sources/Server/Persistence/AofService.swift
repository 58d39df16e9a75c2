import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// A piece of the append-only log as a worker hands it over: records of one
/// shard (or of the shards one lent run held), with the database selected
/// at its start and end so the writer can place it after any other piece.
final class AofChunk {
    let bytes = ByteBuf(capacity: 256)
    /// The shards whose data these records change (bit per shard).
    var mask: UInt64 = 0
    /// The db the first record runs in, and the last one (-1: none).
    var startDb = -1
    var endDb = -1
    var records = 0
    /// Records of one lent run (EXEC, a script, a colocated command): more
    /// than one are wrapped in MULTI/EXEC, as Redis propagates them.
    var lent = false
    /// One shard's part of a global command (FLUSHALL, FLUSHDB, SWAPDB):
    /// written once, when every shard's part has arrived.
    var global = false
}

enum AofFsync: Int {
    case no = 0, always = 1, everysec = 2
    init(_ s: String?) { self = s == "always" ? .always : s == "no" ? .no : .everysec }
}

/// The append-only file's one writer thread. Workers hand it their chunks
/// once per loop iteration (`submit`); it places them (`feed`), writes them
/// with one write, and under `appendfsync always` one fdatasync covers
/// every chunk taken in that round (group commit); `durable` then says how
/// far the log is on disk, and `waitDurable` holds a worker until then.
///
/// Order. Each worker submits its chunks in the order it made them, and
/// before any message of that iteration leaves it (Worker.aofHandover runs
/// before flushOutgoing): so a shard's records reach the writer before the
/// reply, lock grant (.txHold) or release that lets anyone act on what they
/// did. A coordinator's lent run is logged after its held shards' earlier
/// records (each was submitted before the grant it waited for) and before
/// their later ones (they come after the release). Records of different
/// shards that are not so ordered touch different keys and commute. A
/// global command runs as one part per shard; the writer keeps back every
/// chunk that touches a shard whose part has arrived until all have, then
/// writes the command once: what ran before a shard's part is written
/// before it, what ran after, after.
final class AofService: @unchecked Sendable {
    /// 1 while commands are logged; read once per command.
    let capturing = AtomicCounter(0)
    let fsyncMode = AtomicCounter(AofFsync.everysec.rawValue)
    let timestamps = AtomicCounter(0)
    /// The last submission on disk (always) or written (otherwise).
    let durable = AtomicCounter(0)
    let currentSize = AtomicCounter(0)
    let baseSize = AtomicCounter(0)
    let lastWriteOK = AtomicCounter(1)
    let rewrites = AtomicCounter(0)
    let lastRewriteSecs = AtomicCounter(-1)
    let lastRewriteOK = AtomicCounter(1)
    let autoRewritePending = AtomicCounter(0)
    /// The manifest in force; touched with every shard held, or at start-up.
    var manifest: AofManifest?
    /// Start-up: workers set up, and the AOF loaded (1) or refused (2).
    let inited = AtomicCounter(0)
    let loaded = AtomicCounter(0)

    private let mu = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private enum Item {
        case chunks([AofChunk])
        /// Later chunks go to a fresh incr file (BGREWRITEAOF).
        case rotate(Int32)
        case stop
    }
    private var queue: [Item] = []
    private var submitted = 0
    private var running = false
    private var thread: pthread_t?

    // The writer thread's own state.
    private var fd: Int32 = -1
    private var shards = 1
    private var passed: UInt64 = 0
    private var pendingGlobal: AofChunk?
    private var deferred: [AofChunk] = []
    private var writerDb = -1
    private let out = ByteBuf(capacity: 1 << 16)
    private var lastFsync = 0
    private var unsynced = false
    private var lastTimestamp = 0

    init() {
        pthread_mutex_init(mu, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(work, &attr)
        pthread_cond_init(done, nil)
    }

    var isRunning: Bool {
        pthread_mutex_lock(mu)
        defer { pthread_mutex_unlock(mu) }
        return running
    }

    /// Starts the writer on `fd` (an incr file open for appending).
    func start(fd: Int32, shards: Int, size: Int) {
        pthread_mutex_lock(mu)
        self.fd = fd
        self.shards = shards
        running = true
        passed = 0
        pendingGlobal = nil
        deferred.removeAll()
        writerDb = -1
        lastFsync = monotonicNanos()
        pthread_mutex_unlock(mu)
        currentSize.store(size)
        thread = startThread(name: "ringkv-aof") { [self] in run() }
        capturing.store(1)
    }

    /// Stops logging, writes and syncs what was handed over, closes the file.
    func stop() {
        capturing.store(0)
        pthread_mutex_lock(mu)
        guard running, let t = thread else { pthread_mutex_unlock(mu); return }
        queue.append(.stop)
        submitted += 1
        pthread_cond_signal(work)
        pthread_mutex_unlock(mu)
        pthread_join(t, nil)
        thread = nil
    }

    /// Hands chunks over; returns the submission's sequence number.
    func submit(_ chunks: [AofChunk]) -> Int {
        pthread_mutex_lock(mu)
        queue.append(.chunks(chunks))
        submitted += 1
        let s = submitted
        pthread_cond_signal(work)
        pthread_mutex_unlock(mu)
        return s
    }

    /// Chunks submitted after this go to `fd`.
    func rotate(to newFD: Int32) {
        pthread_mutex_lock(mu)
        queue.append(.rotate(newFD))
        submitted += 1
        pthread_cond_signal(work)
        pthread_mutex_unlock(mu)
    }

    /// Blocks until submission `seq` is durable (appendfsync always).
    func waitDurable(_ seq: Int) {
        if durable.value >= seq { return }
        pthread_mutex_lock(mu)
        while durable.value < seq && running { pthread_cond_wait(done, mu) }
        pthread_mutex_unlock(mu)
    }

    private func run() {
        var items: [Item] = []
        while true {
            pthread_mutex_lock(mu)
            while queue.isEmpty {
                if unsynced && AofFsync(rawValue: fsyncMode.value) == .everysec {
                    var ts = timespec()
                    clock_gettime(CLOCK_MONOTONIC, &ts)
                    let due = lastFsync + 1_000_000_000
                    let nowNs = Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
                    if nowNs >= due { break }
                    var at = timespec(tv_sec: due / 1_000_000_000, tv_nsec: due % 1_000_000_000)
                    pthread_cond_timedwait(work, mu, &at)
                } else {
                    pthread_cond_wait(work, mu)
                }
            }
            swap(&items, &queue)
            let upTo = submitted
            pthread_mutex_unlock(mu)
            var stopping = false
            for it in items {
                switch it {
                case .chunks(let cs): for c in cs { feed(c) }
                case .rotate(let nfd):
                    writeOut()
                    if fd >= 0 {
                        _ = fdatasync(fd)
                        close(fd)
                    }
                    fd = nfd
                    unsynced = false
                case .stop: stopping = true
                }
            }
            items.removeAll(keepingCapacity: true)
            writeOut()
            let mode = AofFsync(rawValue: fsyncMode.value) ?? .everysec
            if unsynced && (mode == .always || stopping
                            || (mode == .everysec && monotonicNanos() - lastFsync >= 1_000_000_000)) {
                if fdatasync(fd) != 0 { lastWriteOK.store(0) }
                lastFsync = monotonicNanos()
                unsynced = false
            }
            pthread_mutex_lock(mu)
            if lastWriteOK.value != 0 { durable.store(upTo) }
            if stopping {
                running = false
                if fd >= 0 { close(fd) }
                fd = -1
            }
            pthread_cond_broadcast(done)
            pthread_mutex_unlock(mu)
            if stopping { return }
        }
    }

    /// Places a chunk: now, or after the global command it must follow.
    private func feed(_ c: AofChunk) {
        if c.mask & passed != 0 {
            deferred.append(c)
            return
        }
        if !c.global { return emit(c) }
        passed |= c.mask
        if pendingGlobal == nil { pendingGlobal = c }
        let all: UInt64 = shards >= 64 ? ~0 : (1 << UInt64(shards)) - 1
        guard passed & all == all, let g = pendingGlobal else { return }
        emit(g)
        passed = 0
        pendingGlobal = nil
        let later = deferred
        deferred.removeAll()
        for d in later { feed(d) }
    }

    private func emit(_ c: AofChunk) {
        if timestamps.value != 0 {
            let t = Int(wallMillis() / 1000)
            if t != lastTimestamp {
                lastTimestamp = t
                out.append(string: "#TS:")
                out.appendDecimal(t)
                out.append(string: "\r\n")
            }
        }
        if c.startDb >= 0 && c.startDb != writerDb { appendSelect(out, c.startDb) }
        let wrap = c.lent && c.records > 1
        if wrap { appendCommandWords(out, ["MULTI"]) }
        out.append(c.bytes.base, c.bytes.count)
        if wrap { appendCommandWords(out, ["EXEC"]) }
        if c.endDb >= 0 { writerDb = c.endDb }
        if out.count >= 1 << 20 { writeOut() }
    }

    private func writeOut() {
        if out.isEmpty || fd < 0 { return }
        var off = 0
        while off < out.count {
            let n = write(fd, out.base + off, out.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                // Redis keeps the data and retries; a worker under always keeps waiting.
                lastWriteOK.store(0)
                out.consumeFront(off)
                usleep(100_000)
                off = 0
                continue
            }
            off += n
        }
        lastWriteOK.store(1)
        currentSize.add(out.count)
        out.clear()
        unsynced = true
    }
}

func appendSelect(_ b: ByteBuf, _ db: Int) {
    arrayHeader(b, 2)
    appendBulkArg(b, "SELECT")
    appendBulkArg(b, String(db))
}

func appendCommandWords(_ b: ByteBuf, _ words: [StaticString]) {
    arrayHeader(b, words.count)
    for w in words { appendBulkArg(b, w) }
}
