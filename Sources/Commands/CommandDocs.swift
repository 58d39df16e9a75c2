/// COMMAND DOCS and the Redis 7 parts of COMMAND INFO (tips, key specs):
/// the model here, the per-command data in CommandDocsData.swift.

/// Argument flags, printed in Redis's order.
public struct ArgFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let optional = ArgFlags(rawValue: 1 << 0)
    public static let multiple = ArgFlags(rawValue: 1 << 1)
    public static let multipleToken = ArgFlags(rawValue: 1 << 2)

    public var names: [String] {
        var out: [String] = []
        if contains(.optional) { out.append("optional") }
        if contains(.multiple) { out.append("multiple") }
        if contains(.multipleToken) { out.append("multiple_token") }
        return out
    }
}

public enum ArgType: String, Sendable {
    case key, string, integer, double, pattern
    case unixTime = "unix-time"
    case pureToken = "pure-token"
    case oneof, block
}

/// One argument of a command's syntax, as COMMAND DOCS describes it.
public struct CommandArg: Sendable {
    public let name: String
    public let type: ArgType
    /// Index into the command's key specs, for `key` arguments.
    public let keySpecIndex: Int?
    public let token: String?
    public let summary: String?
    public let since: String?
    public let deprecatedSince: String?
    public let flags: ArgFlags
    /// Nested arguments of a `oneof` or `block`.
    public let arguments: [CommandArg]

    public init(_ name: String, _ type: ArgType, keySpec: Int? = nil, token: String? = nil,
                summary: String? = nil, since: String? = nil, deprecatedSince: String? = nil,
                flags: ArgFlags = [], _ arguments: [CommandArg] = []) {
        self.name = name
        self.type = type
        self.keySpecIndex = keySpec
        self.token = token
        self.summary = summary
        self.since = since
        self.deprecatedSince = deprecatedSince
        self.flags = flags
        self.arguments = arguments
    }
}

/// Short name for the data table.
typealias A = CommandArg

/// A Redis 7 key specification (COMMAND INFO element 9).
public struct KeySpec: Sendable {
    public enum BeginSearch: Sendable {
        case index(Int)
        case keyword(String, startFrom: Int)
        case unknown
    }
    public enum FindKeys: Sendable {
        case range(lastKey: Int, step: Int, limit: Int)
        case keynum(index: Int, firstKey: Int, step: Int)
        case unknown
    }
    public let notes: String?
    /// RW, RO, OW, RM, access, update, insert, delete, ... in Redis's order.
    public let flags: [String]
    public let begin: BeginSearch
    public let find: FindKeys

    public init(notes: String? = nil, flags: [String], begin: BeginSearch, find: FindKeys) {
        self.notes = notes
        self.flags = flags
        self.begin = begin
        self.find = find
    }
}

/// Everything about a command that only COMMAND INFO/DOCS read.
public struct CommandMeta: Sendable {
    public let complexity: String?
    /// `deprecated`, `syscmd`.
    public let docFlags: [String]
    public let deprecatedSince: String?
    public let replacedBy: String?
    /// (version, change) pairs.
    public let history: [(String, String)]
    /// Hints for cluster proxies (`request_policy:all_shards`, ...).
    public let tips: [String]
    public let keySpecs: [KeySpec]
    public let arguments: [CommandArg]

    public init(complexity: String? = nil, docFlags: [String] = [], deprecatedSince: String? = nil,
                replacedBy: String? = nil, history: [(String, String)] = [], tips: [String] = [],
                keySpecs: [KeySpec] = [], arguments: [CommandArg] = []) {
        self.complexity = complexity
        self.docFlags = docFlags
        self.deprecatedSince = deprecatedSince
        self.replacedBy = replacedBy
        self.history = history
        self.tips = tips
        self.keySpecs = keySpecs
        self.arguments = arguments
    }

    public static let empty = CommandMeta()
}

public enum CommandDocs {
    /// By full name: `get`, `client|list`.
    public static let table: [String: CommandMeta] = buildTable()

    public static func meta(_ fullName: String) -> CommandMeta {
        table[fullName] ?? .empty
    }
}
