import OrderlineCore
import OrderlineStorage

/// Where each order's events lie in the log: its first and last LSN, for the orders
/// touched since the server started (its recovery's tail included): one dictionary
/// entry an order (its id and two LSNs) beside the state; not in snapshots, not in
/// the digest.
struct OrderSpans: Sendable {
    struct Span: Sendable {
        var first: LSN
        var last: LSN
    }

    private(set) var spans: [String: Span] = [:]

    mutating func note(_ event: Event, at lsn: LSN) {
        guard let id = event.orderID else { return }
        if spans[id] != nil { spans[id]!.last = lsn } else { spans[id] = Span(first: lsn, last: lsn) }
    }

    subscript(order: String) -> Span? { spans[order] }
}

/// `ORDER.HISTORY <order>`: every event that changed the order, its shipments and its
/// returns, oldest first, as `{"order":…,"complete":…,"events":[{"lsn":…,"time":…,"type":…,"event":{…}}]}`.
/// Read from the segments off the loop, from the order's first event to its last when
/// the server saw them since it started (`OrderSpans`): the cost is the events between
/// those two, not the log. An order older than that is looked for from the oldest
/// segment kept; `complete` is false when its placement is no longer in the log.
enum OrderHistory {
    /// Events looked at, at most, in one answer.
    static let scanMax = 2_000_000

    static func read(order: String, span: OrderSpans.Span?, in directory: DataDirectory, acknowledged: LSN) throws -> String {
        let oldestKept = (try directory.segments().first?.firstLSN ?? 1) - 1
        // From the order's first event, or from the oldest segment kept when that one is gone (or unknown).
        let after = max(span.map { $0.first - 1 } ?? oldestKept, oldestKept)
        let through = min(span?.last ?? acknowledged, acknowledged)
        var entries: [JSONObject] = []
        var placed = false
        var time: Timestamp?
        var scanned = 0
        // Frames are whole: the one holding `through` may go on past it.
        try LogFollower(directory: directory, after: after, lsnLast: acknowledged).forEachEvent(acknowledged: acknowledged) { lsn, event in
            guard lsn <= through else { return false }
            scanned += 1
            if let stamped = event.stampedTime { time = max(time ?? stamped, stamped) }
            if event.orderID == order {
                if case .orderPlaced = event { placed = true }
                var entry = JSONObject()
                entry.add("lsn", lsn)
                entry.add("time", time.map(CalendarDate.formatDateTime))
                entry.add("type", event.name)
                entry.addRaw("event", event.json(lsn: lsn))
                entries.append(entry)
            }
            return scanned < scanMax
        }
        var reply = JSONObject()
        reply.add("order", order)
        reply.add("complete", placed)
        reply.add("events", entries)
        return reply.json
    }
}
