/// Pub/Sub and MONITOR. Subscriptions live on the connection's worker and
/// messages cross workers, so the Server module runs them (Server/PubSub).
public enum PubSubCommands {
    static let ps: CommandFlags = [.pubsub, .noscript, .loading, .stale]

    public static let specs: [CommandSpec] = [
        CommandSpec("subscribe", arity: -2, flags: ps, route: .server(.subscribe), group: "pubsub",
                    summary: "Listen for messages published to the given channels", since: "2.0.0"),
        CommandSpec("unsubscribe", arity: -1, flags: ps, route: .server(.unsubscribe), group: "pubsub",
                    summary: "Stop listening for messages posted to the given channels", since: "2.0.0"),
        CommandSpec("psubscribe", arity: -2, flags: ps, route: .server(.psubscribe), group: "pubsub",
                    summary: "Listen for messages published to channels matching the given patterns", since: "2.0.0"),
        CommandSpec("punsubscribe", arity: -1, flags: ps, route: .server(.punsubscribe), group: "pubsub",
                    summary: "Stop listening for messages posted to channels matching the given patterns",
                    since: "2.0.0"),
        // The shard channels are "keys" only for cluster slot checks (not_key).
        CommandSpec("ssubscribe", arity: -2, flags: ps, keys: (1, -1, 1), route: .server(.ssubscribe), group: "pubsub",
                    summary: "Listen for messages published to the given shard channels", since: "7.0.0"),
        CommandSpec("sunsubscribe", arity: -1, flags: ps, keys: (1, -1, 1), route: .server(.sunsubscribe),
                    group: "pubsub", summary: "Stop listening for messages posted to the given shard channels",
                    since: "7.0.0"),
        CommandSpec("publish", arity: 3, flags: [.pubsub, .loading, .stale, .fast, .mayReplicate],
                    route: .server(.publish), group: "pubsub", summary: "Post a message to a channel", since: "2.0.0"),
        CommandSpec("spublish", arity: 3, flags: [.pubsub, .loading, .stale, .fast, .mayReplicate], keys: (1, 1, 1),
                    route: .server(.spublish), group: "pubsub", summary: "Post a message to a shard channel",
                    since: "7.0.0"),
        CommandSpec("pubsub", arity: -2, flags: [], route: .server(.pubsub), group: "pubsub",
                    summary: "A container for Pub/Sub commands", since: "2.8.0", subcommands: pubsubSubcommands),
        CommandSpec("monitor", arity: 1, flags: [.admin, .noscript, .loading, .stale], route: .server(.monitor),
                    group: "server", summary: "Listen for all requests received by the server in real time"),
    ]

    static let sub: CommandFlags = [.pubsub, .loading, .stale]

    static let pubsubSubcommands: [CommandSpec] = [
        CommandSpec("channels", arity: -2, flags: sub, route: .server(.pubsub), group: "pubsub",
                    summary: "List active channels", since: "2.8.0"),
        CommandSpec("numsub", arity: -2, flags: sub, route: .server(.pubsub), group: "pubsub",
                    summary: "Get the count of subscribers for channels", since: "2.8.0"),
        CommandSpec("numpat", arity: 2, flags: sub, route: .server(.pubsub), group: "pubsub",
                    summary: "Get the count of unique patterns pattern subscriptions", since: "2.8.0"),
        CommandSpec("shardchannels", arity: -2, flags: sub, route: .server(.pubsub), group: "pubsub",
                    summary: "List active shard channels", since: "7.0.0"),
        CommandSpec("shardnumsub", arity: -2, flags: sub, route: .server(.pubsub), group: "pubsub",
                    summary: "Get the count of subscribers for shard channels", since: "7.0.0"),
        CommandSpec("help", arity: 2, flags: [.loading, .stale], route: .server(.pubsub), group: "pubsub",
                    summary: "Show helpful text about the different subcommands", since: "6.2.0"),
    ]
}
