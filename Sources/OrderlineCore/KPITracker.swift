/// The OMS's key figures, kept up to date as orders change, by channel and by the
/// hour the order was placed in: a `KPI` call adds up hour buckets, it never visits
/// orders. Derived from the orders (rebuilt when a snapshot loads), so it is the same
/// after any replay.
///
/// Definitions (over orders placed in the window):
/// - fulfillment rate: orders whose every unit left its node / orders not rejected;
/// - cycle time: placed → last shipment delivered (or on the pickup shelf), over
///   completed orders (delivered or picked up); p50 and p90 by nearest rank, to within
///   0.05 % (values are kept with 11 significant bits);
/// - perfect order rate: completed orders that arrived by the promised time, in full,
///   and have no return / completed orders;
/// - return rate: fulfilled orders with a return / fulfilled orders.
public struct KPITracker: Sendable {
    struct Key: Hashable, Sendable {
        var channel: Order.Channel
        var hour: Int64
    }

    struct Bucket: Sendable {
        var byStatus: [Order.Status: Int64] = [:]
        var fulfilled: Int64 = 0
        var completed: Int64 = 0
        var perfect: Int64 = 0
        var returned: Int64 = 0
        var cycleSeconds: [Int64: Int64] = [:]

        var isEmpty: Bool { byStatus.values.allSatisfy { $0 == 0 } }
    }

    /// One order's part in the figures: removed before it changes, added after.
    struct Facts: Equatable, Sendable {
        var key: Key
        var status: Order.Status
        var cycleSeconds: Int64?
        var perfect: Bool
        var returned: Bool

        init(_ order: Order) {
            key = Key(channel: order.channel, hour: KPITracker.hour(of: order.placedAt))
            status = order.status
            let completedAt = order.completedAt
            cycleSeconds = completedAt.map { KPITracker.quantized(max(0, $0 - order.placedAt)) }
            returned = order.returns.contains { $0.status != .rejected }
            perfect = completedAt.map { $0 <= order.promisedAt } == true && !returned
                && order.lines.allSatisfy { $0.cancelled == 0 }
        }
    }

    private var buckets: [Key: Bucket] = [:]

    public init() {}

    mutating func add(_ order: Order) { count(Facts(order), by: 1) }

    /// Moves an order's part from what it was to what it is (nothing, when a change
    /// did not touch the figures: most shipment steps).
    mutating func update(from old: Order, to new: Order) {
        let before = Facts(old)
        let after = Facts(new)
        guard before != after else { return }
        count(before, by: -1)
        count(after, by: 1)
    }

    private mutating func count(_ facts: Facts, by delta: Int64) {
        var bucket = buckets.removeValue(forKey: facts.key) ?? Bucket()
        bucket.byStatus[facts.status, default: 0] += delta
        if facts.status.isFulfilled {
            bucket.fulfilled += delta
            if facts.returned { bucket.returned += delta }
        }
        if let seconds = facts.cycleSeconds {
            bucket.completed += delta
            if facts.perfect { bucket.perfect += delta }
            bucket.cycleSeconds[seconds, default: 0] += delta
            if bucket.cycleSeconds[seconds] == 0 { bucket.cycleSeconds[seconds] = nil }
        }
        if !bucket.isEmpty { buckets[facts.key] = bucket }
    }

    /// Orders by status, over every channel and hour (`GET /metrics`).
    public var ordersByStatus: [Order.Status: Int64] {
        var total: [Order.Status: Int64] = [:]
        for bucket in buckets.values {
            for (status, count) in bucket.byStatus { total[status, default: 0] += count }
        }
        return total
    }

    /// The figures for orders placed in `[from, to)` (rounded out to whole hours),
    /// of one channel or all; `oversellCount` is the state's.
    public func report(channel: Order.Channel?, from: Timestamp?, to: Timestamp?, oversellCount: Int64) -> String {
        let firstHour = from.map(Self.hour) ?? .min
        let lastHour = to.map { Self.hour(of: $0 - 1) } ?? .max
        var total = Bucket()
        for (key, bucket) in buckets where (channel == nil || key.channel == channel) && key.hour >= firstHour && key.hour <= lastHour {
            for (status, count) in bucket.byStatus { total.byStatus[status, default: 0] += count }
            total.fulfilled += bucket.fulfilled
            total.completed += bucket.completed
            total.perfect += bucket.perfect
            total.returned += bucket.returned
            for (seconds, count) in bucket.cycleSeconds { total.cycleSeconds[seconds, default: 0] += count }
        }
        let orders = total.byStatus.values.reduce(0, +)
        let cycleTimes = total.cycleSeconds.sorted { $0.key < $1.key }
        var object = JSONObject()
        object.add("orders", orders)
        object.addRaw("fulfillment_rate", Self.ratio(total.fulfilled, orders - total.byStatus[.rejected, default: 0]))
        object.addRaw("cycle_time_p50_s", Self.percentile(50, of: cycleTimes, count: total.completed).map(String.init) ?? "null")
        object.addRaw("cycle_time_p90_s", Self.percentile(90, of: cycleTimes, count: total.completed).map(String.init) ?? "null")
        object.addRaw("perfect_order_rate", Self.ratio(total.perfect, total.completed))
        object.addRaw("return_rate", Self.ratio(total.returned, total.fulfilled))
        object.add("oversell_count", oversellCount)
        var byStatus = JSONObject()
        for status in Order.Status.allCases { byStatus.add(named: status.rawValue, total.byStatus[status, default: 0]) }
        object.add("orders_by_status", byStatus)
        object.add("channel", channel?.rawValue ?? "all")
        if let from { object.add("from", Self.hour(of: from) * 3_600) } else { object.addNull("from") }
        if let to { object.add("to", (Self.hour(of: to - 1) + 1) * 3_600) } else { object.addNull("to") }
        return object.json
    }

    static func hour(of timestamp: Timestamp) -> Int64 {
        timestamp >= 0 ? timestamp / 3_600 : (timestamp - 3_599) / 3_600
    }

    /// Keeps the 11 most significant bits: exact below 2,048 s, within 0.05 % above.
    static func quantized(_ seconds: Int64) -> Int64 {
        let width = 64 - seconds.leadingZeroBitCount
        guard width > 11 else { return seconds }
        let shift = width - 11
        return (seconds >> shift) << shift
    }

    /// Nearest rank: the smallest value with at least `percent`% of the values at or below it.
    static func percentile(_ percent: Int64, of sortedCounts: [(key: Int64, value: Int64)], count: Int64) -> Int64? {
        guard count > 0 else { return nil }
        let rank = (percent * count + 99) / 100
        var seen: Int64 = 0
        for (value, occurrences) in sortedCounts {
            seen += occurrences
            if seen >= rank { return value }
        }
        return sortedCounts.last?.key
    }

    /// `numerator / denominator` with four decimals (`null` when nothing was counted).
    static func ratio(_ numerator: Int64, _ denominator: Int64) -> String {
        guard denominator > 0 else { return "null" }
        let tenThousandths = (numerator * 10_000 + denominator / 2) / denominator
        let fraction = String(tenThousandths % 10_000)
        return "\(tenThousandths / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }
}
