#if canImport(Glibc)
import Glibc
#endif

/// The global order of multi-shard transactions: a ticket per transaction,
/// and a turn that passes in ticket order. The holder of the turn pushes its
/// parts to every shard's `TxLane`, so each shard receives transactions in
/// id order, which is what lets VLL run them without deadlock. The turn is
/// held only for those pushes (a few stores per shard), never while a
/// transaction runs, and single-shard commands never take it.
final class TxSequencer: @unchecked Sendable {
    private let next = AtomicCounter(1)
    private let serving = AtomicCounter(1)

    /// Takes the next id and waits for its turn.
    func begin() -> UInt64 {
        let t = next.add(1)
        var spins = 0
        while serving.value != t {
            spins += 1
            // More workers than cores: let the holder run.
            if spins > 64 { sched_yield() }
        }
        return UInt64(t)
    }

    /// Passes the turn to the next id.
    func end(_ t: UInt64) { serving.store(Int(t) + 1) }
}
