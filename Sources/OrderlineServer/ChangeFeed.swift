import DequeModule
import OrderlineProtocol
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineStorage
import Synchronization

/// `EVENTS.READ FROM <lsn> [COUNT <n>] [BLOCK <ms>] [TYPES <type>,…]`: the log as a
/// change feed. The answer is `[<next cursor>, [<event JSON>, …]]`: the acknowledged
/// events after `<lsn>` (durable under `--fsync always`), oldest first, in the shape
/// `orderline replay --export` writes. A consumer that keeps the cursor and asks from
/// it again sees every event once, in order, across restarts of the server.
struct ChangeFeedQuery: Sendable {
    var after: LSN
    var count = 100
    /// How long to wait for an event when there is none yet (nil: not at all; 0: as long as it takes).
    var blockMilliseconds: Int64?
    var types: Set<String>?

    static let countMax = 10_000
    /// Events looked at in one read, matching or not: a TYPES filter that matches
    /// little answers with the cursor advanced instead of reading the whole log at once.
    static let scanMax = 100_000

    init(_ arguments: [String], blockMillisecondsMax: Int64) throws(Rejection) {
        guard arguments.count >= 2, arguments[0].uppercased() == "FROM" else {
            throw Rejection(.err, "syntax: EVENTS.READ FROM <lsn> [COUNT <n>] [BLOCK <ms>] [TYPES <type>,…]")
        }
        guard let after = LSN(arguments[1]) else { throw .invalid("FROM '\(arguments[1].prefix(40))' must be an LSN (0: from the start)") }
        self.after = after
        var index = 2
        while index < arguments.count {
            guard index + 1 < arguments.count else { throw .invalid("\(arguments[index].prefix(40)) needs a value") }
            let value = arguments[index + 1]
            switch arguments[index].uppercased() {
            case "COUNT":
                guard let count = Int(value), (1...Self.countMax).contains(count) else {
                    throw .invalid("COUNT '\(value.prefix(40))' must be in 1...\(Self.countMax)")
                }
                self.count = count
            case "BLOCK":
                guard let milliseconds = Int64(value), (0...blockMillisecondsMax).contains(milliseconds) else {
                    throw .invalid("BLOCK '\(value.prefix(40))' must be milliseconds in 0...\(blockMillisecondsMax) (0: no limit)")
                }
                blockMilliseconds = milliseconds
            case "TYPES":
                let types = Set(value.split(separator: ",").map { String($0).lowercased() })
                guard !types.isEmpty, types.isSubset(of: Event.typeNames) else {
                    throw .invalid("TYPES '\(value.prefix(80))' must be event types from: \(Event.typeNames.sorted().joined(separator: ","))")
                }
                self.types = types
            default:
                throw .invalid("unknown option '\(arguments[index].prefix(40))': COUNT, BLOCK and TYPES are known")
            }
            index += 2
        }
    }
}

/// Where feeds stopped: followers of the log positioned after the last event a read
/// handed out, with the events of their last frame not handed out yet. The next read
/// from that cursor — on the same connection or a new one: consumers such as
/// `LoadTests/feed-consumer.sh` connect for every read — goes on from one of them,
/// instead of reading the segment again from its start (its frames are compressed as
/// one stream). A position is taken out while a read uses it; at most
/// `idlePositionsMax` wait, the least recently used dropped first.
final class ChangeFeedCursors: Sendable {
    /// `@unchecked`: a position is in one place at a time — in `idle`, under the
    /// lock, or in the one read that took it out — so its follower (a class, with the
    /// file and the decompressor's state) is never used by two threads at once.
    private struct Position: @unchecked Sendable {
        var follower: LogFollower
        var buffered: Deque<(lsn: LSN, event: Event)> = []
        var lsnNext: LSN { buffered.first?.lsn ?? follower.lsnNext }
    }

    private let idle = Mutex<[Position]>([])
    static let idlePositionsMax = 32

    /// Up to `query.count` events after `query.after` of its types, none after
    /// `acknowledged`; and the cursor to go on from (the last LSN looked at). Blocking
    /// file I/O: call it off the loop. `.unavailable` when those segments are gone.
    func read(_ query: ChangeFeedQuery, in directory: DataDirectory, acknowledged: LSN) throws(StorageError) -> (events: [(LSN, Event)], next: LSN) {
        var position: Position
        if let taken = take(after: query.after) {
            position = taken
        } else {
            position = Position(follower: try LogFollower(directory: directory, after: query.after, lsnLast: acknowledged))
        }
        var events: [(LSN, Event)] = []
        var next = query.after
        var scanned = 0
        while events.count < query.count, scanned < ChangeFeedQuery.scanMax {
            guard let (lsn, event) = position.buffered.popFirst() else {
                guard let frame = try position.follower.next(acknowledged: acknowledged) else { break }
                do {
                    try WALFormat.decodeRecords(frame.records, firstLSN: frame.firstLSN, lastLSN: frame.lastLSN) { lsn, event in
                        if lsn > query.after { position.buffered.append((lsn, event)) }
                    }
                } catch {
                    throw StorageError(.corrupt, "frame \(frame.firstLSN)...\(frame.lastLSN) does not decode: \(error)")
                }
                continue
            }
            next = lsn
            scanned += 1
            if query.types?.contains(event.name) ?? true { events.append((lsn, event)) }
        }
        put(position)
        return (events, next)
    }

