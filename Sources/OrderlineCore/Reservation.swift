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
    public var status: Status
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    /// The scoped role that created it (`channel:web`, `pos:ST-1`), or empty.
    public var owner: String

    public init(
        id: ReservationID, sku: String, quantity: Int64, node: String?, status: Status = .held,
        createdAt: Timestamp, expiresAt: Timestamp, owner: String = ""
    ) {
        self.owner = owner
        self.id = id
        self.sku = sku
        self.quantity = quantity
        self.node = node
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
