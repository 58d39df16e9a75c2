import Config
import Server
#if canImport(Glibc)
import Glibc
#endif

// Top-level code runs on the main actor; the server starts its threads from
// functions in the Server module, which is what Swift 6 wants.
let argv = Array(CommandLine.arguments.dropFirst())
if argv.first == "--version" || argv.first == "-v" {
    print("RingKV server v=\(ringkvVersion) redis_version=\(redisCompatVersion) bits=64 io=io_uring,epoll")
    exit(0)
}
if argv.first == "--help" || argv.first == "-h" {
    print("""
    Usage: ringkv-server [/path/to/ringkv.conf] [options] [-]
           ringkv-server - (read config from stdin)
           ringkv-server -v or --version
           ringkv-server -h or --help
           ringkv-server --ping HOST:PORT   (health check: exit 0 if the server answers PING)

    Examples:
           ringkv-server (run the server with default conf)
           ringkv-server configs/ringkv.conf
           ringkv-server --port 7777
           ringkv-server --port 7777 --shards 4 --io-backend epoll
           ringkv-server configs/ringkv.conf --loglevel verbose

    Every directive of the config file can be given as --directive value.
    """)
    exit(0)
}
if argv.first == "--ping" {
    exit(pingServer(argv.count > 1 ? argv[1] : "127.0.0.1:6379"))
}
do {
    let config = try ConfigStore.load(arguments: argv)
    if var warning = config.writePidFile() {
        warning += "\n"
        warning.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
    let status = runServer(config: config)
    config.removePidFile()
    exit(status)
} catch {
    var msg = "\(error)\n"
    msg.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}