    private func take(after lsn: LSN) -> Position? {
        idle.withLock { idle in
            guard let index = idle.lastIndex(where: { $0.lsnNext == lsn + 1 }) else { return nil }
            return idle.remove(at: index)
        }
    }

    private func put(_ position: Position) {
        idle.withLock { idle in
            if idle.count >= Self.idlePositionsMax { idle.removeFirst() }
            idle.append(position)
        }
    }
}

/// One `EVENTS.READ` being answered, on the engine's loop: the log is read off the
/// loop (`ChangeFeedCursor`, on the render pool), a channel's token sees the events of
/// its channel's orders only (checked here, against the state), and with `BLOCK` an
/// empty answer waits for the next acknowledged event, or the timeout.
final class ChangeFeedRead {
    private let engine: Engine
    private var query: ChangeFeedQuery
    private let cursors: ChangeFeedCursors
    /// The channel a `channel:<name>` token is scoped to; nil: every event.
    private let channel: String?
    private let pool: NIOThreadPool
    private let promise: EventLoopPromise<RESPValue>
    private var timeout: Scheduled<Void>?
    private var answered = false

    /// An event as the feed sends it, rendered off the loop, with what the scope
    /// check needs.
    private struct Rendered: Sendable {
        var json: String
        var order: String?
        /// For an order's placement: its channel.
        var channel: String?
    }

    private enum Outcome: Sendable {
        case events([Rendered], next: LSN)
        /// The segments after the cursor are gone (snapshots cover them).
        case gone(oldestKept: LSN?, reason: String)
    }

    init(engine: Engine, query: ChangeFeedQuery, cursors: ChangeFeedCursors, channel: String?, pool: NIOThreadPool) {
        self.engine = engine
        self.query = query
        self.cursors = cursors
        self.channel = channel
        self.pool = pool
        self.promise = engine.eventLoop.makePromise()
    }

    /// Starts reading; the future completes with the answer.
    func start() -> EventLoopFuture<RESPValue> {
        if let milliseconds = query.blockMilliseconds, milliseconds > 0 {
            let bound = NIOLoopBound(self, eventLoop: engine.eventLoop)
            timeout = engine.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                let read = bound.value
                read.finish(events: [], next: read.query.after)
            }
        }
        attempt()
        return promise.futureResult
    }

    private func attempt() {
        guard !answered else { return }
        let acknowledged = engine.wal.lsnAcknowledged
        let (query, cursors, directory) = (query, cursors, engine.directory)
        let bound = NIOLoopBound(self, eventLoop: engine.eventLoop)
        pool.runIfActive(eventLoop: engine.eventLoop) { () -> Outcome in
            do {
                let read = try cursors.read(query, in: directory, acknowledged: acknowledged)
                // Rendered here, on the pool: a read of 10,000 events costs ~30 ms of CPU
                // (bench-feed: 3.0 µs an event, reading and rendering), too long for the loop.
                return .events(read.events.map { lsn, event in
                    let channel: String? = if case .orderPlaced(let order) = event { order.channel.rawValue } else { nil }
                    return Rendered(json: event.json(lsn: lsn), order: event.orderID, channel: channel)
                }, next: read.next)
            } catch let error as StorageError where error.code == .unavailable {
                return .gone(oldestKept: try? directory.segments().first?.firstLSN, reason: error.message)
            }
        }.whenComplete { result in
            bound.value.readDone(result, acknowledged: acknowledged)
        }
    }

    private func readDone(_ result: Result<Outcome, any Error>, acknowledged: LSN) {
        guard !answered else { return }
        switch result {
        case .failure(let error):
            finish(.error("IOERR the log cannot be read: \(error)"))
        case .success(.gone(let oldestKept, let reason)):
            let restart = oldestKept.map { "the log now starts at LSN \($0): restart from a copy of the state at LSN \($0 - 1) (orderline restore --until \($0 - 1)) and read FROM \($0 - 1)" }
            finish(.error("NOTFOUND events after LSN \(query.after) are no longer in the log (\(reason)); \(restart ?? "the log holds no segment")"))
        case .success(.events(let events, let next)):
            let visible = channel == nil ? events : events.filter(ofChannel)
            if visible.isEmpty, query.blockMilliseconds != nil, next >= acknowledged {
                // Caught up with nothing to show: wait for the next acknowledged event.
                query.after = next
                let bound = NIOLoopBound(self, eventLoop: engine.eventLoop)
                let loop = engine.eventLoop
                engine.wal.whenAcknowledged(acknowledged + 1) { _ in loop.execute { bound.value.attempt() } }
                return
            }
            finish(events: visible, next: next)
        }
    }

    /// Whether a `channel:<name>` token may see the event: one of its channel's orders.
    private func ofChannel(_ event: Rendered) -> Bool {
        if let placedIn = event.channel { return placedIn == channel }
        guard let id = event.order else { return false }
        return engine.assumeIsolated { $0.state.home.orders[id]?.channel.rawValue } == channel
    }

    private func finish(events: [Rendered], next: LSN) {
        finish(.array([.integer(Int64(next)), .array(events.map { .bulk($0.json) })]))
    }

    private func finish(_ reply: RESPValue) {
        guard !answered else { return }
        answered = true
        timeout?.cancel()
        promise.succeed(reply)
    }
}
