import RESP
import Storage

/// One connection, owned by the worker that accepted it.
final class Client {
    let id: Int
    let fd: Int32
    /// Index in the worker's connection table; with `generation` it forms the
    /// io_uring user_data so a stale completion cannot hit a reused slot.
    let index: Int
    let generation: UInt32
    let addr: String
    let laddr: String
    let createdAt: Int64

    var db = 0
    var proto = 2
    var name: [UInt8]? = nil
    var authenticated = false
    var lastInteraction: Int64
    /// CommandSpec.id of the last command (-1: none yet); an Int, not a name,
    /// so recording it costs no retain per command.
    var lastCommandID = -1
    var replyMode = ReplyMode.on
    var noEvict = false
    /// CLIENT TRACKING (nil: off).
    var tracking: ClientTracking? = nil

    /// Bytes of a partial command carried over to the next recv.
    let inbuf = ByteBuf(capacity: 64)
    /// How far the partial command at the front of `inbuf` has been checked.
    var parse = ParseProgress()
    /// Replies produced this iteration; sent as one send at the end of it.
    var out = ByteBuf(capacity: 256)
    /// The buffer an in-flight send reads; never touched until it completes.
    var sending = ByteBuf(capacity: 256)
    var sendOffset = 0
    var sendInFlight = false

    /// Outstanding reply tickets, in request order.
    var tickets: [ReplyTicket] = []
    /// A multi-stage command (cross-shard MSETNX, RENAME, COPY, LCS) whose
    /// later stages are still running: nothing after it may start before it
    /// ends, or a later command could overtake one of its stages.
    var barrier: ReplyTicket?
    /// Commands sent to other shards whose replies have not been released yet.
    var remoteOutstanding = 0
    /// Of those, the ones that travel by the inboxes rather than the
    /// transaction lanes: a transaction waits for these only.
    var plainInFlight = 0
    var ticketHead = 0
    /// The command at the front of the input could not start yet: its keys
    /// are locked (`parkItem`) or a transaction waits for earlier replies
    /// (`stallForDrain`). It stays in `inbuf` and runs when that is over.
    var stalled = false
    /// The peer half-closed while commands still waited in `inbuf`.
    var peerClosed = false
    var stallForDrain = false
    /// The queue entry that held this connection's place; the command it
    /// stopped at runs past the locks, then the entry is released.
    var parkItem: TxItem?
    /// Between MULTI and EXEC/DISCARD.
    var multi: MultiState?
    var spareMulti: MultiState?
    var watch: ClientWatch?
    /// BLPOP and friends: set while the client waits.
    var blockWait: BlockedClient?
    /// Its Pub/Sub subscriptions (nil until its first SUBSCRIBE).
    var subs: ClientSubscriptions?
    /// MONITOR: every command of every worker is shown to it.
    var monitoring = false

    var recvArmed = false
    var recvPaused = false
    /// Paused for flow control (unsent replies, in-flight cap, full inboxes)
    /// with commands still unread in `inbuf`: an EOF then waits for them.
    /// Not set by epoll's pause at EOF, whose input is all parsed already.
    var inputHeld = false
    var closing = false
    var shutdownDone = false
    var closed = false
    var softLimitSince: Int64 = 0
    var dirty = false
    /// Its bytes are being parsed further up the stack (`process`): a busy
    /// script serving other clients must not read into or send from it.
    var onStack = false
    /// Bytes it sent while a busy script served other clients, and what
    /// waits for after the script (BusyServe.swift: `BusyPending`).
    var busyStash: ByteBuf?
    var busyPending: UInt8 = 0
    /// CLIENT LIST/INFO: argv bytes of the command running now (argv-mem);
    /// set only around the listing itself, which is what Redis shows.
    var argvMem = 0
    /// Index in its container's `subcommands` of the last server command's
    /// subcommand, valid while `lastCommandID == subcommandOf` (cmd=client|info).
    var lastSubcommand = -1
    var subcommandOf = -1

    init(id: Int, fd: Int32, index: Int, generation: UInt32, addr: String, laddr: String, now: Int64) {
        self.id = id
        self.fd = fd
        self.index = index
        self.generation = generation
        self.addr = addr
        self.laddr = laddr
        createdAt = now
        lastInteraction = now
    }

    /// Redis's islocalClient: a loopback peer, for the `local` settings of
    /// enable-debug-command and enable-protected-configs.
    var isLocal: Bool { addr.hasPrefix("127.") || addr.hasPrefix("[::1]") || addr.hasPrefix("::1") }

    var hasPendingTickets: Bool { ticketHead < tickets.count }
    var lastTicket: ReplyTicket? { ticketHead < tickets.count ? tickets[tickets.count - 1] : nil }

    /// Bytes queued for this client and not yet sent.
    var outputBytes: Int {
        var n = out.count + (sending.count - sendOffset)
        for i in ticketHead..<tickets.count { n += tickets[i].buf.count }
        return n
    }
}

enum ReplyMode { case on, off, skipNext, skipThis }
