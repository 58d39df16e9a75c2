#if canImport(Glibc)
import Glibc
#endif

/// A broken invariant: printed, then abort() so libFuzzer records the input.
public func fuzzCheck(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !ok() {
        let m = "fuzz invariant failed: \(what())\n"; _ = write(2, m, m.utf8.count)
        abort()
    }
}


/// Splits `data` into a control prefix of `n` bytes and the rest.
public struct FuzzInput {
    public let control: [UInt8]
    public let body: [UInt8]
    public init(_ p: UnsafePointer<UInt8>, _ size: Int, control n: Int) {
        let c = min(n, size)
        control = Array(UnsafeBufferPointer(start: p, count: c))
        body = Array(UnsafeBufferPointer(start: p + c, count: size - c))
    }
    public func byte(_ i: Int) -> UInt8 { i < control.count ? control[i] : 0 }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable target with `main` renamed to `<module>_main`,
/// so each target's `<module>_main` hands control to libFuzzer's driver.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, body)
}
