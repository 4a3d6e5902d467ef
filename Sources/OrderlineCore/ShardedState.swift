import DequeModule

/// The state split by owner (docs/ARCHITECTURE.md, "Shards"). `home` holds the orders
/// and what every order reads (nodes, rules, rate card, customers, KPIs, work queues,
/// idempotency keys); each of `parts` holds the SKUs of its slots (`ShardMap`): their
/// catalogue entries, stock, reservations and transfers.
///
/// Each command is decided by its owner: a SKU's commands by its shard, an order's by
/// home, on a view that borrows the entries of the SKUs the order names. Each event is
/// applied by its owner; an order's stock effects go from home to the SKUs' shards.
/// It answers every command exactly as the whole `OrderlineState` would, and its
/// canonical records (digest, snapshot) are the whole state's, for any shard count: the
/// equivalence tests hold it to that.
public struct ShardedState: Sendable {
    public let map: ShardMap
    // The setters are internal (not private) for `ShardedState+Run`, which applies a
    // run of events in two passes.
    public internal(set) var home: OrderlineState
    public internal(set) var parts: [OrderlineState]
    /// The shard of each reservation and transfer by id (ids are global: R1, R2, …);
    /// not kept with one shard, which holds them all.
    var reservationShards = NumberedTable<ReservationIDKind, UInt16>()
    var transferShards: [TransferID: Int] = [:]
    /// The ended reservations of all shards, oldest end first: one FIFO, as the whole
    /// state keeps it, so which ones are dropped does not depend on the shard count.
    private var endedReservations = Deque<ReservationID>()
    public internal(set) var lsn: LSN
    public internal(set) var reservationIDMax: ReservationID
    public internal(set) var transferIDMax: TransferID
    public internal(set) var timeLast: Timestamp
    /// The buffer an order event's stock changes are taken into (`moveStock`), kept
    /// empty between events.
    private var stockChangeBuffer: [StockChange] = []
    /// Order events whose stock effects reached more than one shard.
    public internal(set) var crossShardOrderEvents = 0

    public init(shardCount: Int) { self.init(splitting: OrderlineState(), shardCount: shardCount) }

    /// The whole state (recovered, or loaded from a snapshot) handed to its owners.
    public init(splitting whole: OrderlineState, shardCount: Int) {
        map = ShardMap(shardCount: shardCount)
        (home, parts) = whole.split(by: map)
        endedReservations = whole.endedReservations
        if map.shardCount > 1 {
            for reservation in whole.reservations.values {
                reservationShards[reservation.id] = UInt16(map.shard(of: reservation.sku))
            }
        }
        for (id, transfer) in whole.transfers { transferShards[id] = map.shard(of: transfer.sku) }
        lsn = whole.lsn
        reservationIDMax = whole.reservationIDMax
        transferIDMax = whole.transferIDMax
        timeLast = whole.timeLast
    }

    /// The whole state at this cut, for the digest and snapshots: its canonical records
    /// are those of the unsharded state. Its derived state is home's alone.
    public var whole: OrderlineState {
        var merged = home
        for part in parts { merged.absorb(part) }
        merged.becomeWhole(endedReservations: endedReservations, reservationIDMax: reservationIDMax, lsn: lsn, timeLast: timeLast)
        return merged
    }

    public var digest: StateDigest { whole.digest }

    /// As `OrderlineState.deferDerivedOrderState`, at home (which holds the orders).
    public mutating func deferDerivedOrderState() { home.deferDerivedOrderState() }

    public mutating func rebuildDerivedOrderState() { home.rebuildDerivedOrderState() }

    /// A SKU's stock as its shard holds it (nil: none yet). Mutating only to read the
    /// shard in place (see `decide`).
    public mutating func stock(ofSKU sku: String) -> SKUInventory? { parts[shard(ofSKU: sku)].inventory[sku] }

    public func shard(ofSKU sku: String) -> Int { map.shard(of: sku) }

    public func shard(ofReservation id: ReservationID) -> Int {
        // Unknown ids go to shard 0, which answers NOTFOUND as the whole state would.
        map.shardCount == 1 ? 0 : reservationShards[id].map(Int.init) ?? 0
    }

    /// The earliest held reservation to expire, of all shards: by time, then by id, as
    /// the whole state's queue orders them.
    public var nextExpiring: (id: ReservationID, expiresAt: Timestamp)? {
        if parts.count == 1 { return parts[0].nextExpiring }
        return nextExpiringShard.flatMap { parts[$0].nextExpiring }
    }

    private var nextExpiringShard: Int? {
        if parts.count == 1 { return parts[0].nextExpiring == nil ? nil : 0 }
        var best: (shard: Int, expiresAt: Timestamp, id: ReservationID)?
        for index in parts.indices {
            guard let next = parts[index].nextExpiring else { continue }
            if let current = best, (current.expiresAt, current.id) <= (next.expiresAt, next.id) { continue }
            best = (index, next.expiresAt, next.id)
        }
        return best?.shard
    }

