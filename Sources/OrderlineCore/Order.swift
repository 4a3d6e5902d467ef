/// A customer order, captured from any channel into one record. What routing chose is
/// logged with it (its shipments), so a replay never re-routes. Each shipment has its
/// own lifecycle; the order's status summarises them.
public struct Order: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Channel: String, Hashable, Sendable, CaseIterable {
        case web, mobile, marketplace, pos, callcenter, edi, b2b
    }

    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Status: String, Hashable, Sendable, CaseIterable {
        case onHold = "on_hold"
        /// Payment was declined or failed: nothing is held.
        case rejected
        case backordered, allocated
        case partiallyShipped = "partially_shipped"
        case shipped, delivered
        case readyForPickup = "ready_for_pickup"
        case pickedUp = "picked_up"
        case cancelled

        /// Reached the customer (or the pickup shelf, then the customer) in full.
        public var isComplete: Bool { self == .delivered || self == .pickedUp }
        /// Every unit left its node.
        public var isFulfilled: Bool { self == .shipped || isComplete }
    }

    /// Authorised at capture, captured as shipments leave, refunded on return.
    public struct Payment: Hashable, Sendable {
        /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
        public enum Status: String, Hashable, Sendable { case authorized, declined, failed }
        /// Masked: the log never holds a whole token.
        public var token: String
        public var status: Status
        public var amountCents: Int64
        public var reason: String
        public var capturedCents: Int64 = 0
        public var refundedCents: Int64 = 0
    }

    public struct Line: Hashable, Sendable {
        public var sku: String
        public var quantity: Int64
        /// The SKU's price when the order was placed.
        public var priceCents: Int64
        /// Units cancelled (with the order, or from its backorder).
        public var cancelled: Int64 = 0
    }

    public struct Allocation: Hashable, Sendable {
        public var sku: String
        public var node: String
        public var quantity: Int64
    }

    /// Why an order waits for review. Fraud rules add typed holds at capture;
    /// `ORDER.HOLD` adds a manual one; `ORDER.UNHOLD` clears them all.
    public struct Hold: Hashable, Sendable {
        /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
        public enum Kind: String, Hashable, Sendable, CaseIterable {
            case amount, velocity
            case blockedCustomer = "blocked_customer"
            case distance, manual
            /// An exchange's replacement waits until the return it replaces is received
            /// (`ORDER.UNHOLD` does not lift it; `RETURN.RECEIVE` does).
            case awaitingReturn = "awaiting_return"
        }

        public var kind: Kind
        public var reason: String
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
    public var shipments: [Shipment]
    /// Units no node could promise.
    public var backordered: [Allocation]
    public var holds: [Hold] = []
    public var returns: [OrderReturn] = []
    /// `ORDER.EXPLAIN`: the router's candidates and the rule that decided.
    public var routing: RoutingDecision
    public var placedAt: Timestamp
    /// When the last shipment is due at the customer (or on the pickup shelf).
    public var promisedAt: Timestamp
    /// The carts converted into it.
    public var reservations: [ReservationID]
    /// nil when the order came without `payment=` (invoiced channels: B2B, EDI).
    public var payment: Payment?
    /// What `ORDER.CREATE` said (see `OrderRequest.fingerprint`): a retry with the same
    /// id must say the same, also after `ORDER.EDIT`.
    public var request: String
    /// The return this order is the exchange for (`<order>-R<n>`): its payment is the
    /// paying order's, found by following these links back.
    public var exchangeFor: String?

    public var totalCents: Int64 { lines.reduce(Int64(0)) { $0.adding(saturating: $1.priceCents.multiplied(saturating: $1.quantity)) } }

    /// Units still held at nodes (shipments not yet gone).
    public var allocations: [Allocation] { units(.allocated) }

    /// Units that left their nodes.
    public var consumed: [Allocation] { units(.consumed) }

    /// Returned units back on a node's shelf.
    public var restocked: [Allocation] { units(.restocked) }

    /// Where an order's units are, as stock sees them.
    enum UnitKind {
        /// Held at a node: in shipments not yet gone.
        case allocated
        /// Gone from their node.
        case consumed
        /// Returned resellable, back on a node's shelf.
        case restocked
    }

    /// Calls `body(sku, node, quantity)` for each unit of that kind, where it lies.
    func forEachUnit(_ kind: UnitKind, _ body: (String, String, Int64) -> Void) {
        switch kind {
        case .allocated, .consumed:
            for shipment in shipments where kind == .allocated ? shipment.status.holdsStock : shipment.status.leftNode {
                for line in shipment.lines { body(line.sku, shipment.node, line.quantity) }
            }
        case .restocked:
            for returned in returns where returned.condition == .resellable && returned.status.wasReceived {
                for line in returned.lines { body(line.sku, returned.node, line.quantity) }
            }
        }
    }

    private func units(_ kind: UnitKind) -> [Allocation] {
        var units: [Allocation] = []
        forEachUnit(kind) { units.append(Allocation(sku: $0, node: $1, quantity: $2)) }
        return units
    }

    /// Where one line's units are: what `ORDER.GET` shows per line, and what
    /// `orderline export --kind orders` writes.
    public struct LineProgress: Hashable, Sendable {
        public var allocated: Int64
        public var shipped: Int64
        public var backordered: Int64
        public var returned: Int64
    }

    /// One pass over the shipments, the backorder and the returns, with no arrays
    /// built on the way (every line of every order reply asks this).
    public func progress(of sku: String) -> LineProgress {
        var progress = LineProgress(allocated: 0, shipped: 0, backordered: 0, returned: returned(sku))
        for shipment in shipments {
            let holds = shipment.status.holdsStock, left = shipment.status.leftNode
            guard holds || left else { continue }
            for line in shipment.lines where line.sku == sku {
                if holds { progress.allocated += line.quantity }
                if left { progress.shipped += line.quantity }
            }
        }
        for unit in backordered where unit.sku == sku { progress.backordered += unit.quantity }
        return progress
    }

    func quantity(of sku: String, in shipments: some Sequence<Shipment>) -> Int64 {
        shipments.reduce(0) { total, shipment in total + shipment.lines.filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity } }
    }

    /// Units of `sku` in returns (open or done).
    public func returned(_ sku: String) -> Int64 {
        var units: Int64 = 0
        for returned in returns where returned.status != .rejected {
            for line in returned.lines where line.sku == sku { units += line.quantity }
        }
        return units
    }

    /// Units of `sku` the customer received and has not yet returned.
    public func returnable(_ sku: String) -> Int64 {
        quantity(of: sku, in: shipments.filter(\.status.reachedCustomer)) - returned(sku)
    }

    /// When the order reached the customer in full: its last shipment's arrival.
    public var completedAt: Timestamp? {
        guard status.isComplete else { return nil }
        return shipments.filter { $0.status != .cancelled }.compactMap(\.arrivedAt).max()
    }

    /// The status its shipments, holds and backorder add up to.
    func summarizedStatus() -> Status {
        if status == .rejected || status == .cancelled { return status }
        // Counted, not filtered: every change of every order comes here.
        var active = 0, left = 0, delivered = 0
        var firstActive: Shipment.Status?
        for shipment in shipments where shipment.status != .cancelled {
            active += 1
            if firstActive == nil { firstActive = shipment.status }
            if shipment.status.leftNode { left += 1 }
            if shipment.status == .delivered { delivered += 1 }
        }
        if !holds.isEmpty && left == 0 { return .onHold }
        if pickupStore != nil, let firstActive, backordered.isEmpty {
            switch firstActive {
            case .pickedUp: return .pickedUp
            case .readyForPickup: return .readyForPickup
            default: return .allocated
            }
        }
        if active > 0 && backordered.isEmpty {
            if delivered == active { return .delivered }
            if active == left { return .shipped }
        }
        if left > 0 { return .partiallyShipped }
        return backordered.isEmpty ? .allocated : .backordered
    }

    /// Cancels what has not left a node: its shipments and its backorder.
    mutating func cancel() {
        for index in shipments.indices where shipments[index].status.holdsStock {
            shipments[index].status = .cancelled
            for line in shipments[index].lines { addCancelled(line.quantity, of: line.sku) }
        }
        for unit in backordered { addCancelled(unit.quantity, of: unit.sku) }
        backordered = []
        status = .cancelled
    }

    /// One logged step of one shipment.
    mutating func advance(_ progress: ShipmentProgress) {
        guard let index = shipments.firstIndex(where: { $0.number == progress.shipment.number }) else { return }
        shipments[index].status = progress.status
        shipments[index].updatedAt = progress.at
        switch progress.status {
        case .shipped:
            shipments[index].carrier = progress.carrier
            shipments[index].service = progress.service
            shipments[index].costCents = progress.costCents
            shipments[index].tracking = progress.tracking
            shipments[index].label = progress.label
        case .delivered, .readyForPickup:
            shipments[index].arrivedAt = progress.at
        default:
            break
        }
        shipments[index].capturedCents += progress.capturedCents
        payment?.capturedCents += progress.capturedCents
    }

    mutating func receiveReturn(_ number: Int, condition: OrderReturn.Condition, refundCents: Int64, at: Timestamp) {
        guard let index = returns.firstIndex(where: { $0.number == number }), returns[index].status == .open else { return }
        returns[index].condition = condition
        returns[index].receivedAt = at
        returns[index].refundCents = refundCents
        returns[index].status = refundCents > 0 ? .refunded : .received
        payment?.refundedCents += refundCents
    }

    /// What the customer paid for `lines` (at the order's prices).
    func value(of lines: [Shipment.Line]) -> Int64 {
        lines.reduce(Int64(0)) { total, line in
            total.adding(saturating: line.quantity.multiplied(saturating: self.lines.first { $0.sku == line.sku }?.priceCents ?? 0))
        }
    }

    private mutating func addCancelled(_ quantity: Int64, of sku: String) {
        guard let index = lines.firstIndex(where: { $0.sku == sku }) else { return }
        lines[index].cancelled += quantity
    }
}
