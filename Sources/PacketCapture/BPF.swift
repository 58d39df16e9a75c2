/// One classic BPF instruction, laid out like the kernel's struct sock_filter.
public struct BPFInstruction: Hashable, Sendable, CustomStringConvertible {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code; self.jt = jt; self.jf = jf; self.k = k
    }

    /// `tcpdump -dd` style, so a program can be compared with tcpdump's.
    public var description: String { "{ 0x\(String(code, radix: 16)), \(jt), \(jf), 0x\(String(k, radix: 16, uppercase: false)) }" }
}

/// Opcode values from linux/filter.h (BPF_CLASS | BPF_SIZE | BPF_MODE ...).
public enum BPFOp {
    public static let ldW: UInt16 = 0x20     // ld  [k]
    public static let ldH: UInt16 = 0x28     // ldh [k]
    public static let ldB: UInt16 = 0x30     // ldb [k]
    public static let ldHInd: UInt16 = 0x48  // ldh [x + k]
    public static let ldxMSH: UInt16 = 0xB1  // ldxb 4*([k]&0xf)
    public static let jeqK: UInt16 = 0x15
    public static let jsetK: UInt16 = 0x45
    public static let ja: UInt16 = 0x05
    public static let retK: UInt16 = 0x06
}

/// A classic BPF program for SO_ATTACH_FILTER.
public struct BPFProgram: Hashable, Sendable {
    public var instructions: [BPFInstruction]
    public init(_ instructions: [BPFInstruction]) { self.instructions = instructions }

    /// Runs the program in user space. It covers the opcodes `CaptureFilter`
    /// emits and is how tests check a program's meaning, not just its shape;
    /// the result follows the kernel: 0 drops the frame, otherwise keep that
    /// many bytes. A load past the end rejects, as it does in the kernel.
    public func run(on packet: UnsafeRawBufferPointer) -> UInt32 {
        let r = ByteReader(packet)
        var a: UInt32 = 0
        var x: UInt32 = 0
        var pc = 0
        while pc < instructions.count {
            let i = instructions[pc]
            pc += 1
            switch i.code {
            case BPFOp.ldW: guard let v = r.u32(Int(i.k)) else { return 0 }; a = v
            case BPFOp.ldH: guard let v = r.u16(Int(i.k)) else { return 0 }; a = UInt32(v)
            case BPFOp.ldB: guard let v = r.u8(Int(i.k)) else { return 0 }; a = UInt32(v)
            case BPFOp.ldHInd: guard let v = r.u16(Int(x &+ i.k)) else { return 0 }; a = UInt32(v)
            case BPFOp.ldxMSH: guard let v = r.u8(Int(i.k)) else { return 0 }; x = UInt32(v & 0x0F) * 4
            case BPFOp.jeqK: pc += Int(a == i.k ? i.jt : i.jf)
            case BPFOp.jsetK: pc += Int(a & i.k != 0 ? i.jt : i.jf)
            case BPFOp.ja: pc += Int(i.k)
            case BPFOp.retK: return i.k
            default: return 0
            }
        }
        return 0
    }

    public func run(on packet: [UInt8]) -> UInt32 { packet.withUnsafeBytes { run(on: $0) } }
}

/// A tiny assembler: jumps name labels, and offsets are filled in once
/// every label has a position, since classic BPF only jumps forward by a
/// relative byte-sized offset.
struct BPFAssembler {
    enum Target: Hashable { case next, label(Int), accept, reject }

    private struct Pending {
        var code: UInt16
        var k: UInt32
        var jt: Target
        var jf: Target
    }

    private var pending: [Pending] = []
    private var labels: [Int: Int] = [:]
    private var labelCount = 0

    mutating func newLabel() -> Int { labelCount += 1; return labelCount }
    mutating func place(_ label: Int) { labels[label] = pending.count }

    mutating func load(_ code: UInt16, _ k: UInt32) { pending.append(Pending(code: code, k: k, jt: .next, jf: .next)) }
    mutating func jeq(_ k: UInt32, _ jt: Target, _ jf: Target) { pending.append(Pending(code: BPFOp.jeqK, k: k, jt: jt, jf: jf)) }
    mutating func jset(_ k: UInt32, _ jt: Target, _ jf: Target) { pending.append(Pending(code: BPFOp.jsetK, k: k, jt: jt, jf: jf)) }

    /// Appends `ret #snap` (accept) and `ret #0` (reject) and resolves jumps.
    func assemble(snapLength: UInt32) -> BPFProgram {
        let accept = pending.count
        let reject = pending.count + 1
        func position(_ t: Target, from index: Int) -> UInt8 {
            let dest: Int
            switch t {
            case .next: dest = index + 1
            case .label(let l):
                guard let p = labels[l] else { preconditionFailure("BPF label \(l) never placed") }
                dest = p
            case .accept: dest = accept
            case .reject: dest = reject
            }
            let offset = dest - (index + 1)
            precondition(offset >= 0 && offset <= 255, "BPF jump out of range")
            return UInt8(offset)
        }
        var out: [BPFInstruction] = []
        out.reserveCapacity(pending.count + 2)
        for (i, p) in pending.enumerated() {
            if p.code == BPFOp.jeqK || p.code == BPFOp.jsetK {
                out.append(BPFInstruction(code: p.code, jt: position(p.jt, from: i), jf: position(p.jf, from: i), k: p.k))
            } else {
                out.append(BPFInstruction(code: p.code, k: p.k))
            }
        }
        out.append(BPFInstruction(code: BPFOp.retK, k: snapLength))
        out.append(BPFInstruction(code: BPFOp.retK, k: 0))
        return BPFProgram(out)
    }
}
