import OrderlineCore
import OrderlineProtocol

/// What `orderline serve` was told, as the listener and dispatcher need it.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7379
    public var limits = ProtocolLimits()
    public var clientsMax = 10_000
    /// Replies a connection may have outstanding before it stops being read.
    public var pipelineDepthMax = 1_024
    /// Seconds without a request after which a connection is closed; 0: never.
    public var idleTimeoutSeconds: Int64 = 0
    /// Whether CLOCK.ADVANCE is allowed (the server runs on a manual clock).
    public var manualClock = false
    /// Tokens and their roles (`--auth`); nil: every connection is admin.
    public var tokens: [String: Role]?
    /// What `--shards` asked for (this build runs one shard; INFO shows both).
    public var shardsRequested = 1

    public init() {}
}
