import Synchronization

/// The FUNCTION libraries, the same for every worker. A worker loads every
/// library's code into its own Lua state when `generation` moves on, so
/// FUNCTION LOAD on one worker serves FCALL on all of them.
final class FunctionStore: @unchecked Sendable {
    struct Function {
        let name: String
        let description: String?
        let flags: [String]
    }
    struct Library {
        let name: String
        /// The code as loaded, shebang included (FUNCTION LIST WITHCODE, DUMP).
        let code: [UInt8]
        let functions: [Function]
    }
    /// Keyed by library name, which FUNCTION LOAD admits only as
    /// [A-Za-z0-9_] (ASCII: String equality is byte equality); lookups come
    /// through `Arg.asciiName`.
    private let libs = Mutex([String: Library]())
    let generation = AtomicCounter(0)

    var all: [Library] { libs.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    func library(_ name: String) -> Library? { libs.withLock { $0[name] } }

    /// The libraries' code and names (MEMORY STATS functions.caches).
    var bytes: Int {
        libs.withLock { d in
            d.values.reduce(0) { n, l in
                n + l.name.utf8.count + l.code.count
                    + l.functions.reduce(0) { $0 + $1.name.utf8.count + ($1.description?.utf8.count ?? 0) }
            }
        }
    }

    /// The library that defines `function`, other than `except`.
    func owner(of function: String, except: String?) -> String? {
        libs.withLock { d in
            d.values.first { $0.name != except && $0.functions.contains { $0.name == function } }?.name
        }
    }

    /// Stores `lib` unless another library defines one of its functions
    /// (checked again here: another worker may have loaded one meanwhile).
    /// Returns the error, or nil.
    func put(_ lib: Library, replace: Bool) -> String? {
        let err: String? = libs.withLock { d in
            if d[lib.name] != nil && !replace { return "ERR Library '\(lib.name)' already exists" }
            for f in lib.functions {
                if d.values.contains(where: { $0.name != lib.name && $0.functions.contains { $0.name == f.name } }) {
                    return "ERR Function \(f.name) already exists"
                }
            }
            d[lib.name] = lib
            return nil
        }
        if err == nil { generation.add(1) }
        return err
    }

    func remove(_ name: String) -> Bool {
        let ok = libs.withLock { $0.removeValue(forKey: name) != nil }
        if ok { generation.add(1) }
        return ok
    }

    func flush() {
        libs.withLock { $0.removeAll() }
        generation.add(1)
    }
}
