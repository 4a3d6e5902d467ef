import ArgumentParser
import Foundation
import Logging
import OrderlineCore
import OrderlineServer
import NIOPosix
import OrderlineProtocol
import OrderlineStorage
import ServiceLifecycle
import NIOConcurrencyHelpers

extension FsyncPolicy: ExpressibleByArgument {}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Recover the data directory and serve it.",
        discussion: """
            Recovery loads the newest valid snapshot and replays the WAL after it; a torn \
            last frame is cut off and reported; a damaged frame with valid data after it \
            stops the start (see --truncate-corrupt). Then it listens for RESP2 and inline \
            commands and prints 'ready on <host>:<port> lsn=<n>'. SIGTERM or SIGINT drains, \
            fsyncs and exits 0.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed in the ready line).") var port = 7379
    @Option(help: "Shards that own the SKUs' state (any number from 1 to 1024: the same answers and digest for each).")
    var shards = 1
    @Option(help: "Token file: one '<token> <role>' per line (see docs/COMMANDS.md); clients must AUTH.") var auth: String?
    @Option(help: "Close connections idle this many seconds (0: never).") var idleTimeout: Int64 = 0
    @Option(help: "Maximum clients.") var maxClients = 10_000
    @Option(help: "Longest inline request line, in bytes.") var maxInlineBytes = 64 * 1024
    @Option(help: "Longest bulk string, in bytes.") var maxBulkBytes = 1024 * 1024
    @Option(help: "Most elements in a request array.") var maxArrayElements = 1_024
    @Option(help: "Largest request (all its elements together), in bytes.") var maxRequestBytes = 64 * 1024 * 1024
    @Option(help: "Replies a connection may have outstanding before it stops being read.") var maxPipeline = 1_024
    @Option(help: "Connections from one address at most.") var maxClientsPerAddress = 1_000
    @Option(help: "Admission control: with this many requests waiting for their replies over all connections, more are answered LIMIT busy at once (0: no bound).")
    var maxWaiting = 0
    @Option(help: "The same bound for one connection (0: none; its requests wait for room instead, --max-pipeline).")
    var maxWaitingPerClient = 0
    @Option(help: "Admission control: a request that waited in the server's input longer than this many milliseconds is answered LIMIT busy (0: no bound).")
    var maxQueueMs: Int64 = 0
    @Option(help: "With --auth: connections accepted beyond --max-clients for an admin token only.") var adminReservedClients = 32
    @Option(help: "With --auth: seconds a connection may take to authenticate.") var authTimeout: Int64 = 10
    @Option(help: "Seconds a request may take to arrive in full once begun.") var requestTimeout: Int64 = 30
    @Option(help: "Failed AUTHs after which a connection is closed.") var maxAuthFailures = 3
    @Option(help: "Bytes of replies a connection may have waiting before its requests stop running.")
    var maxOutputBytes = 4 << 20
    @Option(help: "A connection with more bytes of replies waiting than this is closed.") var maxOutputBytesHard = 64 << 20
    @Option(help: "A connection over --max-output-bytes for this many seconds is closed.") var outputSoftSeconds: Int64 = 60
    @Option(help: "Bytes a connection may read ahead while its replies wait.") var maxReadAheadBytes = 32 << 20
    @Option(help: "Unprocessed input held across all connections, in bytes.") var maxInputBytes = 512 << 20
    @Option(help: "Data directory (created if missing).") var data = "./orderline-data"
    @Option(help: "always | interval | never") var fsync: FsyncPolicy = .always
    @Option(help: "A directory of command files applied once to an empty data directory (Data/ holds the demo).")
    var seed: String?
    @Option(help: "system | manual") var clock = "system"
    @Option(help: "Snapshot after this many events (0: only on demand).") var snapshotEvery = 1_000_000
    @Option(help: "Snapshots kept; WAL segments covered by the oldest kept one are removed.") var snapshotsKept = 2
    @Flag(help: "Keep every WAL segment (for drills that replay from LSN 1).") var keepWal = false
    @Flag(help: "Cut the WAL at a corrupt frame instead of refusing to start (loses what follows).")
    var truncateCorrupt = false
    @Flag(help: "Start although the log ends before the LSN its CHECKPOINT says was durable (acknowledged events are lost).")
    var acceptDataLoss = false
    @Flag(help: "Start although the log's last time is more than 10 minutes ahead of the system clock.")
    var acceptClockSkew = false
    @Option(help: "Follow this primary (<host>:<port>) as a read-only replica; REPLICAOF NO ONE promotes it.") var replicaOf: String?
    @Flag(help: "Start read-only, following no primary until REPLICAOF <host> <port> or REPLICAOF NO ONE (how a failover agent starts its server).")
    var standby = false
    @Option(help: "With --replica-of: a file holding the admin token to AUTH with at the primary.") var primaryAuth: String?
    @Option(help: "Replicas that must have each write durable before its client is answered (0: asynchronous).") var syncReplicas = 0
    @Option(help: "With --sync-replicas: milliseconds a reply waits for them before it is answered NOREPLICAS.") var syncTimeout: Int64 = 1_000
    @Option(help: "Serve GET /metrics (Prometheus) and GET /healthz over HTTP at <host>:<port> (port 0: any free one, printed on stderr). Beyond loopback only with --auth.")
    var http: String?
    @Option(help: "Reservations one pos:<node> or channel:<name> scope may hold at once (its tokens together).") var maxHeldPerOwner = 100_000
    @Option(help: "Units in one reservation by a pos:<node> or channel:<name> scope.") var maxCartUnits: Int64 = 100
    @Option(help: "Orders of a channel waiting for stock, at most, for a channel:<name> token to place another.") var maxBackordersPerChannel = 1_000

    private var limits: ProtocolLimits {
        var limits = ProtocolLimits()
        limits.inlineLineBytesMax = maxInlineBytes
        limits.bulkBytesMax = maxBulkBytes
        limits.arrayElementsMax = maxArrayElements
        limits.requestBytesMax = maxRequestBytes
        return limits
    }

    private func serverConfiguration(tokens: [String: Role]?) -> ServerConfiguration {
        var server = ServerConfiguration()
        server.host = host
        server.port = port
        server.clientsMax = maxClients
        server.clientsPerAddressMax = maxClientsPerAddress
        server.adminReservedClients = adminReservedClients
        server.limits = limits
        server.pipelineDepthMax = maxPipeline
        server.waitingRequestsMax = maxWaiting
        server.waitingRequestsPerClientMax = maxWaitingPerClient
        server.queueDelayMaxMilliseconds = maxQueueMs
        server.idleTimeoutSeconds = idleTimeout
        server.authTimeoutSeconds = authTimeout
        server.requestTimeoutSeconds = requestTimeout
        server.authFailuresMax = maxAuthFailures
        server.outputBytesSoftMax = maxOutputBytes
        server.outputBytesHardMax = maxOutputBytesHard
        server.outputSoftSeconds = outputSoftSeconds
        server.readAheadBytesMax = maxReadAheadBytes
        server.inputBytesBufferedMax = maxInputBytes
        server.manualClock = self.clock == "manual"
        server.tokens = tokens
        server.replicaOf = replicaOf.flatMap { Self.hostAndPort($0) }
        server.syncReplicas = syncReplicas
        server.standby = standby
        server.syncTimeoutMilliseconds = syncTimeout
        server.http = http.flatMap { Self.hostAndPort($0, allowingAnyPort: true) }
        return server
    }

    func validate() throws {
        guard clock == "system" || clock == "manual" else { throw ValidationError("--clock must be system or manual") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...ShardMap.shardCountMax).contains(shards) else { throw ValidationError("--shards must be in 1...\(ShardMap.shardCountMax)") }
        if let http, Self.hostAndPort(http, allowingAnyPort: true) == nil {
            throw ValidationError("--http must be <host>:<port>, not '\(http.prefix(100))'")
        }
        if auth == nil {
            // What the name resolves to counts, not how it reads: 127.evil.example may be 0.0.0.0.
            for (option, host) in [("--host", host)] + (http.flatMap { Self.hostAndPort($0, allowingAnyPort: true) }.map { [("--http", $0.host)] } ?? []) {
                let addresses = HostAddresses.resolve(host)
                guard !addresses.isEmpty else { throw ValidationError("\(option) \(host.prefix(100)) does not resolve to an address") }
                guard addresses.allSatisfy(HostAddresses.isLoopback) else {
                    throw ValidationError(
                        "without --auth the server listens on loopback only; \(option) \(host.prefix(100)) is \(addresses.joined(separator: ", "))")
                }
            }
        }
        do {
            try limits.validate()
            try serverConfiguration(tokens: nil).validate()
        } catch let error as ProtocolError {
            throw ValidationError("\(error.message)")
        } catch {
            throw ValidationError("\(error)")
        }
        guard snapshotsKept >= 1 else { throw ValidationError("--snapshots-kept must be at least 1") }
        guard maxHeldPerOwner >= 1, maxCartUnits >= 1, maxBackordersPerChannel >= 0 else {
            throw ValidationError("--max-held-per-owner and --max-cart-units must be at least 1, --max-backorders-per-channel not negative")
        }
        guard snapshotEvery >= 0 else { throw ValidationError("--snapshot-every must not be negative") }
        if let replicaOf {
            guard Self.hostAndPort(replicaOf) != nil else { throw ValidationError("--replica-of must be <host>:<port>, not '\(replicaOf.prefix(100))'") }
            guard seed == nil else { throw ValidationError("--seed and --replica-of exclude each other: a replica's data comes from its primary") }
        }
        guard primaryAuth == nil || replicaOf != nil || standby else { throw ValidationError("--primary-auth needs --replica-of or --standby") }
        guard !(standby && replicaOf != nil) else { throw ValidationError("--standby and --replica-of exclude each other") }
        guard !(standby && seed != nil) else { throw ValidationError("--seed and --standby exclude each other") }
    }

    /// `<host>:<port>`, the port in 1...65535 (or 0, any free one, `allowingAnyPort`).
    static func hostAndPort(_ text: String, allowingAnyPort: Bool = false) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              ((allowingAnyPort ? 0 : 1)...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var configuration = Engine.Configuration(dataDirectory: data)
        configuration.fsyncPolicy = fsync
        configuration.snapshotEveryEvents = snapshotEvery
        configuration.shardCount = shards
        configuration.snapshotsKept = snapshotsKept
        configuration.keepAllSegments = keepWal
        configuration.truncateAtCorruption = truncateCorrupt
        configuration.acceptLostTail = acceptDataLoss
        if acceptClockSkew { configuration.clockSkewSecondsMax = nil }
        configuration.quotas.heldReservationsMax = maxHeldPerOwner
        configuration.quotas.cartUnitsMax = maxCartUnits
        configuration.quotas.openBackordersMax = maxBackordersPerChannel
        let metrics = ServerMetrics()
        configuration.onFsync = { metrics.recordFsync(microseconds: $0) }
        let clock: any EngineClock = clock == "manual" ? ManualClock() : SystemClock()

        var tokens: [String: Role]?
        if let auth {
            do {
                tokens = try TokenFile.load(path: auth)
            } catch {
                FileHandle.standardError.write(Data("orderline: cannot start: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        var primaryToken: String?
        if let primaryAuth {
            do {
                primaryToken = try String(contentsOfFile: primaryAuth, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                FileHandle.standardError.write(Data("orderline: cannot start: cannot read --primary-auth \(primaryAuth): \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        MallocTuning.returnLargeBlocksToTheSystem()
        // One event loop for the listener and the engine together.
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var server = serverConfiguration(tokens: tokens)
        server.primaryToken = primaryToken
        let logger = Logger(label: "orderline")
        let host = host
        let seed = seed
        let opened = OpenedEngine()
        let service = OrderlineService(
            eventLoop: eventLoopGroup.next(), configuration: server, clock: clock, logger: logger, metrics: metrics,
            openEngine: { [configuration] loop in
                let started = ContinuousClock.now
                let (engine, report) = try await Engine.open(configuration, clock: clock, eventLoop: loop)
                opened.engine.withLockedValue { $0 = engine }
                let recoveryTime = ContinuousClock.now - started
                metrics.recorded(recovery: recoveryTime)
                if let tail = report.tail { FileHandle.standardError.write(Data("orderline: \(tail)\n".utf8)) }
                for skipped in report.skippedSnapshots {
                    FileHandle.standardError.write(Data("orderline: skipped snapshot \(skipped)\n".utf8))
                }
                let summary = "recovered lsn=\(report.state.lsn) in \(recoveryTime.formatted(.units(allowed: [.milliseconds, .seconds])))"
                    + " (snapshot: \(report.snapshot ?? "none"), replayed \(report.eventsReplayed) events"
                    + " from \(report.segmentsRead) segments)"
                FileHandle.standardError.write(Data("orderline: \(summary)\n".utf8))
                if SeedLoader.interruptedSeed(in: configuration.dataDirectory) {
                    throw ValidationError(
                        "a seed of \(configuration.dataDirectory) was cut short by a crash; it holds part of the seed. "
                            + "Remove the directory and start again with --seed")
                }
                if let seed, report.state.lsn == 0 {
                    let applied = try await SeedLoader.apply(directory: seed, to: engine, dataDirectory: configuration.dataDirectory)
                    FileHandle.standardError.write(Data("orderline: seeded \(applied) commands from \(seed)\n".utf8))
                }
                return engine
            },
            onReady: { address, engine in
                // The one line scripts wait for; written unbuffered.
                FileHandle.standardOutput.write(Data("ready on \(host):\(address.port ?? 0) lsn=\(await engine.lsn)\n".utf8))
            })
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            if let engine = opened.engine.withLockedValue({ $0 }) { await engine.close() }
            FileHandle.standardError.write(Data("orderline: cannot start or run: \(error)\n".utf8))
            try? await eventLoopGroup.shutdownGracefully()
            throw ExitCode(2)
        }
        if let engine = opened.engine.withLockedValue({ $0 }) {
            FileHandle.standardError.write(Data("orderline: stopped cleanly at lsn=\(await engine.lsn)\n".utf8))
        }
        try? await eventLoopGroup.shutdownGracefully()
    }
}

/// The engine once `serve` opened it, for the messages after the service stops.
final class OpenedEngine: Sendable {
    let engine = NIOLockedValueBox<Engine?>(nil)
}

/// Applies a seed directory: every `*.txt` file in name order, one inline command per
/// line, `#` starting a comment line.
///
/// All or nothing: the whole seed is first decided against an empty state in memory,
/// so a bad line stops the start before anything is logged; and a `SEEDING` file in
/// the data directory, removed once the seed is durable, tells a later start that a
/// crash cut the seed short (it then refuses to serve a half-seeded directory).
enum SeedLoader {
    static let markerName = "SEEDING"

    static func apply(directory: String, to engine: Engine, dataDirectory: String) async throws -> Int {
        let commands = try read(directory)
        var dryRun = OrderlineState()
        for (place, command) in commands {
            switch dryRun.decide(command, context: dryRun.decisionContext(now: 0)) {
            case .failure(let rejection): throw ValidationError("\(place): \(rejection)")
            case .success(let decision):
                for event in decision.events { dryRun.apply(event, at: dryRun.lsn + 1) }
            }
        }
        let marker = dataDirectory + "/" + markerName
        try writeDurably(marker)
        var lsnLast: LSN = 0
        for (place, command) in commands {
            // Submitted without waiting for each fsync: the WAL groups them.
            let submission = await engine.submit(command)
            if case .failure(let rejection) = submission.outcome { throw ValidationError("\(place): \(rejection)") }
            lsnLast = submission.lsn
        }
        if let rejection = await engine.waitUntilAcknowledged(lsnLast) {
            throw ValidationError("the seed could not be made durable: \(rejection)")
        }
        try FileManager.default.removeItem(atPath: marker)
        try PosixFileSystem().syncDirectory(atPath: dataDirectory)
        return commands.count
    }

    /// A seed that did not finish, from an earlier start.
    static func interruptedSeed(in dataDirectory: String) -> Bool {
        FileManager.default.fileExists(atPath: dataDirectory + "/" + markerName)
    }

    private static func read(_ directory: String) throws -> [(place: String, command: Command)] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted()
        guard !files.isEmpty else { throw ValidationError("seed directory \(directory) has no .txt command files") }
        var commands: [(String, Command)] = []
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                do {
                    commands.append(("\(file):\(index + 1)", try CommandTable.parse(try InlineTokenizer.tokenize(trimmed))))
                } catch {
                    throw ValidationError("\(file):\(index + 1): \(error)")
                }
            }
        }
        return commands
    }

    private static func writeDurably(_ path: String) throws {
        let fileSystem = PosixFileSystem()
        try fileSystem.removeFile(atPath: path)
        let file = try fileSystem.createFile(atPath: path)
        try file.sync()
        file.close()
        try fileSystem.syncDirectory(atPath: (path as NSString).deletingLastPathComponent)
    }
}
