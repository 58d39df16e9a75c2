import Config
import Logging
import PacketCapture
import Synchronization

/// The server's own view of the wire: a CaptureService on its own thread,
/// started, stopped or moved by `capture-interface`. A capture failure is a
/// warning line, never a reason to stop serving.
final class CaptureControl: Sendable {
    private struct Current {
        var service: CaptureService?
        var key: String = "none"
    }
    private let current = Mutex(Current())
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Makes the running capture match the config (at start and after CONFIG SET).
    func apply(_ config: ConfigStore) {
        let iface = config.captureInterface
        let port = config.capturePort == 0 ? config.port : config.capturePort
        let key = "\(iface)|\(port)|\(config.captureBlockSize)|\(config.captureBlockCount)|\(config.captureFrameSize)"
        current.withLock { cur in
            if cur.key == key { return }
            cur.service?.stop()
            cur.service = nil
            cur.key = key
            if iface == "none" { return }
            var ring = RingConfig()
            ring.blockSize = config.captureBlockSize
            ring.blockCount = config.captureBlockCount
            ring.frameSize = config.captureFrameSize
            // Headers are all INFO capture reads: 128 bytes covers Ethernet,
            // VLAN tags, IPv6 and TCP with options.
            let options = CaptureOptions(interface: iface == "all" ? nil : iface, ring: ring, snapLength: 128)
            let service = CaptureService(options: options, watchedPort: UInt16(truncatingIfNeeded: port))
            do {
                try service.start()
                cur.service = service
                logger.notice("Packet capture started on \(service.interfaceLabel), watching port \(port)")
            } catch {
                logger.warning("Packet capture disabled: \(error)")
            }
        }
    }

    func infoSection() -> String {
        current.withLock { cur in
            if let s = cur.service { return s.infoSection() }
            return "# Capture\r\ncapture_enabled:0\r\ncapture_interface:\(cur.key.split(separator: "|").first ?? "none")\r\n"
        }
    }

    func resetStats() {
        current.withLock { $0.service?.resetStats() }
    }

    func stop() {
        current.withLock { cur in
            cur.service?.stop()
            cur.service = nil
        }
    }
}
