import Foundation
import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineStorage
import NIOConcurrencyHelpers

/// The one dispatch path for every request: connection and server commands are
/// answered here, everything else is parsed by the core's `CommandTable` and
/// submitted to the engine. Checks happen in a fixed order, as in Redis:
/// authentication (anything but AUTH, HELLO, PING, ECHO and QUIT needs it), known
/// name, arity, the arguments' validation, then the role. It runs synchronously on the
/// engine's event loop, isolated to the engine.
final class CommandDispatcher: Sendable {
    /// What to send back, and when.
    struct Pending {
        var reply: RESPValue
        /// Send only once the WAL acknowledged this LSN (0: at once).
        var lsn: LSN = 0
        var closeAfter = false
        /// A reply that comes later (a snapshot being written).
        var later: EventLoopFuture<RESPValue>?
        /// Written the RESP3 way (the connection had said `HELLO 3` by then).
        var resp3 = false
        /// After this reply the connection is a replica's link (`PSYNC`): it is handed
        /// over to a `ReplicaFeed`.
        var feed: FeedStart?
        /// A reply about the server, not the data (`INFO`, `ROLE`): it waits for the
        /// WAL only, never for sync replicas, so that a health check always gets it.
        var aboutServer = false
        /// The request's command, uppercased as it came (for `RequestMetrics`).
        var command = ""
        /// The loop pass that decoded the request (for `RequestMetrics`).
        var receivedAt = NIODeadline.uptimeNanoseconds(0)
    }

    /// What a connection that became a replica's link starts feeding.
    struct FeedStart: Sendable {
        var streamer: ReplicaStreamer
        var follower: Replication.Follower
        var replication: NIOLoopBound<Replication>
    }

    /// One decoded request.
    struct Request: Sendable {
        var tokens: [String]
        /// Tokens that were not valid UTF-8, as they came (`RESPRequestDecoder.binaryTokens`).
        var binaryTokens: [Int: [UInt8]]?
    }

    struct Session: Sendable {
        /// nil until AUTH succeeds, when the server has a token file.
        var role: Role?
        var name = ""
        /// After `HELLO 3`: nulls and maps are written the RESP3 way.
        var resp3 = false
        /// The client's address, for log lines.
        var peer = ""
        /// Admitted over `clientsMax`, into a slot kept for admin.
        var keptForAdmin = false
        var authFailures = 0
        /// Between MULTI and EXEC: the requests queued.
        var transaction: Transaction?
        /// While EXEC runs them: every reply is made in that turn (no list off the loop).
        var runningTransaction = false
        /// Set by the connection before each request: the server or this connection has
        /// as many requests waiting as admission control allows (`waitingRequestsMax`),
        /// so a command for the engine is answered `LIMIT busy` at once.
        var busy = false
        /// A replica's port, as it said with `REPLCONF listening-port`.
        var replicaListeningPort = 0
        /// The LSN of this connection's last write, for `WAIT`.
        var lastWriteLSN: LSN = 0
    }

    /// `MULTI … EXEC`: requests checked and queued, then run together in one turn of
    /// the engine (no other client's request runs between them).
    struct Transaction: Sendable {
        var queued: [Request] = []
        var queuedBytes = 0
        /// Why EXEC will refuse (a request that could not be queued), as Redis does.
        var aborted = false
    }

    private let configuration: ServerConfiguration
    private let statistics: ServerStatistics
    private let clock: any EngineClock
    private let logger: Logger
    private let startedAt: ContinuousClock.Instant
    private let requestShutdown: @Sendable () -> Void
    /// Failed AUTHs are logged at most once a second (with how many were not).
    private let authFailureLog = AuthFailureLog()
    /// Where long lists are rendered, off the loop (the service starts and stops it).
    private let renderPool: NIOThreadPool
    private let replication: NIOLoopBound<Replication>
    /// Where change feeds stopped (`EVENTS.READ`), for the next read from there.
    private let feedCursors = ChangeFeedCursors()

    init(
        configuration: ServerConfiguration, statistics: ServerStatistics, clock: any EngineClock, logger: Logger,
        renderPool: NIOThreadPool, replication: NIOLoopBound<Replication>, requestShutdown: @escaping @Sendable () -> Void
    ) {
        self.renderPool = renderPool
        self.replication = replication
        self.configuration = configuration
        self.statistics = statistics
        self.clock = clock
        self.logger = logger
        self.startedAt = .now
        self.requestShutdown = requestShutdown
    }

    /// The session a new connection starts with.
    var initialSession: Session { Session(role: configuration.tokens == nil ? .admin : nil) }

    /// A request that arrives while the engine is still recovering.
    func handleWhileLoading(_ tokens: [String]) -> Pending {
        let name = CommandTable.asciiUppercased(tokens[0])
        guard CommandTable.info(uppercasedName: name)?.flags.contains(.allowedWhileLoading) == true else {
            return Pending(reply: .error("LOADING Orderline is replaying its log; try again shortly"))
        }
        return name == "QUIT" ? Pending(reply: .simple("OK"), closeAfter: true) : Pending(reply: .simple("PONG"))
    }

