/// A soft hold on stock with a time-to-live: a flash-sale cart (no node, holds
/// network ATP) or a POS scan (holds one node's ATP).
public struct Reservation: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Status: UInt8, Sendable, CaseIterable {
        case held = 0, committed = 1, released = 2, expired = 3, converted = 4

        public var name: String {
            switch self {
            case .held: "held"
            case .committed: "committed"
            case .released: "released"
            case .expired: "expired"
            case .converted: "converted"
            }
        }
    }

    public var id: ReservationID
    public var sku: String
    public var quantity: Int64
    /// nil for a network reservation.
    public var node: String?
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    /// The scoped role that created it (`channel:web`, `pos:ST-1`), or empty.
    public var owner: String
    /// The shopper it holds stock for (`RESERVE … customer=`), for per-customer limits.
    /// Kept in a box of its own: inline it would make every event 9 bytes larger than
    /// the 96 an event takes (`anEventIsNoBiggerThanAReservationPayload`).
    public var customer: String? {
        get { customerBox?.customer }
        set { customerBox = newValue.map(CustomerBox.init) }
    }
    private var customerBox: CustomerBox?
    /// Last: it packs into what the fields before it leave over.
    public var status: Status

    public init(
        id: ReservationID, sku: String, quantity: Int64, node: String?, status: Status = .held,
        createdAt: Timestamp, expiresAt: Timestamp, owner: String = "", customer: String? = nil
    ) {
        self.owner = owner
        self.customerBox = customer.map(CustomerBox.init)
        self.id = id
        self.sku = sku
        self.quantity = quantity
        self.node = node
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// An immutable box: compared and hashed by its content, so `Reservation` stays a value.
private final class CustomerBox: Hashable, Sendable {
    let customer: String
    init(_ customer: String) { self.customer = customer }
    static func == (lhs: CustomerBox, rhs: CustomerBox) -> Bool { lhs.customer == rhs.customer }
    func hash(into hasher: inout Hasher) { hasher.combine(customer) }
}
