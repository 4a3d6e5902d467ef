import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineStorage

/// Who this server follows and who follows it: what `INFO replication` and `ROLE`
/// show and `REPLICAOF` changes. Lives on the engine's loop, as the connections,
/// feeds and the link that use it do.
final class Replication {
    /// A replica this server feeds.
    struct Follower {
        var address: String
        /// The port the replica serves its clients on (`REPLCONF listening-port`).
        var listeningPort: Int
        var acknowledged: LSN = 0
        var acknowledgedAt: NIODeadline = .now()
        /// The link, once it carries the log.
        var channel: (any Channel)?
    }

    let eventLoop: any EventLoop
    private let logger: Logger
    /// This server's own port, which a replica announces to its primary.
    var listeningPort = 0
    /// The primary's token, for a server that follows one behind `--auth`.
    let primaryToken: String?
    private(set) var followers: [ObjectIdentifier: Follower] = [:]
    /// Set while this server follows a primary. (Whether it is a replica at all, one
    /// following nobody under `--standby` too, is the engine's `isReplica`.)
    private(set) var link: ReplicaLink?
    /// The terms of this server's log (`HISTORY`), loaded before it serves.
    var history = ReplicationHistory()
    private var promoting = false
    /// Told what K replicas have acknowledged, with sync replicas (set once serving).
    var tracker: AcknowledgementTracker?
    /// `WAIT`s not answered yet.
    private var waits: [Wait] = []

    private struct Wait {
        var lsn: LSN
        var replicas: Int
        var promise: EventLoopPromise<Int>
        var timeout: Scheduled<Void>?
    }

    init(eventLoop: any EventLoop, primaryToken: String?, logger: Logger) {
        self.eventLoop = eventLoop
        self.primaryToken = primaryToken
        self.logger = logger
    }

    // MARK: Replicas of this server

    func followerConnected(_ id: ObjectIdentifier, _ follower: Follower) {
        followers[id] = follower
        logger.info("replica connected", metadata: ["replica": "\(follower.address):\(follower.listeningPort)"])
    }

    func followerAcknowledged(_ id: ObjectIdentifier, _ lsn: LSN, at now: NIODeadline) {
        guard let before = followers[id]?.acknowledged else { return }
        followers[id]?.acknowledgedAt = now
        guard lsn > before else { return }
        followers[id]?.acknowledged = lsn
        if let tracker, tracker.syncReplicas > 0, followers.count >= tracker.syncReplicas {
            // The LSN the K-th furthest replica has.
            let acknowledged = followers.values.map(\.acknowledged).sorted(by: >)
            tracker.replicated(acknowledged[tracker.syncReplicas - 1])
        }
        if !waits.isEmpty { answerWaits(all: false) }
    }

    /// Replicas whose acknowledged LSN covers `lsn`.
    func replicas(covering lsn: LSN) -> Int {
        followers.values.reduce(0) { $0 + ($1.acknowledged >= lsn ? 1 : 0) }
    }

    /// `WAIT <replicas> <timeout>`: the number of replicas that acknowledged `lsn`, once
    /// `replicas` of them have or after `timeout` (nil: no timeout), as Redis answers.
    func wait(for lsn: LSN, replicas: Int, timeout: TimeAmount?) -> EventLoopFuture<Int> {
        let covering = self.replicas(covering: lsn)
        if covering >= replicas { return eventLoop.makeSucceededFuture(covering) }
        let promise = eventLoop.makePromise(of: Int.self)
        var wait = Wait(lsn: lsn, replicas: replicas, promise: promise)
        if let timeout {
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            wait.timeout = eventLoop.scheduleTask(in: timeout) { bound.value.answerWaits(all: true, expiring: promise.futureResult) }
        }
        waits.append(wait)
        return promise.futureResult
    }

    /// Answers the waits that are satisfied, and with `all` the one whose timeout came.
    private func answerWaits(all: Bool, expiring: EventLoopFuture<Int>? = nil) {
        waits.removeAll { wait in
            let covering = replicas(covering: wait.lsn)
            guard covering >= wait.replicas || (all && wait.promise.futureResult === expiring) else { return false }
            wait.timeout?.cancel()
            wait.promise.succeed(covering)
            return true
        }
    }

    /// Ends every replica's link (they connect again and ask for what they need).
    private func disconnectFollowers(because reason: String) {
        for follower in followers.values {
            if let channel = follower.channel { ReplicaStreamer.sendErrorAndClose(channel, "ERR \(reason)") }
        }
    }

    func followerGone(_ id: ObjectIdentifier) {
        guard let follower = followers.removeValue(forKey: id) else { return }
        logger.info("replica disconnected", metadata: ["replica": "\(follower.address):\(follower.listeningPort)"])
    }

    // MARK: This server as a replica

    /// Follows `host:port` from now on (the engine refuses writes from this turn on);
    /// with `resync`, starting with a full re-sync from the primary's snapshot.
    func follow(host: String, port: Int, resync: Bool = false, engine: isolated Engine) {
        if !resync, let link, link.host == host, link.port == port { return }
        link?.stop()
        becomeReplica(engine: engine)
        let link = ReplicaLink(host: host, port: port, resync: resync, engine: engine, replication: self, logger: logger)
        self.link = link
        link.start()
        logger.info("following a primary", metadata: ["primary": "\(host):\(port)", "lsn": "\(engine.lsn)"])
    }

