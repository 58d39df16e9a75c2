#if canImport(Glibc)
import Glibc
#endif

/// Redis's eviction pool (evict.c, EVPOOL_SIZE 16): the best candidates seen
/// by the sampling so far, ordered by ascending score ("idle": LRU idle ms,
/// 255 - LFU counter, or UInt64.max - expire time). Eviction takes the
/// highest score; a sample scoring below every candidate of a full pool is
/// dropped, otherwise it displaces the lowest. Keys are copied (an entry may
/// be freed while it waits here), each into a 255-byte area of its own as in
/// Redis's cached sds; shifting moves area indices, never key bytes.
public final class EvictionPool {
    public static let size = 16
    static let cached = 255

    /// Position -> area; positions 0..<count are filled, in ascending score.
    var order: [Int]
    var score: [UInt64]
    var dbOf: [Int]
    var length: [Int]
    public private(set) var count = 0
    let areas: UnsafeMutablePointer<UInt8>
    /// A key longer than `cached` lives in its own block here.
    var big: [UnsafeMutablePointer<UInt8>?]

    public init() {
        order = Array(0..<EvictionPool.size)
        score = Array(repeating: 0, count: EvictionPool.size)
        dbOf = Array(repeating: 0, count: EvictionPool.size)
        length = Array(repeating: 0, count: EvictionPool.size)
        big = Array(repeating: nil, count: EvictionPool.size)
        areas = .allocate(capacity: EvictionPool.size * EvictionPool.cached)
    }

    deinit {
        for case let p? in big { p.deallocate() }
        areas.deallocate()
    }

    /// Offers a sampled key; false when it scores below a full pool's worst.
    @discardableResult
    public func insert(score s: UInt64, db: Int, key: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let size = EvictionPool.size
        var k = 0
        while k < count && score[order[k]] < s { k += 1 }
        if k == 0 && count == size { return false }
        let area: Int
        if count < size {
            // Room on the right: shift the tail right by one.
            area = order[count]
            var j = count
            while j > k { order[j] = order[j - 1]; j -= 1 }
            order[k] = area
            count += 1
        } else {
            // Full: drop the lowest and shift the ones below k left.
            k -= 1
            area = order[0]
            var j = 0
            while j < k { order[j] = order[j + 1]; j += 1 }
            order[k] = area
        }
        score[area] = s
        dbOf[area] = db
        length[area] = n
        let dst: UnsafeMutablePointer<UInt8>
        if n <= EvictionPool.cached {
            if let b = big[area] { b.deallocate(); big[area] = nil }
            dst = areas + area * EvictionPool.cached
        } else {
            big[area]?.deallocate()
            dst = .allocate(capacity: n)
            big[area] = dst
        }
        dst.update(from: key, count: n)
        return true
    }

    /// Takes the best candidate (highest score) out of the pool and hands its
    /// key to `body`; false when the pool is empty.
    public func popBest<R>(_ body: (_ db: Int, _ key: UnsafePointer<UInt8>, _ n: Int, _ score: UInt64) -> R) -> R? {
        if count == 0 { return nil }
        count -= 1
        let area = order[count]
        let p = big[area] ?? areas + area * EvictionPool.cached
        return body(dbOf[area], UnsafePointer(p), length[area], score[area])
    }

    /// Scores from worst to best candidate (tests, debugging).
    public var scores: [UInt64] { (0..<count).map { score[order[$0]] } }

    public func removeAll() { count = 0 }
}
