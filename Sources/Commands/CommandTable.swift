import RESP
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// All commands, looked up by name bytes without building a String.
public final class CommandTable: @unchecked Sendable {
    public let specs: [CommandSpec]
    /// Open-addressed index over lowercase names: slot holds spec index + 1.
    private let slots: UnsafeMutablePointer<Int32>
    private let mask: Int
    /// Each spec's lowercase name, zero-padded to 32 bytes (4 words), and its
    /// length: a lookup compares 4 words in memory no Swift array owns, so it
    /// retains nothing (the [[UInt8]] it replaced cost a retain and a
    /// release per command: 6% of a MULTI/EXEC profile).
    private let nameWords: UnsafeMutablePointer<UInt64>
    private let nameLengths: UnsafeMutablePointer<Int32>
    /// The specs without ownership, for `withSpec`: the table (and `specs`)
    /// live as long as the process.
    @usableFromInline let unretained: UnsafeMutablePointer<Unmanaged<CommandSpec>>

    public static let shared = CommandTable(families: [
        StringCommands.specs, KeyCommands.specs, ServerCommandSpecs.specs, HashCommands.specs,
        SetCommands.specs, ListCommands.specs, SortedSetCommands.specs, BlockingCommands.specs, SortCommand.specs,
        GeoCommands.specs, BitmapCommands.specs, HyperLogLogCommands.specs, PubSubCommands.specs,
        DumpRestoreCommands.specs, MigrateCommand.specs,
        StreamCommands.specs,
    ])

    init(families: [[CommandSpec]]) {
        var all: [CommandSpec] = []
        for f in families { all.append(contentsOf: f) }
        for i in all.indices { all[i].id = i }
        specs = all
        unretained = .allocate(capacity: all.count)
        unretained.initialize(from: all.map { Unmanaged.passUnretained($0) }, count: all.count)
        nameWords = .allocate(capacity: all.count * 4)
        nameWords.initialize(repeating: 0, count: all.count * 4)
        nameLengths = .allocate(capacity: all.count)
        var cap = 16
        while cap < all.count * 4 { cap <<= 1 }
        mask = cap - 1
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: 0, count: cap)
        for i in all.indices {
            let name = Array(all[i].name.lowercased().utf8)
            precondition(name.count <= 32, "command names fit the 32-byte lookup key")
            nameLengths[i] = Int32(name.count)
            UnsafeMutableRawPointer(nameWords + i * 4).copyMemory(from: name, byteCount: name.count)
            var h = name.withUnsafeBufferPointer { Int(truncatingIfNeeded: hashBytes($0.baseAddress!, $0.count)) } & mask
            while slots[h] != 0 { h = (h + 1) & mask }
            slots[h] = Int32(i + 1)
        }
    }

    /// Looks a command up by its (any-case) name.
    @inlinable public func lookup(_ a: Arg) -> CommandSpec? {
        let i = index(of: a)
        return i < 0 ? nil : specs[i]
    }

    /// Runs `body` with the spec at index `i` (`index(of:)`), borrowed:
    /// a spec returned by `lookup` is retained and released per command
    /// (16 of the ~97 reference count calls of a MULTI, three
    /// SETs and EXEC), one lent to a closure is not.
    @inlinable public func withSpec<R>(at i: Int, _ body: (CommandSpec) -> R) -> R {
        unretained[i]._withUnsafeGuaranteedRef { body($0) }
    }

    /// The index in `specs` of the command named by `a` (any case), or -1.
    @inlinable public func index(of a: Arg) -> Int {
        if a.count == 0 || a.count > 32 { return -1 }
        var lower: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &lower) { raw -> Int in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for i in 0..<a.count {
                let c = a[i]
                p[i] = (c >= 65 && c <= 90) ? c | 0x20 : c
            }
            return find(UnsafeRawPointer(p), a.count)
        }
    }

    /// `key` is 32 bytes: the name, lowercase, zero-padded. The spec's index, or -1.
    @usableFromInline func find(_ key: UnsafeRawPointer, _ n: Int) -> Int {
        let k = key.assumingMemoryBound(to: UInt64.self)
        var h = Int(truncatingIfNeeded: hashBytes(key.assumingMemoryBound(to: UInt8.self), n)) & mask
        while true {
            let s = Int(slots[h])
            if s == 0 { return -1 }
            let w = nameWords + (s - 1) * 4
            if Int(nameLengths[s - 1]) == n && w[0] == k[0] && w[1] == k[1] && w[2] == k[2] && w[3] == k[3] {
                return s - 1
            }
            h = (h + 1) & mask
        }
    }

    public func lookup(name: String) -> CommandSpec? {
        var copy = Array(name.utf8)
        if copy.isEmpty { return nil }
        return copy.withUnsafeMutableBufferPointer { lookup(Arg(UnsafePointer($0.baseAddress!), $0.count)) }
    }
}

/// The error for a name we do not know, byte for byte as Redis 7.0 builds it:
/// the name clipped to 128 bytes, then quoted arguments while under 128 bytes.
public func unknownCommandError(_ args: ArgVector) -> [UInt8] {
    var s = Array("ERR unknown command '".utf8)
    s.append(contentsOf: args[0].buffer.prefix(128))
    s.append(contentsOf: "', with args beginning with: ".utf8)
    var tail: [UInt8] = []
    var i = 1
    while i < args.count && tail.count < 128 {
        let room = 128 - tail.count
        tail.append(39)
        tail.append(contentsOf: args[i].buffer.prefix(room))
        tail.append(contentsOf: [39, 32])
        i += 1
    }
    s.append(contentsOf: tail)
    return s
}

public func wrongArityError(_ name: String) -> String {
    "ERR wrong number of arguments for '\(name)' command"
}