    // MARK: Applying events

    /// Applies one event at `lsn`, at its owner.
    public mutating func apply(_ event: Event, at lsn: LSN) {
        self.lsn = lsn
        switch event {
        case .nodeUpserted:
            // Every shard checks node ids (a node's stock), so each has the nodes.
            home.apply(event, at: lsn)
            for index in parts.indices { parts[index].apply(event, at: lsn) }
        case .skuUpserted(let sku):
            applyAtPart(map.shard(of: sku.id), event, at: lsn)
        case .stockSet(_, let sku, _, _), .stockAdjusted(_, let sku, _, _):
            applyAtPart(map.shard(of: sku), event, at: lsn)
        case .reservationCreated(let reservation):
            let shard = map.shard(of: reservation.sku)
            if map.shardCount > 1 { reservationShards[reservation.id] = UInt16(shard) }
            reservationIDMax = max(reservationIDMax, reservation.id)
            applyAtPart(shard, event, at: lsn)
        case .reservationReleased(let id), .reservationConverted(let id), .reservationCommitted(let id), .reservationExpired(let id, _):
            let shard = shard(ofReservation: id)
            applyAtPart(shard, event, at: lsn)
            if let ended = parts[shard].takeLastEnded() { noteEnded(ended) }
        case .transferShipped(let transfer):
            let shard = map.shard(of: transfer.sku)
            transferShards[transfer.id] = shard
            transferIDMax = max(transferIDMax, transfer.id)
            applyAtPart(shard, event, at: lsn)
        case .transferReceived(let id):
            applyAtPart(transferShards[id] ?? 0, event, at: lsn)
        case .idempotencyKeyRecorded, .routingRulesSet, .carrierServiceSet, .fraudRulesSet:
            home.apply(event, at: lsn)
            timeLast = max(timeLast, home.timeLast)
        case .orderPlaced, .orderEdited, .orderCancelled, .orderHeld, .orderUnheld, .shipmentAdvanced, .returnOpened, .returnReceived:
            home.apply(event, at: lsn)
            timeLast = max(timeLast, home.timeLast)
            home.swapPendingStockChanges(with: &stockChangeBuffer)
            if !stockChangeBuffer.isEmpty { moveStock(stockChangeBuffer) }
            stockChangeBuffer.removeAll(keepingCapacity: true)
        }
    }

    private mutating func applyAtPart(_ shard: Int, _ event: Event, at lsn: LSN) {
        parts[shard].apply(event, at: lsn)
        timeLast = max(timeLast, parts[shard].timeLast)
    }

    /// An order's stock effects, each at its SKU's shard in the order home made them.
    private mutating func moveStock(_ changes: [StockChange]) {
        let first = map.shard(of: changes[0].sku)
        if changes.allSatisfy({ map.shard(of: $0.sku) == first }) {
            // One shard (always, with one): no grouping, no arrays.
            if parts[first].apply(stockChanges: changes) { home.countOversell() }
            return
        }
        let byShard = Self.grouped(changes, by: map)
        if byShard.count > 1 { crossShardOrderEvents += 1 }
        var overCommitted = false
        for (shard, changes) in byShard where parts[shard].apply(stockChanges: changes) { overCommitted = true }
        // Counted once per event, as the whole state counts it.
        if overCommitted { home.countOversell() }
    }

    /// Stock changes by the shard of their SKU, each shard's in the order given.
    static func grouped(_ changes: [StockChange], by map: ShardMap) -> [(shard: Int, changes: [StockChange])] {
        var byShard: [(shard: Int, changes: [StockChange])] = []
        for change in changes {
            let shard = map.shard(of: change.sku)
            if let index = byShard.firstIndex(where: { $0.shard == shard }) {
                byShard[index].changes.append(change)
            } else {
                byShard.append((shard, [change]))
            }
        }
        return byShard
    }

    private mutating func noteEnded(_ id: ReservationID) {
        if let dropped = recordEnded(id) { parts[dropped.shard].forget(dropped.id) }
    }

    /// Puts an ended reservation in the FIFO; the one that falls out of it, if one
    /// does, with the shard that must forget it.
    mutating func recordEnded(_ id: ReservationID) -> (shard: Int, id: ReservationID)? {
        endedReservations.append(id)
        guard endedReservations.count > OrderlineState.endedReservationsMax, let oldest = endedReservations.popFirst() else { return nil }
        let shard = shard(ofReservation: oldest)
        if map.shardCount > 1 { reservationShards.removeValue(forKey: oldest) }
        return (shard, oldest)
    }

