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
///
/// A node is two words of raw memory, not an object: word 0 is the next
/// node's address (0: none yet), stored with release and loaded with
/// acquire; word 1 is the message, retained. An object with a separately
/// allocated atomic word cost two allocations and its reference counting
/// per part, two parts per cross-shard MGET.
final class TxLane: @unchecked Sendable {
    private typealias Node = UnsafeMutablePointer<Int>

    private var consumerHead: Node
    /// Touched only by the holder of the sequencer's turn.
    private var producerTail: Node

    private static func makeNode() -> Node {
        let n = Node.allocate(capacity: 2)
        n.initialize(repeating: 0, count: 2)
        return n
    }

    init() {
        consumerHead = Self.makeNode()
        producerTail = consumerHead
    }

    deinit {
        while pop() != nil {}
        consumerHead.deallocate()
    }

    /// Only while holding the sequencer's turn.
    func push(_ m: ShardMessage) {
        let n = Self.makeNode()
        n[1] = Int(bitPattern: Unmanaged.passRetained(m).toOpaque())
        rk_atomic_store_release(producerTail, Int(bitPattern: n))
        producerTail = n
    }

    /// Owner thread only.
    var hasItems: Bool { rk_atomic_load_acquire(consumerHead) != 0 }

    /// Owner thread only.
    func pop() -> ShardMessage? {
        let bits = rk_atomic_load_acquire(consumerHead)
        guard bits != 0, let n = Node(bitPattern: bits), let raw = UnsafeRawPointer(bitPattern: n[1]) else { return nil }
        let m = Unmanaged<ShardMessage>.fromOpaque(raw).takeRetainedValue()
        n[1] = 0
        consumerHead.deallocate()
        consumerHead = n
        return m
    }
}
