/// A request the core can decide, already parsed and validated for form (see
/// `CommandTable`). Whether it is allowed by the state is `OrderlineState.decide`'s job.
public enum Command: Hashable, Sendable {
    case nodeAdd(NodeUpdate)
    case nodeGet(String)
    case nodeList
    case skuAdd(SKU)
    case skuGet(String)
    case stockSet(node: String, sku: String, onHand: Int64, safety: Int64?, expectedOnHand: Int64?)
    case stockAdjust(node: String, sku: String, delta: Int64, reason: String)
    case stockGet(sku: String, node: String?)
    case reserve(sku: String, quantity: Int64, node: String?, ttlSeconds: Int64, idempotencyKey: String?, customer: String? = nil)
    case release(ReservationID)
    case commit(ReservationID, idempotencyKey: String?)
    case reservationGet(ReservationID)
    case stockTransfer(from: String, to: String, sku: String, quantity: Int64, idempotencyKey: String?)
    case transferReceive(TransferID)
    case transferGet(TransferID)
    case orderCreate(OrderRequest)
    case orderGet(String)
    case orderExplain(String)
    case orderCancel(String)
    case orderList(status: Order.Status?, customer: String?, channel: Order.Channel?, limit: Int)
    case orderStatus(String)
    case orderEdit(OrderEdit)
    /// Routes an order's backorder again.
    case orderAllocate(String)
    case orderHold(String, reason: String)
    case orderUnhold(String)
    case invoiceGet(String)
    case shipmentGet(ChildID)
    case shipmentList(node: String, status: Shipment.Status?, limit: Int)
    case shipmentAdvance(ChildID, Shipment.Transition, booking: ShipmentBooking)
    case returnOpen(ReturnRequest)
    case returnReceive(ChildID, OrderReturn.Condition)
    case returnGet(ChildID)
    case kpi(channel: Order.Channel?, from: Timestamp?, to: Timestamp?)
    case fraudGet
    case fraudSet(FraudRulesUpdate)
    case routingGet
    /// Creates or replaces one carrier service of the rate card.
    case carrierSet(CarrierService)
    case carrierList
    /// Sets the named DOM rules; the others keep their values.
    case routingSet(RoutingRulesUpdate)
    /// Fires every reservation whose expiry is at or before `now`; the shell sends it
    /// whenever its clock reaches the next expiry.
    case expireDue

    /// The idempotency key the command carries, if any.
    public var idempotencyKey: String? {
        switch self {
        case .reserve(_, _, _, _, let key, _), .commit(_, let key), .stockTransfer(_, _, _, _, let key): key
        default: nil
        }
    }

    /// The command without its idempotency key, as text: a retry with the same key
    /// must have the same fingerprint.
    public var fingerprint: String {
        switch self {
        case .reserve(let sku, let quantity, let node, let ttlSeconds, _, let customer):
            // Without a customer exactly as before the option existed: remembered
            // fingerprints must still match their retries.
            "RESERVE \(sku) \(quantity) node=\(node ?? "") ttl=\(ttlSeconds)" + (customer.map { " customer=\($0)" } ?? "")
        case .commit(let id, _): "COMMIT \(id)"
        case .stockTransfer(let from, let to, let sku, let quantity, _): "STOCK.TRANSFER \(from) \(to) \(sku) \(quantity)"
        default: "\(self)"
        }
    }

    /// The name of its entry in `CommandTable`: what says whether it writes.
    public var name: String {
        switch self {
        case .nodeAdd: "NODE.ADD"
        case .nodeGet: "NODE.GET"
        case .nodeList: "NODE.LIST"
        case .skuAdd: "SKU.ADD"
        case .skuGet: "SKU.GET"
        case .stockSet: "STOCK.SET"
        case .stockAdjust: "STOCK.ADJUST"
        case .stockGet: "STOCK.GET"
        case .reserve: "RESERVE"
        case .release: "RELEASE"
        case .commit: "COMMIT"
        case .reservationGet: "RESERVATION.GET"
        case .stockTransfer: "STOCK.TRANSFER"
        case .transferReceive: "TRANSFER.RECEIVE"
        case .transferGet: "TRANSFER.GET"
        case .orderCreate: "ORDER.CREATE"
        case .orderGet: "ORDER.GET"
        case .orderExplain: "ORDER.EXPLAIN"
        case .orderCancel: "ORDER.CANCEL"
        case .orderList: "ORDER.LIST"
        case .orderStatus: "ORDER.STATUS"
        case .orderEdit: "ORDER.EDIT"
        case .orderAllocate: "ORDER.ALLOCATE"
        case .orderHold: "ORDER.HOLD"
        case .orderUnhold: "ORDER.UNHOLD"
        case .invoiceGet: "INVOICE.GET"
        case .shipmentGet: "SHIPMENT.GET"
        case .shipmentList: "SHIPMENT.LIST"
        case .shipmentAdvance(_, let transition, _): transition.rawValue
        case .returnOpen: "RETURN.OPEN"
        case .returnReceive: "RETURN.RECEIVE"
        case .returnGet: "RETURN.GET"
        case .kpi: "KPI"
        case .fraudGet: "FRAUD.GET"
        case .fraudSet: "FRAUD.SET"
        case .routingGet: "ROUTING.GET"
        case .carrierSet: "CARRIER.SET"
        case .carrierList: "CARRIER.LIST"
        case .routingSet: "ROUTING.SET"
        case .expireDue: "EXPIRE"  // the shell's, never on the wire: a write
        }
    }

