import RESP
import Storage

/// Keys family: DEL, EXISTS, EXPIRE, TTL, RENAME, ... (Redis's db.c and expire.c).
public enum KeyCommands {
    public static let specs: [CommandSpec] = []
}
