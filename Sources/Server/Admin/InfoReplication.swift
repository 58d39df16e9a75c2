/// INFO replication: RingKV is always a master with no replicas, and these
/// are Redis 7.0's lines for exactly that, so tools that read them (Sentinel
/// style checks, exporters) see a consistent master.
extension Worker {
    func replicationInfoLines() -> [String] {
        [
            "role:master",
            "connected_slaves:0",
            "master_failover_state:no-failover",
            "master_replid:\(masterReplID)",
            "master_replid2:0000000000000000000000000000000000000000",
            "master_repl_offset:0",
            "second_repl_offset:-1",
            "repl_backlog_active:0",
            "repl_backlog_size:1048576",
            "repl_backlog_first_byte_offset:0",
            "repl_backlog_histlen:0",
        ]
    }
}

/// Redis draws a replication id at start, apart from run_id; so does this.
/// A global `let` is initialised once, thread-safely, on first use.
let masterReplID: String = {
    let hex = Array("0123456789abcdef")
    var id = ""
    for _ in 0..<40 { id.append(hex[Int.random(in: 0..<16)]) }
    return id
}()
