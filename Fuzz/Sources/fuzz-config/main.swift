import FuzzSupport
@testable import Config

#if canImport(Glibc)
import Glibc
#endif

// redis.conf text through the loader: a config error is fine, a crash or hang
// is not. `include` reads other files (a fuzzer finds /dev/zero), so inputs
// naming it are skipped; `dir` chdirs, so the directory is restored.

private let home: [CChar] = {
    var b = [CChar](repeating: 0, count: 4096)
    _ = getcwd(&b, b.count)
    return b
}()

private func mentionsInclude(_ b: [UInt8]) -> Bool {
    let word = Array("include".utf8)
    guard b.count >= word.count else { return false }
    for i in 0...(b.count - word.count) {
        var hit = true
        for j in 0..<word.count where b[i + j] | 0x20 != word[j] { hit = false; break }
        if hit { return true }
    }
    return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = Array(UnsafeBufferPointer(start: data, count: size))
    if mentionsInclude(text) { return -1 }
    var loader = ConfigLoader(values: ConfigStore.defaultValues())
    do {
        try loader.loadText(text, source: "fuzz.conf", firstLine: 1, depth: 0)
        try loader.finalChecks()
        _ = ConfigStore(values: loader.values, configFile: nil)
    } catch {
        let m = "\(error)"
        fuzzCheck(!m.isEmpty, "empty config error")
    }
    _ = home.withUnsafeBufferPointer { chdir($0.baseAddress!) }
    return 0
}

@_cdecl("fuzz_config_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