    // MARK: Deciding

    /// As `OrderlineState.authorize`, at the owner of what the command touches.
    /// Mutating only to read in place (see `decide`): it changes nothing.
    public mutating func authorize(_ command: Command, as role: Role) -> Rejection? {
        switch command {
        case .commit(let id, _), .release(let id), .reservationGet(let id):
            return Self.authorize(command, as: role, at: &parts[shard(ofReservation: id)])
        default:
            return Self.authorize(command, as: role, at: &home)
        }
    }

    private static func authorize(_ command: Command, as role: Role, at owner: inout OrderlineState) -> Rejection? {
        owner.authorize(command, as: role)
    }

    /// New ids numbered above the highest of any shard.
    public func decisionContext(now: Timestamp, role: Role = .admin, quotas: OwnerQuotas = OwnerQuotas()) -> DecisionContext {
        DecisionContext(now: now, after: reservationIDMax, transferIDMax, role: role, quotas: quotas)
    }

    /// As `OrderlineState.decide`: idempotency keys are checked at home, whoever decides.
    /// Mutating only so that the owner is read in place: a non-mutating call on an
    /// element of `parts` (or on `home`) copies the whole struct first, retaining and
    /// releasing its ~50 fields (7 % of the loop at P16 in perf). It changes nothing.
    public mutating func decide(_ command: Command, context: DecisionContext) -> Result<Decision, Rejection> {
        do {
            return .success(
                try OrderlineState.withIdempotencyKey(command, context: context, keys: home.idempotencyKeys) { () throws(Rejection) in
                    try decideAtOwner(command, context: context)
                })
        } catch {
            return .failure(error)
        }
    }

    /// `ORDER.LIST` and `SHIPMENT.LIST`, from home's indexes.
    public func listRendering(_ command: Command) -> Result<ListRendering, Rejection>? {
        home.listRendering(command)
    }

    private mutating func decideAtOwner(_ command: Command, context: DecisionContext) throws(Rejection) -> Decision {
        switch command {
        case .skuAdd(let sku):
            return try Self.decide(command, context, at: &parts[map.shard(of: sku.id)])
        case .skuGet(let sku), .stockSet(_, let sku, _, _, _), .stockAdjust(_, let sku, _, _), .stockGet(let sku, _),
             .stockTransfer(_, _, let sku, _, _):
            return try Self.decide(command, context, at: &parts[map.shard(of: sku)])
        case .reserve(let sku, _, _, _, _, let customer):
            let shard = map.shard(of: sku)
            if var view = reserveView(shard: shard, sku: sku, customer: customer, owner: context.role.ownerTag) {
                return try Self.decide(command, context, at: &view)
            }
            return try Self.decide(command, context, at: &parts[shard])
        case .release(let id), .commit(let id, _), .reservationGet(let id):
            return try Self.decide(command, context, at: &parts[shard(ofReservation: id)])
        case .transferReceive(let id), .transferGet(let id):
            return try Self.decide(command, context, at: &parts[transferShards[id] ?? 0])
        case .expireDue:
            guard let shard = nextExpiringShard else { return Decision(events: [], reply: .ok) }
            return try Self.decide(command, context, at: &parts[shard])
        case .orderCreate(let request):
            return try orderView(skus: request.lines.map(\.sku), carts: request.reservations, customer: request.customer)
                .decideOnce(command, context: context)
        case .orderEdit(let edit):
            let order = home.orders[edit.id]
            let skus = (edit.lines?.map(\.sku) ?? []) + (order?.lines.map(\.sku) ?? [])
            return try orderView(skus: skus, customer: order?.customer).decideOnce(command, context: context)
        case .orderAllocate(let id):
            return try orderView(skus: home.orders[id]?.lines.map(\.sku) ?? []).decideOnce(command, context: context)
        case .shipmentAdvance(let id, let transition, _):
            // Shipping prices the parcel by the SKUs' weights; every other step reads
            // the order alone, at home, with no view to lend.
            guard transition == .ship else { return try Self.decide(command, context, at: &home) }
            return try orderView(skus: home.orders[id.order]?.lines.map(\.sku) ?? []).decideOnce(command, context: context)
        case .returnOpen(let request):
            return try orderView(skus: request.exchange.map(\.sku), customer: home.orders[request.order]?.customer)
                .decideOnce(command, context: context)
        case .nodeAdd, .nodeGet, .nodeList, .carrierSet, .carrierList, .routingGet, .routingSet, .orderGet, .orderExplain,
             .orderCancel, .orderList, .orderStatus, .orderHold, .orderUnhold, .invoiceGet, .shipmentGet, .shipmentList,
             .returnReceive, .returnGet, .kpi, .fraudGet, .fraudSet:
            return try Self.decide(command, context, at: &home)
        }
    }