    /// One request, on the engine's loop.
    func handle(_ request: Request, session: inout Session, engine: isolated Engine) -> Pending {
        statistics.commandsProcessed.add(1, ordering: .relaxed)
        let name = CommandTable.asciiUppercased(request.tokens[0])
        var pending = dispatch(request, name: name, session: &session, engine: engine)
        pending.command = name
        return pending
    }

    private func dispatch(_ request: Request, name: String, session: inout Session, engine: isolated Engine) -> Pending {
        let tokens = request.tokens
        // The hot path first: an authenticated core command.
        if let role = session.role, session.transaction == nil, request.binaryTokens == nil,
           let spec = CommandTable.spec(uppercasedName: name) {
            if session.busy, !session.runningTransaction { return busy() }
            let pending = submit(tokens, spec: spec, role: role, rendersListsHere: session.runningTransaction, engine: engine)
            if spec.writes, pending.lsn > session.lastWriteLSN { session.lastWriteLSN = pending.lsn }
            return pending
        }
        let arguments = Array(tokens.dropFirst())
        // The registry says what the command is; the checks come in a fixed order:
        // authentication, known name, arity, arguments, MULTI, then the role.
        guard let registered = CommandTable.info(uppercasedName: name) else {
            guard session.role != nil else { return Pending(reply: .error("NOAUTH Authentication required.")) }
            return reject(CommandTable.unknownCommand(tokens), session: &session)
        }
        guard session.role != nil || registered.flags.contains(.allowedBeforeAuthentication) else {
            return Pending(reply: .error("NOAUTH Authentication required."))
        }
        guard registered.accepts(tokenCount: tokens.count) else { return reject(Self.arity(name), session: &session) }
        if let binary = request.binaryTokens, let index = binary.keys.min(), name != "PING", name != "ECHO" {
            return reject(
                Rejection(.invalid, "argument \(index) of \(name.prefix(40)) is not valid UTF-8 (only ECHO and PING take any bytes)"),
                session: &session)
        }
        if session.transaction != nil, !registered.flags.contains(.connection) { return queue(request, info: registered, session: &session) }
        switch name {
        case "PING":
            guard arguments.count <= 1 else { return arity(name) }
            return Pending(reply: arguments.isEmpty ? .simple("PONG") : Self.argument(1, of: request))
        case "ECHO":
            return Pending(reply: Self.argument(1, of: request))
        case "QUIT":
            return Pending(reply: .simple("OK"), closeAfter: true)
        case "AUTH":
            guard (1...2).contains(arguments.count) else { return arity(name) }
            // `AUTH <username> <password>` (redis-py, redis-cli --user) passes the token as the password.
            return authenticate(token: arguments[arguments.count - 1], session: &session) ?? Pending(reply: .simple("OK"))
        case "HELLO":
            return hello(arguments, session: &session, isReplica: engine.isReplica)
        case "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH":
            return transaction(name, arguments: arguments, session: &session, engine: engine)
        default:
            break
        }
        guard let role = session.role else { return Pending(reply: .error("NOAUTH Authentication required.")) }
        if let rejection = Self.permission(registered, role: role) { return Pending(reply: RESPValue(rejection)) }
        switch name {
        case "INFO":
            guard arguments.count <= 1 else { return arity(name) }
            // It shows lsn_last: sent once that is acknowledged, like any read.
            return Pending(reply: .bulk(info(section: arguments.first?.lowercased(), engine: engine)), lsn: engine.lsn, aboutServer: true)
        case "CONFIG":
            guard arguments.count == 2, arguments[0].uppercased() == "GET" else {
                return Pending(reply: .error("ERR only CONFIG GET <pattern> is supported"))
            }
            // A map under RESP3 (redis-py's `config_get()` reads one), pairs under RESP2.
            return Pending(reply: .map(configValues(matching: arguments[1]).map { ($0.0, RESPValue.bulk($0.1)) }))
        case "COMMAND":
            return command(arguments)
        case "CLIENT":
            return client(arguments, session: &session)
        case "SELECT":
            guard arguments.count == 1 else { return arity(name) }
            return Pending(reply: arguments[0] == "0" ? .simple("OK") : .error("ERR DB index is out of range"))
        case "DIGEST":
            guard arguments.isEmpty else { return arity(name) }
            // Hashing the whole state takes long (0.8 s with a million reservations):
            // done off the loop, from a copy (`Engine.startDigest`).
            let digest = engine.startDigest().map { RESPValue.bulk($0.description) }.recover { error in
                (error as? Rejection).map(RESPValue.init) ?? .error("IOERR digest failed: \(error)")
            }
            return Pending(reply: .simple(""), later: digest)
        case "SNAPSHOT":
            guard arguments.isEmpty else { return arity(name) }
            let written = engine.startSnapshot().map { RESPValue.simple("OK \($0)") }.recover { error in
                (error as? Rejection).map(RESPValue.init) ?? .error("IOERR snapshot failed: \(error)")
            }
            return Pending(reply: .simple(""), later: written)
        case "SHUTDOWN":
            requestShutdown()
            return Pending(reply: .simple("OK"), closeAfter: true)
        case "ROLE":
            return Pending(reply: .array(replication.value.role(lsn: engine.lsn, isReplica: engine.isReplica)), lsn: engine.lsn, aboutServer: true)
        case "REPLICAOF", "SLAVEOF":
            return replicaOf(arguments, engine: engine)
        case "REPLCONF":
            return replconf(arguments, session: &session)
        case "PSYNC":
            return psync(arguments, session: session, engine: engine)
        case "WAIT":
            return wait(arguments, session: session)
        case "EVENTS.READ":
            return eventsRead(arguments, session: session, engine: engine)
        case "ORDER.HISTORY":
            return orderHistory(arguments[0], role: role, engine: engine)
        case "CLOCK.ADVANCE":
            guard arguments.count == 1 else { return arity(name) }
            if engine.isReplica { return Pending(reply: RESPValue(Rejection.readOnlyReplica)) }
            guard let manual = clock as? ManualClock else {
                return Pending(reply: .error("ERR CLOCK.ADVANCE needs a server started with --clock manual"))
            }
            guard let seconds = Int64(arguments[0]), (1...Arguments.ttlSecondsMax * 365).contains(seconds) else {
                return Pending(reply: .error("INVALID seconds '\(arguments[0].prefix(40))' must be an integer in 1...\(Arguments.ttlSecondsMax * 365)"))
            }
            manual.advance(by: seconds)
            if let rejection = engine.fireDueExpiries() { return Pending(reply: RESPValue(rejection)) }
            return Pending(reply: .integer(manual.now()), lsn: engine.lsn)
        default:
            return Pending(reply: RESPValue(CommandTable.unknownCommand(tokens)))
        }
    }

