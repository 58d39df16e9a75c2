import Synchronization

/// Redis's keyspace event classes (`notify-keyspace-events` flags), with
/// Redis's bit values.
public struct NotifyClass: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let keyspace = NotifyClass(rawValue: 1 << 0)   // K
    public static let keyevent = NotifyClass(rawValue: 1 << 1)   // E
    public static let generic = NotifyClass(rawValue: 1 << 2)    // g
    public static let string = NotifyClass(rawValue: 1 << 3)     // $
    public static let list = NotifyClass(rawValue: 1 << 4)       // l
    public static let set = NotifyClass(rawValue: 1 << 5)        // s
    public static let hash = NotifyClass(rawValue: 1 << 6)       // h
    public static let zset = NotifyClass(rawValue: 1 << 7)       // z
    public static let expired = NotifyClass(rawValue: 1 << 8)    // x
    public static let evicted = NotifyClass(rawValue: 1 << 9)    // e
    public static let stream = NotifyClass(rawValue: 1 << 10)    // t
    public static let keyMiss = NotifyClass(rawValue: 1 << 11)   // m
    public static let module = NotifyClass(rawValue: 1 << 13)    // d
    public static let new = NotifyClass(rawValue: 1 << 14)       // n
    /// Not a Redis flag: some client has CLIENT TRACKING on, so every event
    /// is logged (each names a key the command changed, as Redis's
    /// signalModifiedKey does) for invalidation, whatever class is selected.
    public static let tracking = NotifyClass(rawValue: 1 << 30)
    /// Not a Redis flag: added to an event that is no change Redis's
    /// signalModifiedKey reports (a consumer group's bookkeeping, XSETID),
    /// so clients tracking the key are not told.
    public static let unsignalled = NotifyClass(rawValue: 1 << 29)
    /// "A": every class but m and n (Redis's NOTIFY_ALL).
    public static let all: NotifyClass = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted,
                                          .stream, .module]
}

/// The server-wide `notify-keyspace-events` value, read by every shard on
/// every event site: one relaxed load, so CONFIG SET is live at once and a
/// server with notifications off pays one branch per site.
public final class NotifySwitch: Sendable {
    private let value = Atomic<Int>(0)
    public init() {}
    @inline(__always) public var flags: Int { value.load(ordering: .relaxed) }
    public func set(_ f: Int) { value.store(f, ordering: .relaxed) }
}

/// One shard's log of keyspace events not yet published. Events are
/// recorded where they happen (a handler, a lazy or active expiry, a key
/// insertion) by whichever thread holds the shard, in order, and published
/// by that thread before it lets the shard go, so a subscriber sees one
/// shard's events in the order they happened.
///
/// A record: db (4 bytes), classes (4), event name address (8) and length
/// (4), key length (4), key bytes. Event names are static strings.
public final class KeyEvents {
    public let config: NotifySwitch
    var buf: UnsafeMutableRawPointer
    var cap = 256
    public private(set) var used = 0
    /// Set while a command replaces a key that existed (Redis's setKey
    /// over an existing key, dbOverwrite): the new entry is not `new`.
    public var muteNew = false

    public init(config: NotifySwitch) {
        self.config = config
        buf = .allocate(byteCount: 256, alignment: 8)
    }

    deinit { buf.deallocate() }

    /// Whether events of class `c` are to be recorded now.
    @inline(__always) public func wants(_ c: NotifyClass) -> Bool {
        config.flags & (c.rawValue | NotifyClass.tracking.rawValue) != 0
    }

    /// Records `event` on `key` in `db` when its class is selected or a
    /// client tracks keys; the publisher checks which apply.
    @inline(__always)
    public func note(_ c: NotifyClass, _ event: StaticString, db: Int, _ key: UnsafePointer<UInt8>, _ n: Int) {
        if !wants(c) { return }
        append(c, event, db: db, key, n)
    }

    public func append(_ c: NotifyClass, _ event: StaticString, db: Int, _ key: UnsafePointer<UInt8>, _ n: Int) {
        let need = 24 + n
        if used + need > cap {
            var c = cap * 2
            while used + need > c { c *= 2 }
            let nb = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
            nb.copyMemory(from: buf, byteCount: used)
            buf.deallocate()
            buf = nb
            cap = c
        }
        let p = buf + used
        p.storeBytes(of: Int32(truncatingIfNeeded: db), toByteOffset: 0, as: Int32.self)
        p.storeBytes(of: Int32(truncatingIfNeeded: c.rawValue), toByteOffset: 4, as: Int32.self)
        p.storeBytes(of: Int(bitPattern: event.utf8Start), toByteOffset: 8, as: Int.self)
        p.storeBytes(of: Int32(event.utf8CodeUnitCount), toByteOffset: 16, as: Int32.self)
        p.storeBytes(of: Int32(n), toByteOffset: 20, as: Int32.self)
        if n > 0 { (p + 24).copyMemory(from: key, byteCount: n) }
        used += need
    }

    /// Hands every record to `body` (classes, db, event, key) in order and
    /// empties the log. `body` must not record events.
    public func drain(_ body: (NotifyClass, Int, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        var off = 0
        while off < used {
            let p = buf + off
            let db = Int(p.loadUnaligned(fromByteOffset: 0, as: Int32.self))
            let c = NotifyClass(rawValue: Int(p.loadUnaligned(fromByteOffset: 4, as: Int32.self)))
            let ep = UnsafePointer<UInt8>(bitPattern: p.loadUnaligned(fromByteOffset: 8, as: Int.self))
            let en = Int(p.loadUnaligned(fromByteOffset: 16, as: Int32.self))
            let kn = Int(p.loadUnaligned(fromByteOffset: 20, as: Int32.self))
            let kp = (p + 24).assumingMemoryBound(to: UInt8.self)
            body(c, db, UnsafeBufferPointer(start: ep, count: en), UnsafeBufferPointer(start: kp, count: kn))
            off += 24 + kn
        }
        used = 0
        if cap > 65536 {
            buf.deallocate()
            cap = 256
            buf = .allocate(byteCount: cap, alignment: 8)
        }
    }
}
