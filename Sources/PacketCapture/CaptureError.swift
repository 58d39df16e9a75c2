#if canImport(Glibc)
import Glibc
#endif

/// Failures a caller can act on, each with a one-line message fit for a
/// terminal or a server log.
public enum CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// socket(AF_PACKET) refused: the process lacks CAP_NET_RAW.
    case needsCapNetRaw
    /// No interface by that name; `available` lists the ones that exist.
    case unknownInterface(String, available: [String])
    /// The ring geometry was refused or is inconsistent.
    case badRingConfig(String)
    /// Any other system call failure.
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .needsCapNetRaw:
            return "capture needs CAP_NET_RAW: run as root or add --cap-add NET_RAW to docker run"
        case .unknownInterface(let name, let available):
            return "unknown interface '\(name)'; interfaces here: \(available.joined(separator: ", "))"
        case .badRingConfig(let why):
            return "bad capture ring configuration: \(why)"
        case .system(let call, let e):
            return "\(call) failed: \(errnoText(e))"
        }
    }
}

func errnoText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return "\(String(cString: s)) (errno \(e))"
}