    /// A request argument as it came: its bytes if they were not UTF-8.
    private static func argument(_ index: Int, of request: Request) -> RESPValue {
        if let bytes = request.binaryTokens?[index] { return .binary(bytes) }
        return .bulk(request.tokens[index])
    }

    /// Checks a token (AUTH, HELLO … AUTH): nil when it is good and the session now has
    /// its role; otherwise the reply. Failures are counted (INFO `auth_failures`),
    /// logged at most once a second, and close the connection after
    /// `authFailuresMax` of them; a slot kept for admin takes only an admin token.
    private func authenticate(token: String, session: inout Session) -> Pending? {
        guard let tokens = configuration.tokens else {
            return Pending(reply: .error("ERR AUTH called without any password configured; this server runs without --auth"))
        }
        guard let role = tokens[token] else {
            session.authFailures += 1
            statistics.authFailures.add(1, ordering: .relaxed)
            let closing = session.authFailures >= configuration.authFailuresMax
            if let suppressed = authFailureLog.mayLog(now: ContinuousClock.now) {
                logger.warning("AUTH with an unknown token", metadata: [
                    "client.address": "\(session.peer)", "auth.failures": "\(session.authFailures)",
                    "auth.failures_not_logged": "\(suppressed)", "connection.closing": "\(closing)",
                ])
            }
            return Pending(reply: .error("WRONGPASS invalid username-password pair or user is disabled."), closeAfter: closing)
        }
        if session.keptForAdmin, role != .admin {
            return Pending(
                reply: .error("LIMIT max number of clients reached (\(configuration.clientsMax)); the slots left are kept for admin"),
                closeAfter: true)
        }
        session.role = role
        return nil
    }

    /// `MULTI`, `EXEC`, `DISCARD` (and `WATCH`, which is refused: nothing can change
    /// between a transaction's requests, and optimistic checks are not offered).
    private func transaction(_ name: String, arguments: [String], session: inout Session, engine: isolated Engine) -> Pending {
        guard arguments.isEmpty || name == "WATCH" else { return arity(name) }
        switch name {
        case "MULTI":
            guard session.transaction == nil else { return Pending(reply: .error("ERR MULTI calls can not be nested")) }
            session.transaction = Transaction()
            return Pending(reply: .simple("OK"))
        case "DISCARD":
            guard session.transaction != nil else { return Pending(reply: .error("ERR DISCARD without MULTI")) }
            session.transaction = nil
            return Pending(reply: .simple("OK"))
        case "EXEC":
            guard let transaction = session.transaction else { return Pending(reply: .error("ERR EXEC without MULTI")) }
            session.transaction = nil
            if transaction.aborted {
                return Pending(reply: .error("EXECABORT Transaction discarded because of previous errors."))
            }
            // Refused whole, before any of it runs: the client retries the transaction.
            if session.busy { return busy() }
            statistics.transactionsRun.add(1, ordering: .relaxed)
            // All in this one synchronous call, isolated to the engine: atomic towards
            // every other client. The reply goes once the last write is durable.
            var replies: [RESPValue] = []
            var lsn: LSN = 0
            session.runningTransaction = true
            for request in transaction.queued {
                let pending = handle(request, session: &session, engine: engine)
                replies.append(pending.reply)
                lsn = max(lsn, pending.lsn)
            }
            session.runningTransaction = false
            return Pending(reply: .array(replies), lsn: lsn)
        case "UNWATCH":
            return Pending(reply: .simple("OK"))  // nothing is ever watched
        default:
            if session.transaction != nil { return reject(Rejection(.err, "WATCH inside MULTI is not allowed"), session: &session) }
            return Pending(reply: .error("ERR WATCH is not supported: a MULTI/EXEC transaction runs in one turn of the engine; check what it depends on inside it"))
        }
    }

