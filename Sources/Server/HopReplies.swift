/// Replies of a connection whose pipeline went partly to other shards.
extension Worker {
    /// Whether `c`'s output should wait for the forwarded batch at the head
    /// of its reply order: that batch comes back within an iteration or two,
    /// and its replies then leave in the same send instead of a second one.
    /// With 2 shards a pipeline that starts with a local key cost two sends
    /// (and the client two wake-ups); GET -P 16 went from 0.92 to 0.76 µs of
    /// server CPU per op (perf/results/hops-20261201.md).
    /// Only a plain batch qualifies: a blocked pop, a transaction or a
    /// multi-stage command can wait for long, and what precedes it must not
    /// wait with it.
    @inline(__always) func awaitsHop(_ c: Client) -> Bool {
        guard c.ticketHead < c.tickets.count, !c.closing else { return false }
        let s = c.tickets[c.ticketHead]
        guard s.kind == .remote, let m = s.msg, !m.done else { return false }
        return m.carriesCommands && m.txid == 0
    }
}
