// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for RingKV's decoders. A package of its own so that the
// main package's `swift build` / `swift test` never see fuzz flags: the
// modules under test are symlinks to ../Sources, built here with coverage and
// AddressSanitizer by `make fuzz` (see Fuzz/README.md). CMalloc is a stub
// without the server's malloc interposition, which would hide allocations
// from ASan.
let entry: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "RingKVFuzz",
    targets: [
        .target(name: "CMalloc"),
        .target(name: "RESP"),
        .target(name: "Storage", dependencies: ["RESP", "CMalloc"]),
        .target(name: "Config", dependencies: ["RESP"]),
        .target(name: "Commands", dependencies: ["RESP", "Storage", "Config"]),
        .target(name: "FuzzSupport"),
        .target(name: "FuzzShard", dependencies: ["Commands", "Storage", "RESP", "FuzzSupport"]),
        .executableTarget(name: "fuzz-resp", dependencies: ["RESP", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-inline", dependencies: ["RESP", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-config", dependencies: ["Config", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-rdb", dependencies: ["Storage", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-hll", dependencies: ["Storage", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-exec", dependencies: ["Commands", "Storage", "RESP", "FuzzShard", "FuzzSupport"], swiftSettings: entry),
        // AofScan.swift and AofManifest.swift are the server's files, linked in.
        .executableTarget(name: "fuzz-aof", dependencies: ["Commands", "Storage", "RESP", "FuzzShard", "FuzzSupport"], swiftSettings: entry),
        .executableTarget(name: "fuzz-packed", dependencies: ["Storage", "FuzzSupport"], swiftSettings: entry),
    ],
    swiftLanguageModes: [.v6]
)