    /// A read, by its entry in the registry (`CommandSpec.writes`): nothing else says.
    public var isRead: Bool { CommandTable.spec(uppercasedName: name)?.writes == false }
}

/// `NODE.ADD` creates or updates: options left out keep the node's current values
/// (or the defaults, for a new node).
public struct NodeUpdate: Hashable, Sendable {
    public var id: String
    public var kind: Node.Kind
    public var location: Coordinate
    public var ships: Bool?
    public var offersPickup: Bool?
    public var acceptsReturns: Bool?
    public var capacityPerDay: Int64?
    public var handlingCostCents: Int64?

    public init(
        id: String, kind: Node.Kind, location: Coordinate, ships: Bool? = nil, offersPickup: Bool? = nil,
        acceptsReturns: Bool? = nil, capacityPerDay: Int64? = nil, handlingCostCents: Int64? = nil
    ) {
        self.id = id
        self.kind = kind
        self.location = location
        self.ships = ships
        self.offersPickup = offersPickup
        self.acceptsReturns = acceptsReturns
        self.capacityPerDay = capacityPerDay
        self.handlingCostCents = handlingCostCents
    }

    func applied(to existing: Node?) -> Node {
        Node(
            id: id, kind: kind, location: location,
            ships: ships ?? existing?.ships ?? true,
            offersPickup: offersPickup ?? existing?.offersPickup ?? (kind == .store),
            acceptsReturns: acceptsReturns ?? existing?.acceptsReturns ?? (kind != .dropship),
            capacityPerDay: capacityPerDay ?? existing?.capacityPerDay ?? 0,
            handlingCostCents: handlingCostCents ?? existing?.handlingCostCents ?? 0)
    }
}

/// What `ORDER.CREATE` answers: the whole order as JSON (the default), or only what
/// an intake client needs, its id or its status (no JSON is built: about a third of
/// the core's cost of an order).
public enum OrderReplyForm: String, Sendable, CaseIterable {
    case id, status, full
}

/// What `ORDER.CREATE` asks for, validated for form.
public struct OrderRequest: Hashable, Sendable {
    public var id: String
    public var channel: Order.Channel
    public var customer: String
    public var lines: [(sku: String, quantity: Int64)]
    public var destination: Coordinate?
    public var address: String
    public var pickupStore: String?
    public var service: ServiceLevel
    /// Carts (network reservations) whose units the order takes over.
    public var reservations: [ReservationID]
    /// A payment token to authorise the total with (see `PaymentSimulator`).
    public var paymentToken: String?
    /// What the reply holds (`reply=`): not part of what the order says, so a retry
    /// may ask for another form.
    public var reply: OrderReplyForm = .full

    public init(
        id: String, channel: Order.Channel, customer: String, lines: [(sku: String, quantity: Int64)], destination: Coordinate?,
        address: String = "", pickupStore: String? = nil, service: ServiceLevel = .standard, reservations: [ReservationID] = [],
        paymentToken: String? = nil
    ) {
        self.reservations = reservations
        self.paymentToken = paymentToken
        self.id = id
        self.channel = channel
        self.customer = customer
        self.lines = lines
        self.destination = destination
        self.address = address
        self.pickupStore = pickupStore
        self.service = service
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.fingerprint == rhs.fingerprint && lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id); hasher.combine(fingerprint) }

    /// What the request says, without what the server adds: the order keeps it as
    /// `Order.request`, and a retry with the same id must say the same.
    /// Written into every order on disk, so its text never changes (CommandTests pins
    /// it); built in one string, as interpolating and joining pieces cost 10 % of
    /// placing an order.
    var fingerprint: String {
        var text = ""
        text.reserveCapacity(64 + 24 * lines.count + address.utf8.count)
        text += channel.rawValue
        text += " "
        text += customer
        text += " "
        for (index, line) in lines.enumerated() {
            if index > 0 { text += "," }
            text += line.sku
            text += ":"
            text += String(line.quantity)
        }
        text += " "
        text += destination?.description ?? "-"
        text += " "
        text += pickupStore ?? "-"
        text += " "
        text += service.rawValue
        text += " "
        if reservations.isEmpty { text += "-" }
        for (index, id) in reservations.enumerated() {
            if index > 0 { text += "," }
            text += id.description
        }
        text += " "
        text += address
        text += " "
        text += paymentToken.map(PaymentSimulator.mask) ?? "-"
        return text
    }
}