    /// Queues a request inside MULTI, after the checks that need no state (known
    /// command, arity, arguments); a failed check aborts the transaction. Lists are
    /// refused: EXEC makes every reply in one turn of the loop, and a list of a thousand
    /// orders alone takes 90 ms (they gain nothing from a transaction anyway).
    private func queue(_ request: Request, info: CommandInfo, session: inout Session) -> Pending {
        let tokens = request.tokens
        if info.flags.contains(.notInTransaction) {
            let why = info.flags.contains(.write) || !info.name.hasSuffix(".LIST")
                ? "only the core commands, PING and ECHO are" : "a long list is made off the loop; run it outside"
            return reject(Rejection(.err, "\(info.name) is not allowed inside MULTI (\(why))"), session: &session)
        }
        if let spec = CommandTable.spec(uppercasedName: info.name) {
            do {
                _ = try CommandTable.parse(tokens, spec: spec)
            } catch {
                return reject(error, session: &session)
            }
        }
        let bytes = tokens.reduce(0) { $0 + $1.utf8.count }
        guard session.transaction!.queued.count < Self.transactionRequestsMax,
              session.transaction!.queuedBytes + bytes <= Self.transactionBytesMax
        else {
            return reject(
                Rejection(.limit, "a transaction holds at most \(Self.transactionRequestsMax) requests of \(Self.transactionBytesMax) bytes in all"),
                session: &session)
        }
        session.transaction!.queued.append(request)
        session.transaction!.queuedBytes += bytes
        return Pending(reply: .simple("QUEUED"))
    }

    /// What one MULTI may queue: EXEC runs it all in one turn of the loop (a thousand
    /// three-line orders are ~70 ms), and the queue is held in memory until then.
    static let transactionRequestsMax = 1_000
    static let transactionBytesMax = 1 << 20

    /// Admission control's answer: nothing ran, so the client may simply retry.
    private func busy() -> Pending {
        statistics.rejectedBusy.add(1, ordering: .relaxed)
        return Pending(reply: RESPValue(Rejection(.limit, "busy, retry")))
    }

    /// A rejection that also aborts the transaction in progress, if any.
    private func reject(_ rejection: Rejection, session: inout Session) -> Pending {
        session.transaction?.aborted = true
        return Pending(reply: RESPValue(rejection))
    }

    private func submit(_ tokens: [String], spec: CommandSpec, role: Role, rendersListsHere: Bool, engine: isolated Engine) -> Pending {
        // With sync replicas, a write that too few replicas could cover is refused
        // before anything is written, as Redis's min-replicas-to-write does.
        if spec.writes, configuration.syncReplicas > 0, replication.value.followers.count < configuration.syncReplicas, !engine.isReplica {
            return Pending(reply: RESPValue(Rejection.notEnoughReplicas))
        }
        let command: Command
        do {
            command = try CommandTable.parse(tokens, spec: spec)
        } catch {
            return Pending(reply: RESPValue(error))
        }
        switch command {
        case .orderList, .shipmentList:
            if let listed = engine.submitList(command, as: role) { return list(listed, offTheLoop: !rendersListsHere, engine: engine) }
        default:
            break
        }
        let submission = engine.submit(command, as: role)
        switch submission.outcome {
        case .success(let reply): return Pending(reply: RESPValue(reply), lsn: submission.lsn)
        case .failure(let rejection): return Pending(reply: RESPValue(rejection), lsn: submission.lsn)
        }
    }

    /// A list of more than this many entries is rendered off the loop.
    static let listRenderedInlineMax = 16

    /// A long list's JSON is rendered on NIO's thread pool, so the loop serves others
    /// meanwhile; the reply still waits its turn and for the LSN it saw.
    private func list(_ listed: (outcome: Result<ListRendering, Rejection>, lsn: LSN), offTheLoop: Bool, engine: isolated Engine) -> Pending {
        switch listed.outcome {
        case .failure(let rejection):
            return Pending(reply: RESPValue(rejection), lsn: listed.lsn)
        case .success(let rendering) where rendering.count <= Self.listRenderedInlineMax || !offTheLoop:
            return Pending(reply: RESPValue(rendering.reply()), lsn: listed.lsn)
        case .success(let rendering):
            let rendered = renderPool.runIfActive(eventLoop: engine.eventLoop) { RESPValue(rendering.reply()) }
            return Pending(reply: .simple(""), lsn: listed.lsn, later: rendered)
        }
    }

