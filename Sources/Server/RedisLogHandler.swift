import Logging
#if canImport(Glibc)
import Glibc
#endif

/// swift-log handler that writes Redis's log-line format:
/// `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`, with Redis's level
/// marks (. debug, - verbose, * notice, # warning).
public struct RedisLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let role: Character
    let fd: Int32

    public init(level: Logger.Level, role: Character = "M", fd: Int32) {
        logLevel = level
        self.role = role
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        let mark: String
        switch level {
        case .trace, .debug: mark = "."
        case .info: mark = "-"
        case .notice: mark = "*"
        default: mark = "#"
        }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        strftime(&buf, 64, "%d %b %Y %H:%M:%S", &tmv)
        let ms = ts.tv_nsec / 1_000_000
        let msStr = ms < 10 ? "00\(ms)" : (ms < 100 ? "0\(ms)" : "\(ms)")
        var lineText = "\(getpid()):\(role) \(String(cString: buf)).\(msStr) \(mark) \(message)\n"
        lineText.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    }
}

/// Redis's loglevel names mapped onto swift-log levels.
public func logLevel(forRedis name: String) -> Logger.Level {
    switch name.lowercased() {
    case "debug": return .debug
    case "verbose": return .info
    case "notice": return .notice
    default: return .warning
    }
}