/// `ORDER.EDIT`: what changes; nil keeps it. The order is routed again.
public struct OrderEdit: Hashable, Sendable {
    public var id: String
    public var destination: Coordinate?
    public var address: String?
    public var lines: [Shipment.Line]?

    public init(id: String, destination: Coordinate? = nil, address: String? = nil, lines: [Shipment.Line]? = nil) {
        self.id = id
        self.destination = destination
        self.address = address
        self.lines = lines
    }
}

/// `SHIPMENT.SHIP`'s choices: another carrier service than routing booked, or the
/// carrier's own tracking number.
public struct ShipmentBooking: Hashable, Sendable {
    public var carrier: String?
    public var service: String?
    public var tracking: String?

    public init(carrier: String? = nil, service: String? = nil, tracking: String? = nil) {
        self.carrier = carrier
        self.service = service
        self.tracking = tracking
    }
}

/// `RETURN.OPEN`.
public struct ReturnRequest: Hashable, Sendable {
    public var order: String
    public var lines: [Shipment.Line]
    public var node: String?
    public var reason: String
    /// What the customer wants instead: a linked order is created for it.
    public var exchange: [Shipment.Line]

    public init(order: String, lines: [Shipment.Line], node: String? = nil, reason: String = "", exchange: [Shipment.Line] = []) {
        self.order = order
        self.lines = lines
        self.node = node
        self.reason = reason
        self.exchange = exchange
    }
}

/// `ROUTING.SET`: the rules it names; nil keeps the current value.
public struct RoutingRulesUpdate: Hashable, Sendable {
    public var strategy: RoutingRules.Strategy?
    public var allowSplit: Bool?
    public var splitPenaltyCents: Int64?
    public var shipFromStore: Bool?
    public var excludedNodes: [String]?
    public var priority: [String]?
    public var allowBackorder: Bool?

    public init() {}

    func applied(to rules: RoutingRules) -> RoutingRules {
        var updated = rules
        if let strategy { updated.strategy = strategy }
        if let allowSplit { updated.allowSplit = allowSplit }
        if let splitPenaltyCents { updated.splitPenaltyCents = splitPenaltyCents }
        if let shipFromStore { updated.shipFromStore = shipFromStore }
        if let excludedNodes { updated.excludedNodes = Set(excludedNodes) }
        if let priority { updated.priority = priority }
        if let allowBackorder { updated.allowBackorder = allowBackorder }
        return updated
    }
}

/// What the shell hands `decide` besides the command: the time, and the id a new
/// reservation would get. Both end up in the events.
public struct DecisionContext: Sendable {
    public var now: Timestamp
    public var nextReservationID: ReservationID
    public var nextTransferID: TransferID
    /// Who asks: recorded as the owner of reservations it creates.
    public var role: Role
    /// Authorises, captures and refunds (see `PaymentGateway`).
    public var payments: any PaymentGateway = PaymentSimulator()
    /// What a scoped role may hold (`OwnerQuotas`).
    public var quotas = OwnerQuotas()

    public init(now: Timestamp, nextReservationID: ReservationID, nextTransferID: TransferID = TransferID(1), role: Role = .admin) {
        self.now = now
        self.nextReservationID = nextReservationID
        self.nextTransferID = nextTransferID
        self.role = role
    }
    /// New ids numbered just above the highest ever created (they are in the log, so a
    /// replay sees the same ones).
    init(now: Timestamp, after reservationIDMax: ReservationID, _ transferIDMax: TransferID, role: Role, quotas: OwnerQuotas) {
        self.init(
            now: now, nextReservationID: ReservationID(reservationIDMax.number + 1),
            nextTransferID: TransferID(transferIDMax.number + 1), role: role)
        self.quotas = quotas
    }
}

/// The outcome of deciding an accepted command: the events to log (possibly none)
/// and the reply to send once they are durable.
public struct Decision: Hashable, Sendable {
    public var events: [Event]
    public var reply: Reply

    public init(events: [Event], reply: Reply) {
        self.events = events
        self.reply = reply
    }
}

extension OrderlineState {
    /// The context a single-engine shell uses: new ids numbered just above the
    /// highest ever created (they are in the log, so a replay sees the same ones).
    public func decisionContext(now: Timestamp, role: Role = .admin, quotas: OwnerQuotas = OwnerQuotas()) -> DecisionContext {
        DecisionContext(now: now, after: reservationIDMax, transferIDMax, role: role, quotas: quotas)
    }
}
