import CLiburing
#if canImport(Glibc)
import Glibc
#endif

struct ListenError: Error, CustomStringConvertible {
    let description: String
}

/// Opens one SO_REUSEPORT listener; every worker opens its own on the same
/// address so the kernel spreads connections across workers.
func openListener(address: String, port: Int, backlog: Int, reusePort: Bool = true) throws -> Int32 {
    let v6 = address.contains(":")
    let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw ListenError(description: "socket: \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
    if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, 4) }
    let r: Int32?
    if v6 {
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, 4)
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = UInt16(port).bigEndian
        r = inet_pton(AF_INET6, address == "::*" ? "::" : address, &sa.sin6_addr) == 1 ? bindTo(fd, &sa) : nil
    } else {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = UInt16(port).bigEndian
        r = inet_pton(AF_INET, address == "*" ? "0.0.0.0" : address, &sa.sin_addr) == 1 ? bindTo(fd, &sa) : nil
    }
    guard let r else {
        close(fd)
        throw ListenError(description: "Invalid bind address '\(address)'")
    }
    if r != 0 || listen(fd, Int32(backlog)) != 0 {
        let e = String(cString: strerror(errno))
        close(fd)
        throw ListenError(description: "Could not create server TCP listening socket \(address):\(port): \(e)")
    }
    return fd
}

/// bind(2) for either address family.
private func bindTo<T>(_ fd: Int32, _ sa: inout T) -> Int32 {
    withUnsafePointer(to: &sa) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<T>.size)) }
    }
}

/// "ip:port" of the peer or local side, as CLIENT LIST prints it.
func socketAddress(_ fd: Int32, peer: Bool) -> (String, Bool) {
    var ss = sockaddr_storage()
    var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let r = withUnsafeMutablePointer(to: &ss) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &len) : getsockname(fd, $0, &len) }
    }
    if r != 0 { return ("?:0", false) }
    var buf = [CChar](repeating: 0, count: 64)
    if ss.ss_family == sa_family_t(AF_INET) {
        return withUnsafePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> (String, Bool) in
                var a = sin.pointee.sin_addr
                inet_ntop(AF_INET, &a, &buf, 64)
                let ip = String(cString: buf)
                let loop = (UInt32(bigEndian: a.s_addr) >> 24) == 127
                return ("\(ip):\(UInt16(bigEndian: sin.pointee.sin_port))", loop)
            }
        }
    }
    return withUnsafePointer(to: &ss) {
        $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin -> (String, Bool) in
            var a = sin.pointee.sin6_addr
            inet_ntop(AF_INET6, &a, &buf, 64)
            let ip = String(cString: buf)
            let loop = ip == "::1" || ip.hasPrefix("::ffff:127.")
            return ("\(ip):\(UInt16(bigEndian: sin.pointee.sin6_port))", loop)
        }
    }
}

func setupClientSocket(_ fd: Int32, keepalive: Int) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
    if keepalive > 0 {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, 4)
        var idle = Int32(keepalive)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, 4)
        var intvl = Int32(max(1, keepalive / 3))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &intvl, 4)
        var cnt: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &cnt, 4)
    }
}
