import OrderlineCore
import OrderlineStorage
import Prometheus
import Synchronization

/// What the engine reports at one moment, gathered on its loop for a scrape of
/// `GET /metrics` (`HTTPSideListener`); the connections' counters are read from
/// `ServerStatistics` as they are.
struct MetricsSnapshot: Sendable {
    var ready = false
    var wal: WriteAheadLog.Statistics?
    var reservationsHeld = 0
    var ordersByStatus: [Order.Status: Int64] = [:]
    var soldOutReplies = 0
    var lastSnapshotLSN: LSN?
    /// Seconds the last snapshot took to write, and since it was written.
    var lastSnapshotSeconds: Double?
    var lastSnapshotAgeSeconds: Double?
    var isReplica = false
    var replicasConnected = 0
    /// The most events one replica of this server lacks.
    var replicaLagMax: Int64 = 0
}

/// The server's metrics in the Prometheus text format, through swift-prometheus: the
/// counters, gauges and histograms below, named as Prometheus names things
/// (`orderline_…_total`, base units). Most are read from the server at each scrape
/// (`update`): a counter goes up by what its source counted since the last scrape.
/// The fsync histogram is recorded as each fsync returns (`recordFsync`).
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let up: Gauge
    private let connections: Gauge
    private let connectionsAccepted: Counter
    private let commands: Counter
    private let authFailures: Counter
    private let refusedBusy: Counter
    private let requestsWaiting: Gauge
    private let loopLag: Gauge
    private let lsnLast: Gauge
    private let lsnDurable: Gauge
    private let walBytes: Counter
    private let walRawBytes: Counter
    private let walFrames: Counter
    private let walFsyncs: Counter
    private let walEventsPerFrame: Gauge
    private let walCompressionRatio: Gauge
    private let walFailed: Gauge
    private let fsyncDuration: DurationHistogram
    private let reservationsHeld: Gauge
    private let orders: [Order.Status: Gauge]
    private let soldOut: Counter
    private let snapshotLSN: Gauge
    private let snapshotDuration: Gauge
    private let snapshotAge: Gauge
    private let recovery: Gauge
    private let isReplica: Gauge
    private let replicas: Gauge
    private let replicaLag: Gauge
    /// Requests by command and outcome, and their latency: recorded by the connections.
    public let requests: RequestMetrics
    /// What each counter's source had counted at the last scrape, by counter.
    private let counted = Mutex<[ObjectIdentifier: Int]>([:])

    public init() {
        requests = RequestMetrics(registry: registry)
        up = registry.makeGauge(descriptor: Self.named("orderline_up", "1 once the log is recovered and the server serves; 0 while it recovers"))
        connections = registry.makeGauge(descriptor: Self.named("orderline_connected_clients", "Client connections open now"))
        connectionsAccepted = registry.makeCounter(descriptor: Self.named("orderline_connections_total", "Client connections accepted"))
        commands = registry.makeCounter(descriptor: Self.named("orderline_commands_total", "Requests processed"))
        authFailures = registry.makeCounter(descriptor: Self.named("orderline_auth_failures_total", "Failed AUTH attempts"))
        refusedBusy = registry.makeCounter(descriptor: Self.named("orderline_requests_refused_busy_total", "Requests answered LIMIT busy by admission control"))
        requestsWaiting = registry.makeGauge(descriptor: Self.named("orderline_requests_waiting", "Requests taken and not yet answered"))
        loopLag = registry.makeGauge(descriptor: Self.named("orderline_event_loop_lag_seconds", "How late the loop last ran a task due every millisecond (with --max-queue-ms)"))
        lsnLast = registry.makeGauge(descriptor: Self.named("orderline_wal_lsn", "The last LSN handed out"))
        lsnDurable = registry.makeGauge(descriptor: Self.named("orderline_wal_durable_lsn", "The last LSN made durable (fdatasync returned)"))
        walBytes = registry.makeCounter(descriptor: Self.named("orderline_wal_written_bytes_total", "Bytes written to the WAL (compressed frames)"))
        walRawBytes = registry.makeCounter(descriptor: Self.named("orderline_wal_raw_bytes_total", "Bytes of events before compression"))
        walFrames = registry.makeCounter(descriptor: Self.named("orderline_wal_frames_total", "WAL frames written (one per group commit)"))
        walFsyncs = registry.makeCounter(descriptor: Self.named("orderline_wal_fsyncs_total", "fdatasync calls of the WAL"))
        walEventsPerFrame = registry.makeGauge(descriptor: Self.named("orderline_wal_group_events", "Events per frame, on average since start (the group commit's size)"))
        walCompressionRatio = registry.makeGauge(descriptor: Self.named("orderline_wal_compression_ratio", "Raw event bytes per byte written"))
        walFailed = registry.makeGauge(descriptor: Self.named("orderline_wal_failed", "1 after a WAL write or fsync failed (writes are refused)"))
        fsyncDuration = registry.makeDurationHistogram(
            descriptor: Self.named("orderline_wal_fsync_duration_seconds", "Time an fdatasync of the WAL took"),
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        reservationsHeld = registry.makeGauge(descriptor: Self.named("orderline_reservations_held", "Reservations (carts and holds) held now"))
        var orders: [Order.Status: Gauge] = [:]
        for status in Order.Status.allCases {
            orders[status] = registry.makeGauge(descriptor: Self.named("orderline_orders", "Orders by status"), labels: [("status", status.rawValue)])
        }
        self.orders = orders
        soldOut = registry.makeCounter(descriptor: Self.named("orderline_soldout_replies_total", "RESERVE requests answered SOLDOUT"))
        snapshotLSN = registry.makeGauge(descriptor: Self.named("orderline_snapshot_lsn", "The LSN of the last snapshot written since start (0: none)"))
        snapshotDuration = registry.makeGauge(
            descriptor: Self.named("orderline_snapshot_duration_seconds", "How long writing the last snapshot since start took (0: none)"))
        snapshotAge = registry.makeGauge(
            descriptor: Self.named("orderline_snapshot_age_seconds", "Seconds since the last snapshot written since start (-1: none yet)"))
        recovery = registry.makeGauge(
            descriptor: Self.named("orderline_recovery_seconds", "How long recovering the log took at start (snapshot load and replay)"))
        isReplica = registry.makeGauge(descriptor: Self.named("orderline_replica", "1 while this server is a read-only replica"))
        replicas = registry.makeGauge(descriptor: Self.named("orderline_replicas_connected", "Replicas following this server"))
        replicaLag = registry.makeGauge(descriptor: Self.named("orderline_replica_lag_events", "The most events one replica of this server has not acknowledged"))
    }

    /// A metric's whole name (`orderline_…`, unit suffix included) and help text.
    private static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "orderline", metricName: String(name.dropFirst("orderline_".count)), unitName: "", helpText: help)
    }

    /// Once the log is recovered, how long that took.
    public func recorded(recovery: Duration) {
        self.recovery.set(recovery / .seconds(1))
    }

    /// From the WAL's writer, as each fsync returns.
    public func recordFsync(microseconds: UInt64) {
        fsyncDuration.record(.microseconds(Int64(microseconds)))
    }

    /// Sets every metric from `snapshot` and `statistics`, then answers the exposition.
    func exposition(after snapshot: MetricsSnapshot, statistics: ServerStatistics) -> [UInt8] {
        up.set(Double(snapshot.ready ? 1 : 0))
        connections.set(Double(statistics.connectedClients.load(ordering: .relaxed)))
        requestsWaiting.set(Double(statistics.requestsWaiting.load(ordering: .relaxed)))
        loopLag.set(Double(statistics.loopLagMicroseconds.load(ordering: .relaxed)) / 1e6)
        advance(connectionsAccepted, to: statistics.totalConnections.load(ordering: .relaxed))
        advance(commands, to: statistics.commandsProcessed.load(ordering: .relaxed))
        advance(authFailures, to: statistics.authFailures.load(ordering: .relaxed))
        advance(refusedBusy, to: statistics.rejectedBusy.load(ordering: .relaxed))
        advance(soldOut, to: snapshot.soldOutReplies)
        if let wal = snapshot.wal {
            lsnLast.set(Double(wal.lsnLast))
            lsnDurable.set(Double(wal.lsnDurable))
            walCompressionRatio.set(wal.bytesOnDisk == 0 ? 0 : Double(wal.rawBytes) / Double(wal.bytesOnDisk))
            walEventsPerFrame.set(wal.frames == 0 ? 0 : Double(wal.eventsWritten) / Double(wal.frames))
            walFailed.set(Double(wal.failure == nil ? 0 : 1))
            advance(walBytes, to: Int(wal.bytesOnDisk))
            advance(walRawBytes, to: Int(wal.rawBytes))
            advance(walFrames, to: Int(wal.frames))
            advance(walFsyncs, to: Int(wal.fsyncs))
        }
        reservationsHeld.set(Double(snapshot.reservationsHeld))
        for (status, gauge) in orders { gauge.set(Double(snapshot.ordersByStatus[status] ?? 0)) }
        snapshotLSN.set(Double(snapshot.lastSnapshotLSN ?? 0))
        snapshotDuration.set(snapshot.lastSnapshotSeconds ?? 0)
        snapshotAge.set(snapshot.lastSnapshotAgeSeconds ?? -1)
        isReplica.set(Double(snapshot.isReplica ? 1 : 0))
        replicas.set(Double(snapshot.replicasConnected))
        replicaLag.set(Double(snapshot.replicaLagMax))
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }

    /// A Prometheus counter only goes up: by what its source counted since the last scrape.
    private func advance(_ counter: Counter, to total: Int) {
        let increase = counted.withLock { counted in
            let increase = total - (counted[ObjectIdentifier(counter)] ?? 0)
            if increase > 0 { counted[ObjectIdentifier(counter)] = total }
            return increase
        }
        if increase > 0 { counter.increment(by: Int64(increase)) }
    }
}
