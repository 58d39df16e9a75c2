import CLiburing

/// A shard's inbox for transaction parts: unbounded, because the parts of
/// one transaction are pushed to all their shards while the pusher holds the
/// sequencer's turn (`TxSequencer`), and a full queue there could only be
/// waited out by a worker that may itself be waiting for the turn.
///
/// Pushes are serialized by that turn, so this is a singly linked list with
/// one producer at a time and one consumer: the producer links a node after
/// `producerTail`, the consumer follows `next` from a dummy head. A node is
/// freed only once it has a successor, so the producer's tail is never freed.
final class TxLane: @unchecked Sendable {
    final class Node {
        /// Bit pattern of the next node's retained pointer; 0 = none yet.
        let next: UnsafeMutablePointer<Int>
        var msg: ShardMessage?
        init() {
            next = .allocate(capacity: 1)
            next.initialize(to: 0)
        }
        deinit { next.deallocate() }
    }

    private var consumerHead: Unmanaged<Node>
    /// Touched only by the holder of the sequencer's turn.
    private var producerTail: Unmanaged<Node>

    init() {
        consumerHead = Unmanaged.passRetained(Node())
        producerTail = consumerHead
    }

    deinit {
        while pop() != nil {}
        consumerHead.release()
    }

    /// Only while holding the sequencer's turn.
    func push(_ m: ShardMessage) {
        let n = Node()
        n.msg = m
        let u = Unmanaged.passRetained(n)
        rk_atomic_store_release(producerTail.takeUnretainedValue().next, Int(bitPattern: u.toOpaque()))
        producerTail = u
    }

    /// Owner thread only.
    var hasItems: Bool { rk_atomic_load_acquire(consumerHead.takeUnretainedValue().next) != 0 }

    /// Owner thread only.
    func pop() -> ShardMessage? {
        let bits = rk_atomic_load_acquire(consumerHead.takeUnretainedValue().next)
        guard bits != 0, let raw = UnsafeRawPointer(bitPattern: bits) else { return nil }
        let u = Unmanaged<Node>.fromOpaque(raw)
        let n = u.takeUnretainedValue()
        let m = n.msg
        n.msg = nil
        consumerHead.release()
        consumerHead = u
        return m
    }
}
