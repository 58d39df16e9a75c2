/// One command argument: a view into the connection's input (or a batch
/// buffer), valid until that buffer is next compacted.
public struct Arg: @unchecked Sendable {
    public let ptr: UnsafePointer<UInt8>
    public let count: Int

    @inlinable public init(_ ptr: UnsafePointer<UInt8>, _ count: Int) {
        self.ptr = ptr
        self.count = count
    }

    @inlinable public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: ptr, count: count) }
    @inlinable public subscript(i: Int) -> UInt8 { ptr[i] }

    /// ASCII case-insensitive compare against a lowercase literal.
    @inlinable public func equalsLower(_ lit: StaticString) -> Bool {
        guard lit.utf8CodeUnitCount == count else { return false }
        let l = lit.utf8Start
        for i in 0..<count where ptr[i] | 0x20 != l[i] | 0x20 {
            // | 0x20 folds only letters correctly; confirm non-letters exactly
            if ptr[i] != l[i] { return false }
        }
        return true
    }

    @inlinable public func equals(_ other: Arg) -> Bool {
        count == other.count && memcmpEq(ptr, other.ptr, count)
    }

    public var bytes: [UInt8] { Array(buffer) }
    /// For error messages and logs only; never for keys or values.
    public var lossyString: String { String(decoding: buffer, as: UTF8.self) }
    /// The argument as the name of a script (SHA1 hex), library or function:
    /// those are ASCII by construction, and for ASCII a String compares byte
    /// for byte. Anything else (which could be canonically equal to an ASCII
    /// name, or decode lossily onto one) names nothing: nil.
    public var asciiName: String? {
        buffer.allSatisfy { $0 < 0x80 } ? String(decoding: buffer, as: UTF8.self) : nil
    }
}

@inlinable func memcmpEq(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// The parsed arguments of the current command. Preallocated per worker and
/// reused, so parsing a command does not allocate.
public final class ArgVector: @unchecked Sendable {
    public var storage: UnsafeMutablePointer<Arg>
    public var count: Int = 0
    public var capacity: Int
    /// Inline (telnet) commands need unescaped copies of their arguments.
    public private(set) var scratch = ByteBuf(capacity: 256)

    public init(capacity: Int = 64) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    @inlinable public subscript(i: Int) -> Arg { storage[i] }

    @inlinable public func reset() { count = 0 }

    public func reserve(_ n: Int) {
        if n > capacity {
            let ns = UnsafeMutablePointer<Arg>.allocate(capacity: n)
            ns.initialize(from: storage, count: count)
            storage.deallocate()
            storage = ns
            capacity = n
        }
    }

    /// Trades contents (arguments and the inline scratch they may point
    /// into) with `other`: a re-entrant reader parks a command's arguments
    /// there, parses others into this vector, and trades them back intact.
    public func exchange(with other: ArgVector) {
        swap(&storage, &other.storage)
        swap(&count, &other.count)
        swap(&capacity, &other.capacity)
        swap(&scratch, &other.scratch)
    }

    @inlinable public func push(_ a: Arg) {
        if count == capacity { reserve(capacity * 2) }
        storage[count] = a
        count += 1
    }
}
