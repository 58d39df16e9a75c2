@testable import Storage

/// Test helpers: entries built from byte arrays (keys are bytes, never String).
func bytes(_ s: StaticString) -> [UInt8] {
    Array(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
}

func decimalKey(_ prefix: StaticString, _ i: Int) -> [UInt8] {
    var k = bytes(prefix)
    var digits: [UInt8] = []
    var n = i
    repeat { digits.append(UInt8(n % 10) + 48); n /= 10 } while n > 0
    k.append(contentsOf: digits.reversed())
    return k
}

func hashOf(_ k: [UInt8]) -> UInt64 {
    k.withUnsafeBufferPointer { hashBytes($0.baseAddress!, $0.count) }
}

func makeEntry(_ key: [UInt8], _ value: [UInt8], expireAt: Int64 = -1, tryInt: Bool = true) -> Entry {
    key.withUnsafeBufferPointer { k in
        value.withUnsafeBufferPointer { v in
            Entry.makeString(key: k.baseAddress!, keyLen: k.count, value: v.baseAddress, valueLen: v.count,
                             expireAt: expireAt, lru: 7, tryInt: tryInt)
        }
    }
}

extension HashTable {
    func find(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { find($0.baseAddress!, $0.count, hash: hashBytes($0.baseAddress!, $0.count)) }
    }
}

extension Keyspace {
    func find(_ key: [UInt8], now: Int64) -> Int {
        key.withUnsafeBufferPointer { find($0.baseAddress!, $0.count, hash: hashBytes($0.baseAddress!, $0.count), now: now) }
    }

    @discardableResult
    func add(_ e: Entry) -> Int {
        let k = e.key
        let h = hashBytes(k.baseAddress!, k.count)
        return put(e, at: table.find(k.baseAddress!, k.count, hash: h), hash: h)
    }
}

extension Entry {
    var keyBytes: [UInt8] { Array(key) }
    var valueBytes: [UInt8] { withStringBytes { Array($0) } }
}