    /// Server commands by role, from their flags: admin's (`SNAPSHOT`, `SHUTDOWN`,
    /// `CLOCK.ADVANCE`), and those that show the whole server (`INFO`, `CONFIG`,
    /// `DIGEST`) for admin, ops and viewer. Core commands are `authorize`d by the engine.
    static func permission(_ info: CommandInfo, role: Role) -> OrderlineCore.Rejection? {
        let allowed = info.flags.contains(.admin) ? role == .admin
            : info.flags.contains(.serverWide) ? role.readsWholeServer
            : true
        return allowed ? nil : Rejection(.noPermission, "\(role) may not run \(info.name)")
    }

    /// `COMMAND`, `COMMAND COUNT`, `COMMAND INFO <name>…` (`COMMAND DOCS` is empty): the
    /// registry as Redis shows it, so that redis-cli and cluster-aware clients find names,
    /// arity and keys.
    private func command(_ arguments: [String]) -> Pending {
        func entry(_ info: CommandInfo) -> RESPValue {
            .array([
                .bulk(info.name.lowercased()), .integer(Int64(info.arity)), .array(info.flags.names.map { .simple($0) }),
                .integer(Int64(info.firstKey)), .integer(Int64(info.lastKey)), .integer(Int64(info.keyStep)),
                .array([]), .array([]), .array([]), .array([]),
            ])
        }
        switch arguments.first?.uppercased() {
        case nil: return Pending(reply: .array(CommandTable.registry.map(entry)))
        case "COUNT": return Pending(reply: .integer(Int64(CommandTable.registry.count)))
        case "INFO":
            return Pending(reply: .array(arguments.dropFirst().map { name in
                CommandTable.info(uppercasedName: CommandTable.asciiUppercased(name)).map(entry) ?? .array(nil)
            }))
        case "DOCS": return Pending(reply: .array([]))
        default: return Pending(reply: .error("ERR unknown COMMAND subcommand '\(arguments[0].prefix(40))'"))
        }
    }

    private func arity(_ name: String) -> Pending { Pending(reply: RESPValue(Self.arity(name))) }

    private static func arity(_ name: String) -> Rejection {
        Rejection(.err, "wrong number of arguments for '\(name.lowercased())' command")
    }

