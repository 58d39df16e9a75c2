// swift-tools-version:6.0
import PackageDescription

// Release builds optimise across module boundaries so the layered modules
// (RESP -> Storage -> Commands -> Server) cost nothing on the hot path.
let hot: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
    // Each shard's data is owned by one thread by construction; dynamic
    // exclusivity checks on every class field access cost ~13% of a GET
    // pipeline in the profile (perf/results/flamegraph-get-p16.svg).
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "RingKV",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ringkv-server", targets: ["ringkv-server"]),
        .executable(name: "ringkv-capture", targets: ["ringkv-capture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // liburing from Debian's liburing-dev, plus a header shim for its macros.
        .systemLibrary(
            name: "CLiburing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        // Lua 5.1 with cjson and bit (Debian), and SHA1 from libmd, for scripting.
        .systemLibrary(
            name: "CLua",
            providers: [.apt(["liblua5.1-0-dev", "lua-cjson-dev", "lua-bitop-dev", "libmd-dev"])]
        ),
        // Wire format: incremental RESP parser and RESP2/RESP3 reply encoder.
        .target(name: "RESP", swiftSettings: hot),
        // Per-shard keyspace: byte keys, compact entries, hash table, expiry.
        // It reuses RESP's integer parsing and formatting: one definition of
        // "canonical integer" for the wire and for int-encoded values.
        .target(name: "Storage", dependencies: ["RESP", "CMalloc"], swiftSettings: hot),
        // redis.conf-style configuration: parsing, directive table, defaults.
        .target(name: "Config", dependencies: ["RESP"], swiftSettings: hot),
        // Command table and one file per command family.
        .target(name: "Commands", dependencies: ["RESP", "Storage", "Config"], swiftSettings: hot),
        // Workers, io_uring and epoll backends, connections, shard messaging.
        .target(
            name: "Server",
            dependencies: [
                "CLiburing", "CLua", "CMalloc", "RESP", "Storage", "Commands", "Config", "PacketCapture",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hot
        ),
        // The allocator shim: per-thread allocation counters (used_memory, maxmemory) and glibc statistics.
        .target(name: "CMalloc"),
        // AF_PACKET / TPACKET_V3 capture: C shim for linux/if_packet.h, then Swift.
        .target(name: "CPacket"),
        .target(name: "PacketCapture", dependencies: ["CPacket"], swiftSettings: hot),
        .executableTarget(
            name: "ringkv-server",
            dependencies: ["Server", "Config", .product(name: "Logging", package: "swift-log")],
            swiftSettings: hot
        ),
        .executableTarget(
            name: "ringkv-capture",
            dependencies: [
                "PacketCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: hot
        ),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "RESP"]),
    ],
    swiftLanguageModes: [.v6]
)