    /// Refuses writes and follows nobody until told (`--standby`): how a server under
    /// a failover agent starts, so that an old primary coming back takes no write
    /// before the agent has checked who leads now.
    func standBy(engine: isolated Engine) {
        link?.stop()
        link = nil
        becomeReplica(engine: engine)
        logger.info("standing by: read-only until REPLICAOF", metadata: ["lsn": "\(engine.lsn)"])
    }

    /// After a full re-sync replaced this server's log: the primary's history is its
    /// own, what it acknowledged counts from the snapshot's LSN, and its own replicas
    /// (whose logs followed the replaced one) must ask again.
    func resynced(at lsn: LSN, history: ReplicationHistory) {
        self.history = history
        tracker?.restart(at: lsn)
        disconnectFollowers(because: "this server was re-synced from its primary at LSN \(lsn); connect again")
    }

    private func becomeReplica(engine: isolated Engine) {
        engine.setReplica(true)
        tracker?.waitForReplicas(false)
    }

    /// Stops following and takes writes (`REPLICAOF NO ONE`), in a new term: the next
    /// term begins after the last LSN this server has, and is durable in `HISTORY`
    /// before the first write is taken. The future completes once writes are taken.
    func promote(engine: isolated Engine) -> EventLoopFuture<Void> {
        guard engine.isReplica else { return eventLoop.makeSucceededVoidFuture() }
        guard !promoting else { return eventLoop.makeFailedFuture(Rejection(.conflict, "a promotion is already under way")) }
        guard !engine.resyncing else {
            return eventLoop.makeFailedFuture(Rejection(.conflict, "a full re-sync from the primary is under way; promote once it is done"))
        }
        promoting = true
        link?.stop()
        link = nil
        let next = history.promoted(after: engine.lsn)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let engineOnLoop = NIOLoopBound(engine, eventLoop: eventLoop)
        return Self.write(next, in: engine.directory, eventLoop: eventLoop).map {
            let replication = bound.value
            replication.promoting = false
            replication.history = next
            engineOnLoop.value.assumeIsolated { $0.setReplica(false) }
            replication.tracker?.waitForReplicas(true)
            replication.logger.notice("promoted to primary", metadata: ["term": "\(next.current)", "lsn": "\(next.current.firstLSN - 1)"])
        }.flatMapErrorThrowing { error in
            bound.value.promoting = false
            throw Rejection(.ioError, "the new term could not be made durable: \(error)")
        }
    }

    /// Writes `history` to the data directory on NIO's pool of blocking threads, not on the loop.
    static func write(_ history: ReplicationHistory, in directory: DataDirectory, eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try history.write(in: directory) }
    }

    /// Closes the link to the primary, if any, for good (shutdown); the role stays.
    func closeLink() {
        link?.stop()
    }

    // MARK: What INFO and ROLE show

    func infoFields(lsn: LSN, isReplica: Bool, now: NIODeadline) -> [(String, String)] {
        guard isReplica else {
            var fields: [(String, String)] = [("role", "master"), ("connected_slaves", String(followers.count))]
            for (index, follower) in sortedFollowers.enumerated() {
                let lag = (now - follower.acknowledgedAt).nanoseconds / 1_000_000_000
                fields.append((
                    "slave\(index)",
                    "ip=\(follower.address),port=\(follower.listeningPort),state=online,offset=\(follower.acknowledged),lag=\(lag)"))
            }
            fields.append(("master_repl_offset", String(lsn)))
            fields.append(("sync_replicas", String(tracker?.syncReplicas ?? 0)))
            fields.append(("sync_confirmed_offset", String(tracker?.confirmed ?? lsn)))
            fields.append(("term", history.current.description))
            return fields
        }
        return [
            ("role", "slave"), ("master_host", link?.host ?? ""), ("master_port", String(link?.port ?? 0)),
            ("master_link_status", link?.status == .connected ? "up" : "down"),
            ("master_last_io_seconds_ago", link?.lastContact.map { String((now - $0).nanoseconds / 1_000_000_000) } ?? "-1"),
            ("master_sync_in_progress", link?.syncInProgress == true ? "1" : "0"),
            ("slave_repl_offset", String(lsn)),
            ("slave_read_only", "1"),
            ("master_link_down_reason", link.map { $0.lastError ?? "none" } ?? "standby: told to follow no primary yet"),
            ("connected_slaves", String(followers.count)),
            ("master_repl_offset", String(max(lsn, link?.primaryLSN ?? 0))),
            ("term", history.term(at: lsn).description),
        ]
    }

    /// `ROLE`, as Redis answers it.
    func role(lsn: LSN, isReplica: Bool) -> [RESPValue] {
        guard isReplica else {
            return [
                .bulk("master"), .integer(Int64(lsn)),
                .array(sortedFollowers.map { .array([.bulk($0.address), .bulk(String($0.listeningPort)), .bulk(String($0.acknowledged))]) }),
            ]
        }
        return [
            .bulk("slave"), .bulk(link?.host ?? ""), .integer(Int64(link?.port ?? 0)), .bulk(link?.status.rawValue ?? "none"),
            .integer(Int64(lsn)),
        ]
    }

    private var sortedFollowers: [Follower] {
        followers.values.sorted { ($0.address, $0.listeningPort) < ($1.address, $1.listeningPort) }
    }
}
