import Logging
import NIOCore
import OrderlineCore
import OrderlineProtocol

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
    }

    let eventLoop: any EventLoop
    private let logger: Logger
    /// This server's own port, which a replica announces to its primary.
    var listeningPort = 0
    /// The primary's token, for a server that follows one behind `--auth`.
    let primaryToken: String?
    private(set) var followers: [ObjectIdentifier: Follower] = [:]
    /// Set while this server is a replica.
    private(set) var link: ReplicaLink?
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

    func followerGone(_ id: ObjectIdentifier) {
        guard let follower = followers.removeValue(forKey: id) else { return }
        logger.info("replica disconnected", metadata: ["replica": "\(follower.address):\(follower.listeningPort)"])
    }

    // MARK: This server as a replica

    /// Follows `host:port` from now on (the engine refuses writes from this turn on).
    func follow(host: String, port: Int, engine: isolated Engine) {
        if let link, link.host == host, link.port == port { return }
        link?.stop()
        engine.setReplica(true)
        let link = ReplicaLink(host: host, port: port, engine: engine, replication: self, logger: logger)
        self.link = link
        link.start()
        logger.info("following a primary", metadata: ["primary": "\(host):\(port)", "lsn": "\(engine.lsn)"])
    }

    /// Stops following and takes writes (`REPLICAOF NO ONE`).
    func promote(engine: isolated Engine) {
        guard let link else { return }
        link.stop()
        self.link = nil
        engine.setReplica(false)
        logger.notice("promoted to primary", metadata: ["lsn": "\(engine.lsn)"])
    }

    /// Closes the link to the primary, if any, for good (shutdown); the role stays.
    func closeLink() {
        link?.stop()
    }

    // MARK: What INFO and ROLE show

    func infoFields(lsn: LSN, now: NIODeadline) -> [(String, String)] {
        guard let link else {
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
            return fields
        }
        return [
            ("role", "slave"), ("master_host", link.host), ("master_port", String(link.port)),
            ("master_link_status", link.status == .connected ? "up" : "down"),
            ("master_last_io_seconds_ago", link.lastContact.map { String((now - $0).nanoseconds / 1_000_000_000) } ?? "-1"),
            ("master_sync_in_progress", "0"),
            ("slave_repl_offset", String(lsn)),
            ("slave_read_only", "1"),
            ("master_link_down_reason", link.lastError ?? "none"),
            ("connected_slaves", String(followers.count)),
            ("master_repl_offset", String(max(lsn, link.primaryLSN))),
        ]
    }

    /// `ROLE`, as Redis answers it.
    func role(lsn: LSN) -> [RESPValue] {
        guard let link else {
            return [
                .bulk("master"), .integer(Int64(lsn)),
                .array(sortedFollowers.map { .array([.bulk($0.address), .bulk(String($0.listeningPort)), .bulk(String($0.acknowledged))]) }),
            ]
        }
        return [.bulk("slave"), .bulk(link.host), .integer(Int64(link.port)), .bulk(link.status.rawValue), .integer(Int64(lsn))]
    }

    private var sortedFollowers: [Follower] {
        followers.values.sorted { ($0.address, $0.listeningPort) < ($1.address, $1.listeningPort) }
    }
}
