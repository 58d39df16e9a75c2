public enum ZPopShape { case bzpop, zmpop }
public enum SortedSetCommands {
    public static func popReply(_ x: inout Exec, key i: Int, max: Bool, count: Int?, shape: ZPopShape) -> Bool { false }
}
