import Synchronization

/// A worker whose messages wait in its overflow lists because their
/// targets' inboxes are full sleeps until a target pops, instead of
/// polling with a zero timeout. Spinning there kept every worker runnable:
/// with 2-entry inboxes and more workers than free cores, a producer
/// burnt the time slice its target needed to drain, and 50 pipelining
/// clients got a few hundred requests per second (issue 13).
///
/// The handshake is the wake-up's own, mirrored: the producer sets the
/// target's `roomWanted`, then its own `sleeping`, then looks for room; the
/// target pops, fences, then reads `roomWanted`. Either the target sees the
/// request and wakes the sleeper, or the producer sees the free cell and
/// does not sleep. A third producer can take the freed cell between the
/// two, so the sleep is capped at 1 ms: a rare late wake-up, never a
/// 1/hz stall.
extension Worker {
    /// Before a poll that may sleep: every target this worker holds
    /// messages for is asked to wake it when it pops.
    func askForRoom() {
        for t in 0..<overflow.count where !overflow[t].isEmpty {
            let h = state.handles[t]
            if h.roomWanted.value == 0 { h.roomWanted.store(1) }
        }
    }

    /// After `sleeping` is set: whether a target already has room again.
    var overflowHasRoom: Bool {
        let barrier = publishBarriers.first ?? .max
        for t in 0..<overflow.count where !overflow[t].isEmpty && overflow[t][0].sendSeq <= barrier
            && state.handles[t].inbox.hasRoom {
            return true
        }
        return false
    }

    /// After popping: the producers that sleep on this inbox may push again.
    /// Any sleeping worker is woken (a spurious wake-up costs one loop
    /// iteration); the load before the exchange leaves the line unwritten
    /// while nobody asks.
    @inline(__always) func wakeRoomWaiters() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard handle.roomWanted.value != 0, handle.roomWanted.exchange(0) != 0 else { return }
        for t in 0..<state.handles.count where t != id { wakeIfSleeping(state.handles[t]) }
    }
}
