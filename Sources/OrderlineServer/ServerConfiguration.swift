import OrderlineCore
import OrderlineProtocol

/// What `orderline serve` was told, as the listener and dispatcher need it. Every
/// limit has a name and a default here; `docs/COMMANDS.md` (Limits) lists them.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7379
    public var limits = ProtocolLimits()
    public var clientsMax = 10_000
    /// Connections accepted beyond `clientsMax` only for an admin token (with
    /// `--auth`): a flood of unauthenticated sockets cannot lock the operator out.
    public var adminReservedClients = 32
    /// Connections from one address at most.
    public var clientsPerAddressMax = 1_000
    /// Replies a connection may have outstanding before it stops being read.
    public var pipelineDepthMax = 1_024
    /// Admission control: with this many requests taken and not yet answered over all
    /// connections, a command for the engine is answered `-LIMIT busy, retry` at once
    /// instead of queueing behind them (0: no bound). A client that does not wait for
    /// replies (an open-loop flood) then gets quick refusals, and what is admitted
    /// keeps its latency.
    public var waitingRequestsMax = 0
    /// The same bound for one connection (0: none; its requests then wait for room,
    /// `pipelineDepthMax`).
    public var waitingRequestsPerClientMax = 0
    /// The same for time: a request whose bytes waited in the server's input longer
    /// than this (the loop is behind: offered load over capacity) is refused at once,
    /// so that what is admitted does not queue behind the backlog (0: no bound).
    public var queueDelayMaxMilliseconds: Int64 = 0
    /// Seconds without a request after which a connection is closed; 0: never.
    public var idleTimeoutSeconds: Int64 = 0
    /// Seconds a connection may stay unauthenticated (with `--auth`).
    public var authTimeoutSeconds: Int64 = 10
    /// Seconds a request may take to arrive in full once its first bytes came (and
    /// nothing else completed meanwhile): a client trickling bytes is closed.
    public var requestTimeoutSeconds: Int64 = 30
    /// Failed `AUTH`s after which a connection is closed.
    public var authFailuresMax = 3
    /// Bytes of replies a connection may have waiting (decided, not yet taken by its
    /// socket) before no more of its requests are run; as Redis's
    /// `client-output-buffer-limit`, a connection over `outputBytesHardMax` is closed at
    /// once, and one that stays over `outputBytesSoftMax` for `outputSoftSeconds` too.
    public var outputBytesSoftMax = 4 << 20
    public var outputBytesHardMax = 64 << 20
    public var outputSoftSeconds: Int64 = 60
    /// Bytes read but not yet run that a connection may hold while its replies wait
    /// (a client that writes a long pipeline before it reads): reading goes on up to
    /// this, so such a pipeline never deadlocks against a full socket.
    public var readAheadBytesMax = 32 << 20
    /// Unprocessed input held across all connections. Over it, a connection holding more
    /// than `inputFairShareBytes` of it is closed, and nobody reads ahead.
    public var inputBytesBufferedMax = 512 << 20
    public var inputFairShareBytes = 1 << 20
    /// How long one connection may run requests in one go before the loop turns to
    /// others (it goes on in the next pass).
    public var passBudgetMicroseconds: Int64 = 2_000
    /// Whether CLOCK.ADVANCE is allowed (the server runs on a manual clock).
    public var manualClock = false
    /// Tokens and their roles (`--auth`); nil: every connection is admin.
    public var tokens: [String: Role]?
    /// The primary this server follows from the start (`--replica-of`), if any.
    public var replicaOf: (host: String, port: Int)?
    /// Start read-only, following nobody until `REPLICAOF` (`--standby`).
    public var standby = false
    /// The token this server gives its primary (`--primary-auth`), an admin's.
    public var primaryToken: String?
    /// Replicas that must have a write durable before its client hears of it
    /// (`--sync-replicas`; 0: replication is asynchronous).
    public var syncReplicas = 0
    /// How long a reply waits for them before it is answered `NOREPLICAS`.
    public var syncTimeoutMilliseconds: Int64 = 1_000
    /// The HTTP side listener (`--http`: metrics and health); nil: none.
    public var http: (host: String, port: Int)?

    public init() {}

    /// A day: any longer timeout is a mistake (and NIO's time amounts overflow past ~292 years).
    public static let timeoutSecondsMax: Int64 = 86_400

    /// Checks the limits against each other at start-up.
    public func validate() throws(ServerStartError) {
        func require(_ condition: Bool, _ message: String) throws(ServerStartError) {
            if !condition { throw ServerStartError(message: message) }
        }
        try require(clientsMax >= 1 && pipelineDepthMax >= 1, "--max-clients and --max-pipeline must be at least 1")
        try require(clientsPerAddressMax >= 1, "--max-clients-per-address must be at least 1")
        try require(waitingRequestsMax >= 0 && waitingRequestsPerClientMax >= 0, "--max-waiting and --max-waiting-per-client must be 0 (no bound) or more")
        try require((0...Self.timeoutSecondsMax * 1_000).contains(queueDelayMaxMilliseconds), "--max-queue-ms must be 0 (no bound) to \(Self.timeoutSecondsMax * 1_000)")
        try require((0...100).contains(syncReplicas), "--sync-replicas must be in 0...100")
        try require((1...Self.timeoutSecondsMax * 1_000).contains(syncTimeoutMilliseconds), "--sync-timeout must be 1 to \(Self.timeoutSecondsMax * 1_000) ms")
        try require(adminReservedClients >= 0, "--admin-reserved-clients must not be negative")
        try require(authTimeoutSeconds >= 1 && requestTimeoutSeconds >= 1, "--auth-timeout and --request-timeout must be at least 1 second")
        try require(
            [authTimeoutSeconds, requestTimeoutSeconds, outputSoftSeconds, idleTimeoutSeconds].allSatisfy { $0 <= Self.timeoutSecondsMax },
            "timeouts are at most \(Self.timeoutSecondsMax) seconds")
        try require(outputSoftSeconds >= 1 && idleTimeoutSeconds >= 0, "--output-soft-seconds must be at least 1, --idle-timeout not negative")
        try require(authFailuresMax >= 1, "--max-auth-failures must be at least 1")
        try require(outputBytesSoftMax >= 64 << 10, "--max-output-bytes must be at least 64 KiB")
        try require(outputBytesHardMax >= outputBytesSoftMax, "--max-output-bytes-hard must be at least --max-output-bytes")
        try require(readAheadBytesMax >= limits.inlineLineBytesMax, "--max-read-ahead-bytes must be at least the longest inline line")
        try require(inputBytesBufferedMax >= limits.requestBytesMax, "--max-input-bytes must be at least --max-request-bytes")
    }
}
