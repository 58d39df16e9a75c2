public enum ListCommands {
    public static func popReply(_ x: inout Exec, key i: Int, left: Bool, count: Int?, withKey: Bool) -> Bool { false }
    public static func moveReply(_ x: inout Exec, src: Int, dst: Int, fromLeft: Bool, toLeft: Bool) -> Bool { false }
}
public enum ZPopShape { case bzpop, zmpop }
public enum SortedSetCommands {
    public static func popReply(_ x: inout Exec, key i: Int, max: Bool, count: Int?, shape: ZPopShape) -> Bool { false }
}
