/// One entry of a shard's transaction queue: a transaction's part, or a
/// single-shard command that found its keys locked and waits its turn.
final class TxItem {
    enum Kind {
        case tx
        /// A forwarded batch stopped at the command that conflicted.
        case parkedBatch(ShardMessage)
        /// A local connection stopped at the command that conflicted.
        case parkedClient(Client)
    }
    let txid: UInt64
    let kind: Kind
    let locks: LockSet
    /// Granted when it arrived, or promoted at the head of the queue.
    var active = false
    var finished = false
    /// Stages that arrived before the part was active.
    var work: [ShardMessage] = []

    init(txid: UInt64, kind: Kind, locks: LockSet) {
        self.txid = txid
        self.kind = kind
        self.locks = locks
    }
}

/// Arrival order is id order (see `TxSequencer`), so the queue is sorted by
/// construction. A blocked item runs when it reaches the head: everything
/// that arrived before it on this shard has finished.
final class TxQueue {
    private(set) var items: [TxItem] = []

    var isEmpty: Bool { items.isEmpty }
    var head: TxItem? { items.first }

    func append(_ i: TxItem) { items.append(i) }

    func find(_ txid: UInt64) -> TxItem? {
        for i in items where i.txid == txid { return i }
        return nil
    }

    func remove(_ item: TxItem) {
        if let i = items.firstIndex(where: { $0 === item }) { items.remove(at: i) }
    }
}
