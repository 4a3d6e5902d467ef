/// A fact that happened. Commands are decided into events; `OrderlineState.apply`
/// is the only way state changes, live and in recovery alike.
///
/// The large payloads (an order, a shipment step, a return) are `indirect`: an event
/// is as big as its largest inline payload, and every event (most are flash-sale
/// reservations, 88 bytes) used to take an order's 304 bytes in every array and copy.
public enum Event: Hashable, Sendable {
    case nodeUpserted(Node)
    case skuUpserted(SKU)
    case stockSet(node: String, sku: String, onHand: Int64, safety: Int64)
    case stockAdjusted(node: String, sku: String, delta: Int64, reason: String)
    case reservationCreated(Reservation)
    case reservationReleased(ReservationID)
    case reservationCommitted(ReservationID)
    case reservationExpired(ReservationID, at: Timestamp)
    /// A cart's network reservation became part of an order (its units move to the
    /// order's allocations, logged right after).
    case reservationConverted(ReservationID)
    /// A command with an idempotency key succeeded; a retry within the window gets
    /// `reply` again and changes nothing.
    case idempotencyKeyRecorded(IdempotencyRecord)
    case transferShipped(Transfer)
    case transferReceived(TransferID)
    /// The DOM rules as a whole, after a change.
    case routingRulesSet(RoutingRules)
    /// One carrier service of the rate card, created or replaced.
    case carrierServiceSet(CarrierService)
    /// An order captured and routed: its allocations hold stock at their nodes.
    indirect case orderPlaced(Order)
    /// Releases what the order held.
    case orderCancelled(String, at: Timestamp)
    /// The order, re-routed after `ORDER.EDIT`: replaces the one before.
    indirect case orderEdited(Order)
    case orderHeld(String, Order.Hold, at: Timestamp)
    /// Clears every hold.
    case orderUnheld(String, at: Timestamp)
    /// A shipment moved one step (with its label, cost and captured payment when it
    /// shipped or was picked up).
    indirect case shipmentAdvanced(ShipmentProgress)
    indirect case returnOpened(ChildID, OrderReturn)
    /// Received in `condition`; `refundCents` is the gateway's answer.
    case returnReceived(ChildID, OrderReturn.Condition, refundCents: Int64, at: Timestamp)
    /// The fraud rules as a whole, after a change.
    case fraudRulesSet(FraudRules)

    public var name: String {
        switch self {
        case .nodeUpserted: "node_upserted"
        case .skuUpserted: "sku_upserted"
        case .stockSet: "stock_set"
        case .stockAdjusted: "stock_adjusted"
        case .reservationCreated: "reservation_created"
        case .reservationReleased: "reservation_released"
        case .reservationCommitted: "reservation_committed"
        case .reservationExpired: "reservation_expired"
        case .reservationConverted: "reservation_converted"
        case .idempotencyKeyRecorded: "idempotency_key_recorded"
        case .transferShipped: "transfer_shipped"
        case .transferReceived: "transfer_received"
        case .routingRulesSet: "routing_rules_set"
        case .carrierServiceSet: "carrier_service_set"
        case .orderPlaced: "order_placed"
        case .orderCancelled: "order_cancelled"
        case .orderEdited: "order_edited"
        case .orderHeld: "order_held"
        case .orderUnheld: "order_unheld"
        case .shipmentAdvanced: "shipment_advanced"
        case .returnOpened: "return_opened"
        case .returnReceived: "return_received"
        case .fraudRulesSet: "fraud_rules_set"
        }
    }
}

/// The first answer to a command sent with `idem=<key>`.
public struct IdempotencyRecord: Hashable, Sendable {
    public var key: String
    public var fingerprint: String
    public var reply: Reply
    public var recordedAt: Timestamp

    public init(key: String, fingerprint: String, reply: Reply, recordedAt: Timestamp) {
        self.key = key
        self.fingerprint = fingerprint
        self.reply = reply
        self.recordedAt = recordedAt
    }
}

/// One step of a shipment's lifecycle, as logged.
public struct ShipmentProgress: Hashable, Sendable {
    public var shipment: ChildID
    public var status: Shipment.Status
    public var at: Timestamp
    /// Set when it ships: the service booked, its cost, tracking number and label.
    public var carrier: String?
    public var service: String?
    public var costCents: Int64 = 0
    public var tracking = ""
    public var label = ""
    /// Set when it ships or is picked up: what the gateway captured.
    public var capturedCents: Int64 = 0

    public init(shipment: ChildID, status: Shipment.Status, at: Timestamp) {
        self.shipment = shipment
        self.status = status
        self.at = at
    }
}
