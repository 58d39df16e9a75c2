import Commands
import RESP
import Storage

extension Worker {
    /// A tracked key expired on this shard.
    func invalidateExpired(db: Int, _ key: UnsafeBufferPointer<UInt8>) {}
}
