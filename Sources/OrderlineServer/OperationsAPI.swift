import NIOCore
import OrderlineCore
import Synchronization

/// What the operations page (`GET /`) shows, as JSON (`GET /api/…`). The overview is
/// read on the engine's loop in one short task, at most once a second whatever the
/// number of pages open (one answer serves them all). The one scan that grows with the
/// catalogue, for the SKUs whose stock carts and holds take most of, runs off the loop
/// at most every five seconds, on the shards' stock records (copy on write: the
/// engine's first change to a shard's stock while the scan holds them copies that
/// shard's records once). `/api/order` and `/api/sku` go through `Engine.submit` as a
/// viewer's reads would, and are answered once the WAL covers what they saw.
struct OperationsAPI {
    /// The latency histogram's bucket bounds (µs) as a JSON array: the same for every overview.
    static let bucketBoundsMicroseconds = "[" + RequestMetrics.bucketNanoseconds.map { String($0 / 1_000) }.joined(separator: ",") + "]"
    let eventLoop: any EventLoop
    let slot: ServingSlot
    let statistics: ServerStatistics
    let requests: RequestMetrics
    let cache = Cache()

    /// The last overview and the last scan of the hottest SKUs, with when they were made.
    final class Cache: Sendable {
        let overview = Mutex<(at: ContinuousClock.Instant, json: String)?>(nil)
        let hottest = Mutex<(at: ContinuousClock.Instant, skus: [JSONObject])?>(nil)
    }

    static let overviewSeconds: Duration = .seconds(1)
    static let hottestSeconds: Duration = .seconds(5)

    /// `GET /api/overview`.
    func overview() async throws -> String {
        let now = ContinuousClock.now
        if let cached = cache.overview.withLock({ $0 }), now - cached.at < Self.overviewSeconds { return cached.json }
        let (slot, statistics, requests) = (slot, statistics, requests)
        let scanDue = cache.hottest.withLock { $0.map { now - $0.at >= Self.hottestSeconds } ?? true }
        let gathered: (object: JSONObject, stock: [[String: SKUInventory]]?) = try await eventLoop.submit {
            var object = JSONObject()
            guard let engine = slot.serving?.engine else {
                object.add("status", "loading")
                return (object, nil)
            }
            return engine.assumeIsolated { engine in
                let wal = engine.walStatistics
                object.add("status", engine.failure == nil ? "ready" : "failed")
                object.add("reason", engine.failure.map { "the log cannot be written: \($0.message)" })
                object.add("role", engine.isReplica ? "replica" : "primary")
                object.add("lsn", engine.lsn)
                object.add("durable_lsn", wal.lsnDurable)
                object.add("requests", Int64(statistics.commandsProcessed.load(ordering: .relaxed)))
                object.add("clients", Int64(statistics.connectedClients.load(ordering: .relaxed)))
                var latency = JSONObject()
                latency.addRaw("le_us", Self.bucketBoundsMicroseconds)
                latency.addRaw("counts", "[" + requests.latencyCounts.map(String.init).joined(separator: ",") + "]")
                object.add("latency", latency)
                var log = JSONObject()
                log.add("fsyncs", wal.fsyncs)
                log.add("fsync_max_us", wal.fsyncMicrosecondsMax)
                log.add("fsyncs_over_10ms", wal.fsyncsOver10Milliseconds)
                log.add("frames", wal.frames)
                log.add("events", wal.eventsWritten)
                log.add("bytes", wal.bytesOnDisk)
                log.add("raw_bytes", wal.rawBytes)
                log.add("failed", wal.failure != nil)
                object.add("wal", log)
                let home = engine.state.home
                object.add("reservations_held", Int64(engine.state.parts.reduce(0) { $0 + $1.reservations.count }))
                object.add("setup_missing", CommandDispatcher.setupMissing(nodes: home.nodes.count, carrierServices: home.rateCard.services.count))
                var byStatus = JSONObject()
                for status in Order.Status.allCases { byStatus.add(named: status.rawValue, home.kpis.ordersByStatus[status] ?? 0) }
                object.add("orders_by_status", byStatus)
                let kpis = ([nil] + Order.Channel.allCases).compactMap { channel -> String? in
                    guard case .success(.bulk(let json)) = engine.submit(.kpi(channel: channel, from: nil, to: nil), as: .viewer).outcome else {
                        return nil
                    }
                    return json
                }
                object.addRaw("kpis", "[" + kpis.joined(separator: ",") + "]")
                object.add("queues", home.workQueues.keys.sorted().map { node in
                    var queue = JSONObject()
                    queue.add("node", node)
                    queue.add("shipments", Int64(home.workQueues[node]?.count ?? 0))
                    return queue
                })
                return (object, scanDue ? engine.state.parts.map(\.inventory) : nil)
            }
        }.get()
        var object = gathered.object
        if let stock = gathered.stock {
            let skus = await Task.detached { Self.hottestSKUs(in: stock, count: 10) }.value
            cache.hottest.withLock { $0 = (ContinuousClock.now, skus) }
        }
        object.add("hot_skus", cache.hottest.withLock { $0?.skus ?? [] })
        let json = object.json
        cache.overview.withLock { $0 = (ContinuousClock.now, json) }
        return json
    }

