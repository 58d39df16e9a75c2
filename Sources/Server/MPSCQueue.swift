import CLiburing
#if canImport(Glibc)
import Glibc
#endif

/// Bounded, preallocated multi-producer single-consumer queue of shard
/// messages (Vyukov's bounded queue specialised to one consumer). Producers
/// claim a cell with one CAS; the consumer never writes the shared position.
final class MPSCQueue: @unchecked Sendable {
    private let capacity: Int
    private let mask: Int
    private let seqs: UnsafeMutablePointer<Int>
    private let items: UnsafeMutablePointer<Unmanaged<ShardMessage>?>
    /// On its own cache line: every producer hammers it, the consumer never does.
    private let enqueuePos: UnsafeMutablePointer<Int>
    /// Also on its own line: as a field it shared the object's line with the
    /// pointers and mask every producer reads, and the consumer writes it per pop.
    private let dequeue: UnsafeMutablePointer<Int>
    private var dequeuePos: Int {
        @inline(__always) get { dequeue.pointee }
        @inline(__always) set { dequeue.pointee = newValue }
    }

    init(capacity: Int) {
        var c = 2
        while c < capacity { c <<= 1 }
        self.capacity = c
        mask = c - 1
        seqs = .allocate(capacity: c)
        for i in 0..<c { seqs[i] = i }
        items = .allocate(capacity: c)
        items.initialize(repeating: nil, count: c)
        let lines = allocateCacheLines(2)
        enqueuePos = lines.assumingMemoryBound(to: Int.self)
        dequeue = (lines + 128).assumingMemoryBound(to: Int.self)
    }

    deinit {
        seqs.deallocate()
        items.deallocate()
        free(enqueuePos)
    }

    /// Any thread. False when the queue is full; the caller keeps the message and retries.
    func push(_ m: ShardMessage) -> Bool {
        var pos = rk_atomic_load_acquire(enqueuePos)
        while true {
            let cell = pos & mask
            let seq = rk_atomic_load_acquire(seqs + cell)
            let dif = seq - pos
            if dif == 0 {
                if rk_atomic_cas(enqueuePos, pos, pos + 1) != 0 {
                    items[cell] = Unmanaged.passRetained(m)
                    rk_atomic_store_release(seqs + cell, pos + 1)
                    return true
                }
                pos = rk_atomic_load_acquire(enqueuePos)
            } else if dif < 0 {
                return false
            } else {
                pos = rk_atomic_load_acquire(enqueuePos)
            }
        }
    }

    /// Owner thread only.
    func pop() -> ShardMessage? {
        let cell = dequeuePos & mask
        let seq = rk_atomic_load_acquire(seqs + cell)
        if seq != dequeuePos + 1 { return nil }
        let m = items[cell]!.takeRetainedValue()
        items[cell] = nil
        rk_atomic_store_release(seqs + cell, dequeuePos + capacity)
        dequeuePos += 1
        return m
    }

    /// Any thread: whether the next push would find a free cell (a producer
    /// holding overflow for this queue decides with it whether to sleep).
    var hasRoom: Bool {
        let pos = rk_atomic_load_seqcst(enqueuePos)
        return rk_atomic_load_seqcst(seqs + (pos & mask)) - pos >= 0
    }

    /// Owner thread: whether a producer has published anything not yet popped.
    var hasItems: Bool {
        rk_atomic_load_seqcst(seqs + (dequeuePos & mask)) == dequeuePos + 1
    }
}