    /// `HELLO [2|3 [AUTH <user> <token>] [SETNAME <name>]]`. RESP3 is offered because
    /// client libraries such as redis-py 8 start with `HELLO 3`; every reply this
    /// server gives is the same in both but for nulls and this map.
    private func hello(_ arguments: [String], session: inout Session, isReplica: Bool) -> Pending {
        var version = session.resp3 ? 3 : 2
        var rest = arguments[...]
        if let first = rest.first {
            guard let asked = Int(first), asked == 2 || asked == 3 else {
                return Pending(reply: .error("NOPROTO unsupported protocol version"))
            }
            version = asked
            rest = rest.dropFirst()
        }
        var role = session.role
        var name = session.name
        while let option = rest.first?.uppercased() {
            switch (option, rest.count) {
            case ("AUTH", 3...):
                var trial = session
                if let refused = authenticate(token: rest[rest.startIndex + 2], session: &trial) {
                    session.authFailures = trial.authFailures
                    return refused
                }
                role = trial.role
                rest = rest.dropFirst(3)
            case ("SETNAME", 2...):
                name = rest[rest.startIndex + 1]
                rest = rest.dropFirst(2)
            default:
                return Pending(reply: .error("ERR syntax error in HELLO option '\(option.prefix(40))'"))
            }
        }
        guard role != nil else {
            return Pending(reply: .error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"))
        }
        session.role = role
        session.name = name
        session.resp3 = version == 3
        return Pending(reply: .map([
            ("server", .bulk("orderline")), ("version", .bulk("0.1.0")), ("proto", .integer(Int64(version))),
            ("id", .integer(0)), ("mode", .bulk("standalone")),
            ("role", .bulk(isReplica ? "replica" : "master")), ("modules", .array([])),
        ]))
    }

    private func client(_ arguments: [String], session: inout Session) -> Pending {
        switch arguments.first?.uppercased() {
        case "SETINFO": return arguments.count == 3 ? Pending(reply: .simple("OK")) : arity("client|setinfo")
        case "SETNAME":
            guard arguments.count == 2 else { return arity("client|setname") }
            session.name = arguments[1]
            return Pending(reply: .simple("OK"))
        case "GETNAME": return Pending(reply: .bulk(session.name.isEmpty ? nil : session.name))
        default: return Pending(reply: .error("ERR unknown CLIENT subcommand '\(arguments.first ?? "")'"))
        }
    }

    /// The few settings `redis-benchmark` and client libraries ask about.
    private func configValues(matching pattern: String) -> [(String, String)] {
        let values = [
            ("save", ""), ("appendonly", "no"), ("maxclients", String(configuration.clientsMax)),
            ("port", String(configuration.port)), ("bind", configuration.host),
        ]
        return values.filter { glob(pattern.lowercased(), matches: $0.0) }
    }

    private func glob(_ pattern: String, matches text: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let prefix = pattern[..<star]
        let rest = String(pattern[pattern.index(after: star)...])
        guard text.hasPrefix(prefix) else { return false }
        var tail = text.dropFirst(prefix.count)
        while true {
            if glob(rest, matches: String(tail)) { return true }
            guard !tail.isEmpty else { return false }
            tail = tail.dropFirst()
        }
    }

    /// What a first run lacks before an order can ship (INFO `setup_missing`): `none`
    /// once nodes and carrier services exist.
    static func setupMissing(nodes: Int, carrierServices: Int) -> String {
        var missing: [String] = []
        if nodes == 0 { missing.append("no nodes are configured: NODE.ADD") }
        if carrierServices == 0 { missing.append("no carrier services are configured: CARRIER.SET") }
        return missing.isEmpty ? "none" : missing.joined(separator: "; ")
    }

    private func info(section: String?, engine: isolated Engine) -> String {
        let wal = engine.walStatistics
        let policy = engine.configuration.fsyncPolicy
        let lsn = engine.lsn
        let uptime = ContinuousClock.now - startedAt
        let commands = statistics.commandsProcessed.load(ordering: .relaxed)
        let seconds = max(1, uptime.components.seconds)
        let ratio = wal.bytesOnDisk > 0 ? Double(wal.rawBytes) / Double(wal.bytesOnDisk) : 0
        let parts = engine.state.parts
        let home = engine.state.home
        let reservationsKept = parts.reduce(0) { $0 + $1.reservations.count }
        let reservationPages = parts.reduce(0) { $0 + $1.reservations.storage.pages }
        let reservationsUnpaged = parts.reduce(0) { $0 + $1.reservations.storage.spilled }
        var shards: [(String, String)] = [
            ("shards", String(parts.count)), ("shard_loops", "1"),
            ("cross_shard_order_events", String(engine.state.crossShardOrderEvents)), ("home_orders", String(home.orders.count)),
        ]
        for (index, part) in parts.enumerated() {
            shards.append(("shard_\(index)", "skus=\(part.skus.count),reservations=\(part.reservations.count),transfers=\(part.transfers.count)"))
        }
        let sections: [(String, [(String, String)])] = [
            ("server", [
                ("orderline_version", "0.1.0"), ("process_id", String(getpid())), ("tcp_port", String(configuration.port)),
                ("uptime_in_seconds", String(uptime.components.seconds)), ("clock", configuration.manualClock ? "manual" : "system"),
                ("nodes", String(home.nodes.count)), ("carrier_services", String(home.rateCard.services.count)),
                ("setup_missing", Self.setupMissing(nodes: home.nodes.count, carrierServices: home.rateCard.services.count)),
            ]),
            ("clients", [
                ("connected_clients", String(statistics.connectedClients.load(ordering: .relaxed))),
                ("maxclients", String(configuration.clientsMax)),
                ("rejected_connections", String(statistics.rejectedConnections.load(ordering: .relaxed))),
                ("input_buffered_bytes", String(statistics.inputBytesBuffered.load(ordering: .relaxed))),
                ("closed_for_output_limit", String(statistics.closedForOutput.load(ordering: .relaxed))),
                ("closed_for_input_limit", String(statistics.closedForInput.load(ordering: .relaxed))),
                ("closed_for_timeout", String(statistics.closedForTimeout.load(ordering: .relaxed))),
                ("requests_waiting", String(statistics.requestsWaiting.load(ordering: .relaxed))),
                ("max_waiting", String(configuration.waitingRequestsMax)),
                ("max_waiting_per_client", String(configuration.waitingRequestsPerClientMax)),
                ("max_queue_ms", String(configuration.queueDelayMaxMilliseconds)),
                ("loop_lag_us", String(statistics.loopLagMicroseconds.load(ordering: .relaxed))),
            ]),
            ("persistence", [
                ("fsync_policy", policy.rawValue),
                ("durability", policy == .always ? "every reply is fsynced" : "replies may precede fsync (weaker than always)"),
                ("lsn_last", String(lsn)), ("lsn_written", String(wal.lsnWritten)), ("lsn_durable", String(wal.lsnDurable)),
                ("wal_bytes", String(wal.bytesOnDisk)), ("wal_raw_bytes", String(wal.rawBytes)),
                ("wal_compression_ratio", String(format: "%.2f", ratio)), ("wal_frames", String(wal.frames)),
                ("wal_fsyncs", String(wal.fsyncs)), ("wal_fsync_max_us", String(wal.fsyncMicrosecondsMax)),
                ("wal_fsyncs_over_10ms", String(wal.fsyncsOver10Milliseconds)),
                ("last_snapshot_lsn", engine.lastSnapshotLSN.map(String.init) ?? "none"), ("wal_segments_created", String(wal.segments)),
                ("wal_failure", wal.failure ?? "none"),
            ]),
            ("stats", [
                ("total_connections_received", String(statistics.totalConnections.load(ordering: .relaxed))),
                ("total_commands_processed", String(commands)),
                ("average_ops_per_sec", String(commands / Int(seconds))),
                ("auth_failures", String(statistics.authFailures.load(ordering: .relaxed))),
                ("transactions_run", String(statistics.transactionsRun.load(ordering: .relaxed))),
                ("soldout_replies", String(engine.soldOutReplies)),
                ("rejected_busy", String(statistics.rejectedBusy.load(ordering: .relaxed))),
            ]),
            ("shards", shards),
            ("replication", replication.value.infoFields(lsn: lsn, isReplica: engine.isReplica, now: .now())),
            ("reservations", [
                ("reservations_kept", String(reservationsKept)), ("reservation_pages", String(reservationPages)),
                ("reservations_unpaged", String(reservationsUnpaged)),
            ]),
            ("orders", [
                ("orders", String(home.orders.count)),
                ("shipments_in_work_queues", String(home.workQueues.values.reduce(0) { $0 + $1.count })),
                ("nodes_with_work", String(home.workQueues.count)),
                ("customers", String(home.customers.count)),
                ("oversell_count", String(home.oversellCount)),
            ]),
        ]
        return sections.filter { section == nil || section == "all" || section == $0.0 }.map { name, fields in
            "# \(name.prefix(1).uppercased() + name.dropFirst())\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined()
        }.joined(separator: "\r\n")
    }
}


// MARK: Replication

extension CommandDispatcher {
    /// `REPLICAOF <host> <port> [RESYNC]` follows a primary (with `RESYNC`, replacing
    /// this server's log by the primary's snapshot first: for a replica refused as
    /// diverged); `REPLICAOF NO ONE` stops following and takes writes again.
    private func replicaOf(_ arguments: [String], engine: isolated Engine) -> Pending {
        let replication = replication.value
        let (host, portText) = (arguments[0], arguments[1])
        let resync = arguments.count == 3 && arguments[2].uppercased() == "RESYNC"
        guard arguments.count == 2 || resync else {
            return Pending(reply: .error("INVALID REPLICAOF takes <host> <port> [RESYNC] or NO ONE"))
        }
        if host.uppercased() == "NO", portText.uppercased() == "ONE" {
            guard !resync else { return Pending(reply: .error("INVALID REPLICAOF NO ONE takes no RESYNC")) }
            let promoted = replication.promote(engine: engine).map { RESPValue.simple("OK") }.recover { error in
                (error as? Rejection).map(RESPValue.init) ?? .error("IOERR \(error)")
            }
            return Pending(reply: .simple(""), later: promoted)
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            return Pending(reply: .error("INVALID port '\(portText.prefix(40))' must be an integer in 1...65535"))
        }
        guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0 == " " || $0.isNewline }) else {
            return Pending(reply: .error("INVALID host '\(host.prefix(40))' is not a host name or address"))
        }
        if !resync, let link = replication.link, link.host == host, link.port == port {
            return Pending(reply: .simple("OK Already connected to specified master"))
        }
        replication.follow(host: host, port: port, resync: resync, engine: engine)
        return Pending(reply: .simple("OK"))
    }

    /// `REPLCONF listening-port <port>` (a replica's port, for INFO and ROLE); other
    /// options are taken and ignored, as Redis does with those it does not need.
    private func replconf(_ arguments: [String], session: inout Session) -> Pending {
        guard arguments.count % 2 == 0 else { return Pending(reply: .error("ERR syntax error")) }
        for index in stride(from: 0, to: arguments.count, by: 2) where arguments[index].lowercased() == "listening-port" {
            guard let port = Int(arguments[index + 1]), (0...65535).contains(port) else {
                return Pending(reply: .error("INVALID listening-port '\(arguments[index + 1].prefix(40))' must be in 0...65535"))
            }
            session.replicaListeningPort = port
        }
        return Pending(reply: .simple("OK"))
    }

    /// `WAIT <replicas> <timeout ms>`: how many replicas acknowledged this connection's
    /// last write, once `<replicas>` have or the timeout (0: none) passed.
    private func wait(_ arguments: [String], session: Session) -> Pending {
        guard let replicas = Int(arguments[0]), (0...1_000).contains(replicas) else {
            return Pending(reply: .error("INVALID numreplicas '\(arguments[0].prefix(40))' must be an integer in 0...1000"))
        }
        guard let milliseconds = Int64(arguments[1]), (0...ServerConfiguration.timeoutSecondsMax * 1_000).contains(milliseconds) else {
            return Pending(reply: .error("INVALID timeout '\(arguments[1].prefix(40))' must be milliseconds in 0...\(ServerConfiguration.timeoutSecondsMax * 1_000)"))
        }
        let counted = replication.value.wait(
            for: session.lastWriteLSN, replicas: replicas, timeout: milliseconds == 0 ? nil : .milliseconds(milliseconds))
        return Pending(reply: .simple(""), later: counted.map { RESPValue.integer(Int64($0)) })
    }

    /// `EVENTS.READ FROM <lsn> …` (`ChangeFeed`): admin, ops and viewer read every
    /// event; a `channel:<name>` token those of its channel's orders.
    private func eventsRead(_ arguments: [String], session: Session, engine: isolated Engine) -> Pending {
        let channel: String?
        switch session.role {
        case let role? where role.readsWholeServer: channel = nil
        case .channel(let name)?: channel = name
        default: return Pending(reply: RESPValue(Rejection(.noPermission, "\(session.role.map(String.init(describing:)) ?? "?") may not run EVENTS.READ")))
        }
        let query: ChangeFeedQuery
        do {
            query = try ChangeFeedQuery(arguments, blockMillisecondsMax: ServerConfiguration.timeoutSecondsMax * 1_000)
        } catch {
            return Pending(reply: RESPValue(error))
        }
        let read = ChangeFeedRead(engine: engine, query: query, cursors: feedCursors, channel: channel, pool: renderPool)
        return Pending(reply: .simple(""), later: read.start())
    }

    /// `ORDER.HISTORY <order>` (`OrderHistory`), scoped as `ORDER.GET` is.
    private func orderHistory(_ order: String, role: Role, engine: isolated Engine) -> Pending {
        if let rejection = engine.state.authorize(.orderGet(order), as: role) { return Pending(reply: RESPValue(rejection)) }
        guard engine.state.home.orders[order] != nil else { return Pending(reply: RESPValue(Rejection.notFound("order \(order)"))) }
        let (span, directory, acknowledged) = (engine.orderSpans[order], engine.directory, engine.wal.lsnAcknowledged)
        let history = renderPool.runIfActive(eventLoop: engine.eventLoop) {
            RESPValue.bulk(try OrderHistory.read(order: order, span: span, in: directory, acknowledged: acknowledged))
        }.recover { error in
            .error("IOERR the log cannot be read: \(error)")
        }
        return Pending(reply: .simple(""), later: history)
    }

    /// `PSYNC <term> <lsn>`: the replica has the log up to `<lsn>`, whose last event is
    /// in `<term>` (`<number>:<first LSN>`, or `?` for a replica with no events yet).
    /// If this server's history places `<lsn>` in that same term, the replica's log is
    /// a prefix of this one and the connection carries the rest (`ReplicaFeed`, whose
    /// streamer answers `+CONTINUE`, or `+FULLRESYNC` when the segments it needs are
    /// gone); otherwise it is refused as diverged. `PSYNC ? -1` asks for a full re-sync
    /// whatever the replica holds (`REPLICAOF <host> <port> RESYNC`), as in Redis.
    private func psync(_ arguments: [String], session: Session, engine: isolated Engine) -> Pending {
        let history = replication.value.history
        let fullResyncAsked = arguments[0] == "?" && arguments[1] == "-1"
        let after = fullResyncAsked ? 0 : LSN(arguments[1])
        guard let after else {
            return Pending(reply: .error("INVALID lsn '\(arguments[1].prefix(40))' must be a non-negative integer (or -1 with ?)"))
        }
        // `?`: a replica with no events yet; otherwise the term of its last event.
        let term = ReplicationHistory.Term(arguments[0])
        guard arguments[0] == "?" ? after == 0 : term != nil else {
            return Pending(reply: .error("INVALID term '\(arguments[0].prefix(40))' must be <number>:<first LSN> (or ? at LSN 0)"))
        }
        let resyncHint = "re-sync it with REPLICAOF <host> <port> RESYNC (its log is set aside in replaced/)"
        guard after <= engine.lsn else {
            return Pending(reply: .error(
                "ERR the replica is at LSN \(after), ahead of this server (LSN \(engine.lsn)): its log holds events this one "
                    + "does not have; \(resyncHint)"))
        }
        if let term, term != history.term(at: after) {
            return Pending(reply: .error(
                "ERR the replica's log diverged from this server's: its LSN \(after) is in term \(term), here in term "
                    + "\(history.term(at: after)) (history \(history)); \(resyncHint)"))
        }
        let streamer = ReplicaStreamer(
            directory: engine.directory, wal: engine.wal, after: after, lsnLast: engine.lsn, fullResyncAsked: fullResyncAsked,
            history: history, logger: logger)
        let follower = Replication.Follower(address: session.peer, listeningPort: session.replicaListeningPort, acknowledged: after)
        // The streamer answers, once it has looked at the segments (off the loop).
        return Pending(reply: .simple(""), feed: FeedStart(streamer: streamer, follower: follower, replication: replication))
    }
}

/// Rate limit for the log line of a failed AUTH: a client trying tokens in a loop
/// must not flood the log (it is counted in INFO either way).
final class AuthFailureLog: Sendable {
    private let state = NIOLockedValueBox<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    /// Whether to log now, and how many were not logged since the last line.
    func mayLog(now: ContinuousClock.Instant) -> Int? {
        state.withLockedValue { state in
            if let last = state.last, now - last < .seconds(1) {
                state.suppressed += 1
                return nil
            }
            let suppressed = state.suppressed
            state = (now, 0)
            return suppressed
        }
    }
}
