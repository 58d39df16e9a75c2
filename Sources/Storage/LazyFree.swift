import CMalloc
#if canImport(Glibc)
import Glibc
#endif

/// Frees big collections off the shard's thread, as Redis's lazyfree does
/// for UNLINK and FLUSHALL ASYNC: releasing a million-element list frees a
/// million allocations, and the shard must not stall for that. A value whose
/// `freeEffort` passes Redis's LAZYFREE_THRESHOLD (64) is handed here when
/// its entry is freed; small ones are released at once, as handing them
/// over would cost more than freeing them.
///
/// The handoff takes a mutex: only deletions of big values reach it, never
/// the ordinary data path. What a release frees is credited back to the
/// allocation counter of the thread that handed it over (CMalloc), so a
/// shard's own memory figure (maxmemory's share per shard) drops with it.
public final class LazyFree: @unchecked Sendable {
    public static let shared = LazyFree()
    public static let threshold = 64

    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var queue: [(bits: UInt, slot: Int32)] = []
    private var started = false
    private var pendingCount = 0
    private var freedCount = 0

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    /// Objects handed over and not yet freed (INFO lazyfree_pending_objects).
    public var pending: Int { locked { pendingCount } }
    /// Objects freed here since start (INFO lazyfreed_objects).
    public var freed: Int { locked { freedCount } }

    /// Takes over one retain of the object whose pointer bits are `bits`.
    public func release(_ bits: UInt) {
        locked {
            if !started {
                started = true
                startWorker()
            }
            queue.append((bits, rk_mem_thread_slot()))
            pendingCount += 1
            pthread_cond_signal(&cond)
        }
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    private func startWorker() {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var t = pthread_t()
        let me = Unmanaged.passUnretained(self).toOpaque()
        pthread_create(&t, &attr, { p in
            let lf = Unmanaged<LazyFree>.fromOpaque(p!).takeUnretainedValue()
            lf.loop()
            return nil
        }, me)
        pthread_attr_destroy(&attr)
    }

    private func loop() {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.isEmpty { pthread_cond_wait(&cond, &mutex) }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(&mutex)
            let me = rk_mem_thread_slot()
            for (bits, slot) in batch {
                let before = rk_mem_slot_bytes(me)
                Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release()
                rk_mem_credit(slot, rk_mem_slot_bytes(me) - before)
                locked {
                    pendingCount -= 1
                    freedCount += 1
                }
            }
        }
    }
}