    private static func decide(_ command: Command, _ context: DecisionContext, at owner: inout OrderlineState) throws(Rejection) -> Decision {
        try owner.decideOnce(command, context: context)
    }

    /// The SKU's shard, with what a `RESERVE` may need from elsewhere: the customer's
    /// orders (a per-customer limit counts them) and the scope's holds on every shard
    /// (its quota is on all of them together). nil when it needs nothing more.
    private func reserveView(shard: Int, sku: String, customer: String?, owner: String) -> OrderlineState? {
        let limited = customer != nil && parts[shard].skus[sku]?.terms?.limitPerCustomer != nil
        let quota = !owner.isEmpty && parts.count > 1
        guard limited || quota else { return nil }
        var view = parts[shard]
        if limited { view.lend(ordersOf: home) }
        if quota { view.lend(heldReservations: parts.reduce(0) { $0 + ($1.heldReservationsByOwner[owner] ?? 0) }, owner: owner) }
        return view
    }

    /// Home, with the entries an order's decision reads of the SKUs it names: catalogue
    /// entry and stock, the carts it converts, and for a per-customer limit the
    /// customer's held carts of those SKUs.
    private func orderView(skus: [String], carts: [ReservationID] = [], customer: String? = nil) -> OrderlineState {
        var view = home
        // Room for every entry at once: grown one insert at a time, the lent tables
        // were allocated three times each per order. A SKU named twice is lent twice,
        // the same entries again.
        view.reserveToLend(skus: skus.count)
        for id in skus {
            let shard = map.shard(of: id)
            let sku = parts[shard].skus[id]
            view.lend(sku: sku, inventory: parts[shard].inventory[id], id: id)
            if let customer, sku?.terms?.limitPerCustomer != nil, let held = parts[shard].heldByCustomer[customer] {
                view.lend(heldBy: customer, held)
                for reservation in held {
                    if let cart = parts[shard].reservations[reservation] { view.lend(reservation: cart) }
                }
            }
        }
        for id in carts {
            if let cart = parts[shard(ofReservation: id)].reservations[id] { view.lend(reservation: cart) }
        }
        return view
    }
}

extension ShardedState {
    /// As `OrderlineState.applyChecked`: the owner checks the event (a reservation or
    /// transfer id is checked against all shards), then applies it.
    public mutating func applyChecked(_ event: Event, at lsn: LSN) -> String? {
        guard lsn == self.lsn + 1 else { return "comes after LSN \(self.lsn): LSNs must follow one another" }
        if let problem = violation(applying: event) { return problem }
        apply(event, at: lsn)
        return nil
    }

    /// Mutating only so that the owner is read in place (see `decide`): reading
    /// `parts[i]` to call a method on it copied the whole state on every event, a
    /// fifth of replay's time.
    private mutating func violation(applying event: Event) -> String? {
        switch event {
        case .nodeUpserted, .idempotencyKeyRecorded, .routingRulesSet, .carrierServiceSet, .fraudRulesSet, .orderPlaced, .orderEdited,
             .orderCancelled, .orderHeld, .orderUnheld, .shipmentAdvanced, .returnOpened, .returnReceived:
            return Self.violation(of: event, at: &home)
        case .skuUpserted(let sku):
            return Self.violation(of: event, at: &parts[map.shard(of: sku.id)])
        case .stockSet(_, let sku, _, _), .stockAdjusted(_, let sku, _, _):
            return Self.violation(of: event, at: &parts[map.shard(of: sku)])
        case .reservationCreated(let reservation):
            if let taken = idTaken(by: event) { return taken }
            return Self.violation(of: event, at: &parts[map.shard(of: reservation.sku)])
        case .reservationReleased(let id), .reservationCommitted(let id), .reservationExpired(let id, _), .reservationConverted(let id):
            return Self.violation(of: event, at: &parts[shard(ofReservation: id)])
        case .transferShipped(let transfer):
            if let taken = idTaken(by: event) { return taken }
            return Self.violation(of: event, at: &parts[map.shard(of: transfer.sku)])
        case .transferReceived(let id):
            return Self.violation(of: event, at: &parts[transferShards[id] ?? 0])
        }
    }

    /// A reservation or transfer created with an id that one shard or another holds
    /// already (ids are global; each shard checks only its own).
    func idTaken(by event: Event) -> String? {
        switch event {
        case .reservationCreated(let reservation) where map.shardCount > 1 && reservationShards[reservation.id] != nil:
            "creates reservation \(reservation.id), which exists already"
        case .transferShipped(let transfer) where transferShards[transfer.id] != nil:
            "creates transfer \(transfer.id), which exists already"
        default: nil
        }
    }

    static func violation(of event: Event, at owner: inout OrderlineState) -> String? {
        owner.violation(applying: event)
    }
}
