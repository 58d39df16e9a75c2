// `pidfile`: written at start-up and removed at exit, as redis-server does.

import Glibc

extension ConfigStore {
    /// Writes the process id to `pidfile` when one is set. Like Redis, a
    /// failure is reported (returned) but does not stop the server.
    public func writePidFile() -> String? {
        let path = pidfile
        if path.isEmpty { return nil }
        guard let fp = fopen(path, "w") else {
            return "Failed to write PID file: \(errnoString(errno))"
        }
        fputs("\(getpid())\n", fp)
        fclose(fp)
        return nil
    }

    public func removePidFile() {
        let path = pidfile
        if !path.isEmpty { unlink(path) }
    }
}
