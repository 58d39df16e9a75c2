/// An HLL being edited off its entry: a malloc'd copy with room for sparse
/// growth, written back once by the caller. Dense HLLs are edited in place
/// in their entry instead; this serves sparse ones (and PFMERGE/PFDEBUG).
public struct HLLWork {
    public private(set) var buf: UnsafeMutablePointer<UInt8>
    public private(set) var len: Int
    private var cap: Int

    public init(copying p: UnsafePointer<UInt8>, _ n: Int) {
        cap = Swift.max(n + 64, HLL.emptySparseSize + 64)
        buf = .allocate(capacity: cap)
        buf.update(from: p, count: n)
        buf[n] = 0
        len = n
    }

    public init() {
        cap = HLL.emptySparseSize + 64
        buf = .allocate(capacity: cap)
        HLL.writeEmptySparse(buf)
        buf[HLL.emptySparseSize] = 0
        len = HLL.emptySparseSize
    }

    public var isDense: Bool { buf[4] == HLL.dense }

    private mutating func reserve(_ need: Int) {
        if need <= cap { return }
        let c = Swift.max(need, cap * 2)
        let n = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        n.update(from: buf, count: len + 1)
        buf.deallocate()
        buf = n
        cap = c
    }

    /// Sparse to dense; false (and unchanged) when the sparse form is corrupt.
    public mutating func toDense() -> Bool {
        if isDense { return true }
        let d = UnsafeMutablePointer<UInt8>.allocate(capacity: HLL.denseSize + 1)
        guard HLL.sparseToDense(buf, len, into: d) else {
            d.deallocate()
            return false
        }
        buf.deallocate()
        buf = d
        len = HLL.denseSize
        cap = HLL.denseSize + 1
        return true
    }

    /// Redis's hllSparseSet / hllDenseSet by encoding: 1 changed, 0 not,
    /// -1 corrupt. Promotes to dense as Redis does.
    public mutating func set(_ index: Int, _ count: UInt8, maxBytes: Int) -> Int {
        if isDense { return HLL.denseSetMax(buf + HLL.headerSize, index, count) ? 1 : 0 }
        reserve(len + 4)
        switch HLL.sparseSet(buf, len: &len, index: index, count: count, maxBytes: maxBytes) {
        case .unchanged: return 0
        case .updated: return 1
        case .invalid: return -1
        case .promote:
            guard toDense() else { return -1 }
            _ = HLL.denseSetMax(buf + HLL.headerSize, index, count)
            return 1
        }
    }

    public mutating func add(_ p: UnsafePointer<UInt8>, _ n: Int, maxBytes: Int) -> Int {
        let (i, c) = HLL.patLen(p, n)
        return set(i, c, maxBytes: maxBytes)
    }

    public func free() { buf.deallocate() }
}
