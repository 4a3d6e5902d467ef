/// A customer order, captured from any channel into one record. Its allocations are
/// what the router chose, logged with the order, so a replay never re-routes.
public struct Order: Hashable, Sendable {
    public enum Channel: String, Hashable, Sendable, CaseIterable {
        case web, mobile, marketplace, pos, callcenter, edi, b2b
    }

    public enum Status: String, Hashable, Sendable {
        case allocated, backordered, cancelled
        /// Payment was declined or failed: nothing is held.
        case rejected
    }

    /// The authorisation taken at capture (captured at shipment, refunded on return:
    /// to come with shipments and returns).
    public struct Payment: Hashable, Sendable {
        public enum Status: String, Hashable, Sendable { case authorized, declined, failed }
        /// Masked: the log never holds a whole token.
        public var token: String
        public var status: Status
        public var amountCents: Int64
        public var reason: String
    }

    public struct Line: Hashable, Sendable {
        public var sku: String
        public var quantity: Int64
        /// The SKU's price when the order was placed.
        public var priceCents: Int64
    }

    public struct Allocation: Hashable, Sendable {
        public var sku: String
        public var node: String
        public var quantity: Int64
    }

    public var id: String
    public var channel: Channel
    public var customer: String
    public var lines: [Line]
    public var destination: Coordinate?
    public var address: String
    /// The store the customer collects at (BOPIS), or nil to ship.
    public var pickupStore: String?
    public var service: ServiceLevel
    public var status: Status
    public var allocations: [Allocation]
    /// Units no node could promise (the order is `backordered` while there are any).
    public var backordered: [Allocation]
    /// `ORDER.EXPLAIN`: the router's candidates and the rule that decided, as JSON.
    public var explanation: String
    public var placedAt: Timestamp
    /// The carts converted into it.
    public var reservations: [ReservationID]
    /// nil when the order came without `payment=` (invoiced channels: B2B, EDI).
    public var payment: Payment?

    public var totalCents: Int64 { lines.reduce(0) { $0 + $1.priceCents * $1.quantity } }

    /// What `ORDER.CREATE` said, without what the server added: a retry with the same
    /// id must say the same.
    var request: String {
        Order.requestText(
            channel: channel, customer: customer, lines: lines.map { "\($0.sku):\($0.quantity)" }.joined(separator: ","),
            destination: destination, pickupStore: pickupStore, service: service, reservations: reservations, address: address)
            + " " + (payment?.token ?? "-")
    }

    static func requestText(
        channel: Channel, customer: String, lines: String, destination: Coordinate?, pickupStore: String?, service: ServiceLevel,
        reservations: [ReservationID], address: String
    ) -> String {
        let carts = reservations.isEmpty ? "-" : reservations.map(\.description).joined(separator: ",")
        return "\(channel.rawValue) \(customer) \(lines) \(destination?.description ?? "-") \(pickupStore ?? "-") \(service.rawValue) \(carts) \(address)"
    }
}
