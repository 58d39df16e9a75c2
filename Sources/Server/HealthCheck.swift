import CLiburing
#if canImport(Glibc)
import Glibc
#endif

/// `ringkv-server --ping host:port`: a health check that needs no redis-cli
/// in the image. Exit 0 when the server answers +PONG (or -NOAUTH, which
/// still proves it is serving).
public func pingServer(_ target: String) -> Int32 {
    var host = "127.0.0.1"
    var port = 6379
    if let i = target.lastIndex(of: ":") {
        host = String(target[..<i])
        port = Int(target[target.index(after: i)...]) ?? 6379
    }
    if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if fd < 0 { return 1 }
    defer { close(fd) }
    var tv = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = UInt16(port).bigEndian
    if inet_pton(AF_INET, host, &sa.sin_addr) != 1 { return 1 }
    let r = withUnsafePointer(to: &sa) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if r != 0 { return 1 }
    let ping = "*1\r\n$4\r\nPING\r\n"
    _ = ping.withCString { send(fd, $0, 14, Int32(MSG_NOSIGNAL)) }
    var buf = [UInt8](repeating: 0, count: 64)
    let n = recv(fd, &buf, 64, 0)
    if n >= 5 && (buf.starts(with: Array("+PONG".utf8)) || buf.starts(with: Array("-NOAUTH".utf8))) { return 0 }
    return 1
}
