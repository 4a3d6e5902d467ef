import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineStorage

/// The actor shell around the core: it stamps commands with the time and new ids,
/// decides, appends the events to the WAL, applies them, and replies only once the
/// WAL has acknowledged them. Replies that read state (and rejections, which also
/// reveal state) wait until everything they could have seen is acknowledged.
///
/// If the WAL fails, the engine rebuilds its state from what is durable and serves
/// reads; every write gets `IOERR`.
///
/// The actor runs on an event loop (its executor), the one the server's connections
/// live on: a connection handler calls `submit` synchronously (`assumeIsolated`), so a
/// request costs no thread hop — the WAL writer thread is the only other party.
public actor Engine {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var fsyncPolicy: FsyncPolicy = .always
        /// Take a snapshot after this many events; 0 turns periodic snapshots off.
        public var snapshotEveryEvents = 1_000_000
        public var snapshotsKept = 2
        /// Keep WAL segments that snapshots cover (recovery drills from LSN 1).
        public var keepAllSegments = false
        public var truncateAtCorruption = false
        /// Serve a log that ends before what its checkpoint says was durable.
        public var acceptLostTail = false
        /// What scoped tokens may hold (`OwnerQuotas`).
        public var quotas = OwnerQuotas()
        /// How far the log's last time may be ahead of the clock at start; nil: any.
        /// Time stamped into events never goes backwards, so a log from the future
        /// would freeze it (reservations would not expire) until the clock caught up.
        public var clockSkewSecondsMax: Int64? = 600
        public var segmentBytesMax = 64 << 20
        /// Shards that own the state (`ShardedState`): the same answers and digest for
        /// any count; they share the engine's loop.
        public var shardCount = 1
        public var fileSystem: any FileSystem = PosixFileSystem()
        /// Told how long each fdatasync of the WAL took (µs), on its writer thread.
        public var onFsync: (@Sendable (UInt64) -> Void)?

        public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
    }

    public let configuration: Configuration
    /// The loop whose thread runs this actor.
    public nonisolated let eventLoop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { eventLoop.executor.asUnownedSerialExecutor() }
    private let clock: any EngineClock
    let logger: Logger
    let directory: DataDirectory
    private let directoryLock: DataDirectoryLock
    let wal: WriteAheadLog
    var state: ShardedState
    var failure: StorageError?
    var eventsSinceSnapshot = 0
    var snapshotRunning = false
    var timeLast: Timestamp
    private var writerWakeScheduled = false
    var snapshotWriting = false
    var snapshotWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set when even the durable log cannot be read after a WAL failure: nothing is served.
    var unreadable = false
    public internal(set) var lastSnapshotLSN: LSN?
    /// When the last snapshot since start was written, and how long writing it took.
    public internal(set) var lastSnapshotWritten: (at: ContinuousClock.Instant, duration: Duration)?
    /// `DIGEST` (`Engine+Digest`): one being computed, and the one asked for meanwhile.
    var digestRunning = false
    var digestNext: EventLoopPromise<StateDigest>?
    /// `Engine+SoldOut`: where each sold-out SKU was first seen sold out.
    var soldOutSightings: [String: SoldOutSighting] = [:]
    /// `RESERVE`s answered `SOLDOUT` (INFO).
    public internal(set) var soldOutReplies = 0
    /// A replica (`Engine+Replication`): it refuses writes and fires no expiries; its
    /// events all come from the primary.
    public internal(set) var isReplica = false
    /// How many times a re-sync replaced the state (`Engine+Replication`): a snapshot
    /// cut taken before one must not be written after it.
    var resyncs = 0
    /// Set while a re-sync replaces the state and the log: no promotion meanwhile.
    public internal(set) var resyncing = false
    /// Where each order's events lie in the log (`ORDER.HISTORY`).
    var orderSpans: OrderSpans

    private init(
        configuration: Configuration, clock: any EngineClock, logger: Logger, directoryLock: DataDirectoryLock,
        state: ShardedState, orderSpans: OrderSpans, eventLoop: any EventLoop
    ) {
        self.configuration = configuration
        self.orderSpans = orderSpans
        self.eventLoop = eventLoop
        self.clock = clock
        self.logger = logger
        self.directory = DataDirectory(path: configuration.dataDirectory)
        self.directoryLock = directoryLock
        self.state = state
        self.timeLast = state.timeLast
        var walConfiguration = WriteAheadLog.Configuration(directory: configuration.dataDirectory)
        walConfiguration.fsyncPolicy = configuration.fsyncPolicy
        walConfiguration.segmentBytesMax = configuration.segmentBytesMax
        walConfiguration.fileSystem = configuration.fileSystem
        walConfiguration.onFsync = configuration.onFsync
        wal = WriteAheadLog(configuration: walConfiguration, lsnLast: state.lsn, logger: logger)
    }

    /// Locks the data directory, recovers (on a dedicated thread), and starts the WAL.
    /// The engine runs on `eventLoop` (the server passes its listener's loop).
    public static func open(
        _ configuration: Configuration, clock: any EngineClock, logger: Logger = Logger(label: "orderline"),
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws -> (engine: Engine, recovery: Recovery.Report<ShardedState>) {
        let directory = DataDirectory(path: configuration.dataDirectory)
        try FileReader.createDirectory(atPath: directory.path)
        let lock = try DataDirectoryLock(directory: directory)
        var options = Recovery.Options(mode: .repair)
        options.truncateAtCorruption = configuration.truncateAtCorruption
        options.acceptLostTail = configuration.acceptLostTail
        options.shardCount = configuration.shardCount
        options.fileSystem = configuration.fileSystem
        let (report, orderSpans) = try await DedicatedThread.run(name: "orderline-recovery") { [options] in
            var orderSpans = OrderSpans()
            let report = try Recovery.recover(
                directory, options: options, as: ShardedState.self, logger: logger, onEvent: { orderSpans.note($1, at: $0) })
            return (report, orderSpans)
        }
        // A manual clock goes on from where the log left off: CLOCK.ADVANCE n then moves
        // effective time by n.
        (clock as? ManualClock)?.advance(toAtLeast: report.state.timeLast)
        let skew = report.state.timeLast - clock.now()
        if let skewMax = configuration.clockSkewSecondsMax, skew > skewMax {
            throw ServerStartError(message: Self.clockSkewMessage(timeLast: report.state.timeLast, skew: skew))
        }
        if skew > 0 {
            logger.warning("the log's last time is ahead of the clock; new events carry the log's time until the clock catches up", metadata: ["clock.skew_seconds": "\(skew)"])
        }
        let engine = Engine(
            configuration: configuration, clock: clock, logger: logger, directoryLock: lock, state: report.state, orderSpans: orderSpans,
            eventLoop: eventLoop)
        return (engine, report)
    }

    static func clockSkewMessage(timeLast: Timestamp, skew: Int64) -> String {
        "the log's last event is on \(CalendarDate.format(timeLast)) (UTC), \(skew) s ahead of this machine's clock: "
            + "time stamped into new events never goes backwards, so it would stand still until then and no reservation "
            + "would expire. Check the clock, or start with --accept-clock-skew"
    }

    public var lsn: LSN { state.lsn }
    public var walStatistics: WriteAheadLog.Statistics { wal.statistics }
    /// The whole state at this moment (merged from the shards).
    public var stateForInspection: OrderlineState { state.whole }
    public var shardedStateForInspection: ShardedState { state }

    /// Parses and executes one request given as tokens (`tokens[0]` is the name).
    public func execute(_ tokens: [String]) async -> Result<Reply, Rejection> {
        do {
            return await execute(try CommandTable.parse(tokens))
        } catch {
            return .failure(error)
        }
    }

    public func execute(_ command: Command, as role: Role = .admin) async -> Result<Reply, Rejection> {
        let submission = submit(command, as: role)
        if let rejection = await acknowledged(through: submission.lsn) { return .failure(rejection) }
        return submission.outcome
    }

    /// What `submit` decided, and the LSN the WAL must acknowledge before the reply
    /// may be sent (for reads and rejections too: they reveal the state they saw).
    public struct Submission: Sendable {
        public var outcome: Result<Reply, Rejection>
        public var lsn: LSN
    }

    /// Stamps, decides, appends and applies in one actor turn, without waiting for
    /// durability: a pipelining connection submits its requests in order and sends
    /// each reply once the WAL has acknowledged its `lsn`.
    public func submit(_ command: Command, as role: Role = .admin) -> Submission {
        if let failure, !command.isRead || unreadable {
            return Submission(outcome: .failure(Rejection(.ioError, "the log cannot be written: \(failure.message)")), lsn: 0)
        }
        if isReplica, !command.isRead { return Submission(outcome: .failure(.readOnlyReplica), lsn: 0) }
        let now = stampTime()
        if failure == nil, !isReplica, let rejection = fireExpiries(at: now) { return Submission(outcome: .failure(rejection), lsn: 0) }
        let outcome = Self.authorizeAndDecide(command, as: role, now: now, quotas: configuration.quotas, in: &state)
        if case .success(let decision) = outcome, !decision.events.isEmpty, let rejection = log(decision.events) {
            return Submission(outcome: .failure(rejection), lsn: 0)
        }
        if case .failure(let rejection) = outcome, rejection.code == .soldOut, case .reserve(let sku, _, _, _, _, _) = command {
            return Submission(outcome: outcome.map(\.reply), lsn: soldOutReplyLSN(sku))
        }
        return Submission(outcome: outcome.map(\.reply), lsn: state.lsn)
    }

    /// `ORDER.LIST` and `SHIPMENT.LIST`: checked and chosen in this turn, as `submit`
    /// would (expiries fired, the role checked); rendering is left to the caller, which
    /// may do it off the loop (`ListRendering`). nil for any other command.
    public func submitList(_ command: Command, as role: Role = .admin) -> (outcome: Result<ListRendering, Rejection>, lsn: LSN)? {
        if failure != nil, unreadable {
            return (.failure(Rejection(.ioError, "the log cannot be written: \(failure?.message ?? "")")), 0)
        }
        let now = stampTime()
        if failure == nil, !isReplica, let rejection = fireExpiries(at: now) { return (.failure(rejection), 0) }
        if let rejection = state.authorize(command, as: role) { return (.failure(rejection), state.lsn) }
        guard let listed = state.listRendering(command) else { return nil }
        return (listed, state.lsn)
    }

    /// Tells `observer` each time the acknowledged LSN advances; on a WAL failure,
    /// once with the `IOERR` rejection (the engine then turns read-only).
    public nonisolated func observeAcknowledgements(_ observer: @escaping @Sendable (LSN, Rejection?) -> Void) {
        // Weak: the WAL keeps this closure, and the engine keeps the WAL (a cycle that
        // AddressSanitizer reported as a leak of every engine observed so).
        wal.observeAcknowledgements { [weak self] lsn, error in
            guard let error else { return observer(lsn, nil) }
            Task { await self?.enterReadOnly(after: error) }
            observer(lsn, Rejection(.ioError, "the log cannot be written: \(error.message)"))
        }
    }

    /// Waits until the WAL acknowledged `lsn`; the `IOERR` rejection if it failed.
    public func waitUntilAcknowledged(_ lsn: LSN) async -> Rejection? {
        await acknowledged(through: lsn)
    }

    /// Fires the expiries due by now (the server's timer calls this at the next
    /// expiry; `execute` also does, before deciding anything).
    public func tick() async -> Rejection? {
        if let rejection = fireDueExpiries() { return rejection }
        return await acknowledged(through: state.lsn)
    }

    /// The synchronous part of `tick`: logs the expiries due by now.
    public func fireDueExpiries() -> Rejection? {
        failure == nil && !isReplica ? fireExpiries(at: stampTime()) : nil
    }

    /// The digest of the state as it is now (not necessarily acknowledged yet: send it
    /// once the WAL acknowledges its LSN).
    public var currentDigest: StateDigest { state.digest }

    public var nextExpiry: Timestamp? { state.nextExpiring?.expiresAt }

    /// The digest of the state as acknowledged: waits until the WAL covers it.
    public func digest() async throws -> StateDigest {
        let snapshot = state
        if let rejection = await acknowledged(through: snapshot.lsn) { throw rejection }
        return snapshot.digest
    }

    /// Stops the WAL after writing and syncing what is queued.
    public func close() async {
        await wal.close()
    }

    // MARK: Internals

    /// Takes the state `inout` only so it is read in place: a non-mutating call on the
    /// actor's stored property copies the whole struct first (retaining its ~50
    /// fields, then releasing them): in perf, about 2 % of the event loop in those
    /// retains and releases alone. Nothing here changes it.
    private static func authorizeAndDecide(
        _ command: Command, as role: Role, now: Timestamp, quotas: OwnerQuotas = OwnerQuotas(), in state: inout ShardedState
    ) -> Result<Decision, Rejection> {
        if let rejection = state.authorize(command, as: role) { return .failure(rejection) }
        return state.decide(command, context: state.decisionContext(now: now, role: role, quotas: quotas))
    }

    /// `state.nextExpiring`, read in place: on the actor's stored property the getter
    /// copied the whole state first (0.8 % of the loop per request, perf).
    private static func nextExpiring(in state: inout ShardedState) -> (id: ReservationID, expiresAt: Timestamp)? {
        state.nextExpiring
    }

    /// The time written into events never goes backwards, even if the system clock does.
    func stampTime() -> Timestamp {
        timeLast = max(timeLast, clock.now())
        return timeLast
    }

    private func fireExpiries(at now: Timestamp) -> Rejection? {
        while let next = Self.nextExpiring(in: &state), next.expiresAt <= now {
            guard case .success(let decision) = Self.authorizeAndDecide(.expireDue, as: .admin, now: now, in: &state),
                  !decision.events.isEmpty
            else { break }
            if let rejection = log(decision.events) { return rejection }
        }
        return nil
    }

    /// Appends and applies in one actor turn, so apply order is LSN order.
    func log(_ events: [Event]) -> Rejection? {
        let lastLSN: LSN
        do {
            lastLSN = try wal.append(events, wakeWriter: false)
            if !writerWakeScheduled {
                // Woken once, after this loop pass: everything appended in the pass
                // shares one frame and one fsync.
                writerWakeScheduled = true
                eventLoop.execute { [self] in
                    self.assumeIsolated { engine in
                        engine.writerWakeScheduled = false
                        engine.wal.wakeWriter()
                    }
                }
            }
        } catch where error.code == .busy {
            return Rejection(.limit, "\(error.message); retry shortly")
        } catch {
            return ioRejection(error)
        }
        var lsn = lastLSN - LSN(events.count)
        for event in events {
            lsn += 1
            state.apply(event, at: lsn)
            orderSpans.note(event, at: lsn)
        }
        eventsSinceSnapshot += events.count
        if configuration.snapshotEveryEvents > 0, eventsSinceSnapshot >= configuration.snapshotEveryEvents, !snapshotRunning {
            snapshotRunning = true
            eventsSinceSnapshot = 0
            Task { await self.runPeriodicSnapshot() }
        }
        return nil
    }

    func acknowledged(through lsn: LSN) async -> Rejection? {
        do {
            try await wal.waitUntilAcknowledged(lsn)
            return nil
        } catch {
            await enterReadOnly(after: error)
            return ioRejection(error)
        }
    }
}