    /// The SKUs whose stock carts and holds take most of, with their network ATP.
    private static func hottestSKUs(in stock: [[String: SKUInventory]], count: Int) -> [JSONObject] {
        var held: [(sku: String, units: Int64, atp: Int64)] = []
        for inventory in stock {
            for (sku, item) in inventory {
                let units = item.networkReserved + item.levels.values.reduce(0) { $0 + $1.reserved }
                guard units > 0 else { continue }
                held.append((sku, units, item.networkATP))
            }
        }
        return held.sorted { ($0.units, $1.sku) > ($1.units, $0.sku) }.prefix(count).map { entry in
            var object = JSONObject()
            object.add("sku", entry.sku)
            object.add("held", entry.units)
            object.add("atp", entry.atp)
            return object
        }
    }

    /// `GET /api/sku/<id>`: `SKU.GET` and `STOCK.GET` together.
    func sku(_ id: String) async throws -> (found: Bool, json: String) {
        try await read([("sku", .skuGet(id)), ("stock", .stockGet(sku: id, node: nil))])
    }

    /// `GET /api/order/<id>`: `ORDER.GET` and the routing decision (`ORDER.EXPLAIN`).
    func order(_ id: String) async throws -> (found: Bool, json: String) {
        try await read([("order", .orderGet(id)), ("explain", .orderExplain(id))])
    }

    /// Runs read commands as a viewer; `{"error": …}` for the first one refused.
    private func read(_ commands: [(key: StaticString, command: Command)]) async throws -> (found: Bool, json: String) {
        let slot = slot
        let (answers, engine): ([(StaticString, Result<Reply, Rejection>)], Engine?) = try await eventLoop.submit {
            guard let engine = slot.serving?.engine else { return ([], nil) }
            return engine.assumeIsolated { engine in
                (commands.map { ($0.key, engine.submit($0.command, as: .viewer).outcome) }, engine)
            }
        }.get()
        var object = JSONObject()
        guard let engine else {
            object.add("error", "LOADING the server is replaying its log")
            return (false, object.json)
        }
        if let rejection = await engine.waitUntilAcknowledged(await engine.lsn) {
            object.add("error", rejection.description)
            return (false, object.json)
        }
        for (key, answer) in answers {
            switch answer {
            case .success(.bulk(let json)): object.addRaw(key, json)
            case .success(let other): object.add(key, other.description)
            case .failure(let rejection):
                var refused = JSONObject()
                refused.add("error", rejection.description)
                return (false, refused.json)
            }
        }
        return (true, object.json)
    }
}
