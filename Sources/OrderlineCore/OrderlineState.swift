import DequeModule

/// The whole business state, as a value. `apply` is the one function that changes it,
/// for live commands and for recovery alike; `decide` (in `OrderlineState+Decide`)
/// turns commands into events without changing anything.
public struct OrderlineState: Sendable {
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var skus: [String: SKU] = [:]
    public private(set) var inventory: [String: SKUInventory] = [:]
    public private(set) var reservations = NumberedTable<ReservationIDKind, Reservation>()
    public private(set) var transfers: [TransferID: Transfer] = [:]
    /// How orders are routed (`ROUTING.SET`).
    public private(set) var routingRules = RoutingRules()
    public private(set) var orders = PartitionedDictionary<String, Order>()
    /// The carrier services orders can ship with (`CARRIER.SET`).
    public private(set) var rateCard = RateCard()
    /// Fraud screening at capture (`FRAUD.SET`).
    public private(set) var fraudRules = FraudRules()
    /// What fraud screening remembers of each customer.
    public private(set) var customers: [String: CustomerHistory] = [:]
    /// Events that left a stock level committing more than it has on hand: the
    /// invariants make this impossible, and `KPI` shows that it stayed 0.
    public private(set) var oversellCount: Int64 = 0
    /// Derived from `orders` (never encoded): the KPI buckets, and the shipments each
    /// node took on the latest day orders were placed (for its daily capacity).
    public private(set) var kpis = KPITracker()
    public private(set) var capacityDay: Int64 = .min
    public private(set) var dailyShipments: [String: Int64] = [:]
    /// Each node's work queue: its shipments not yet delivered, picked up or cancelled.
    public private(set) var workQueues: [String: SortedChunks<ChildID>] = [:]
    /// Orders by status, channel and customer, for `ORDER.LIST` (derived, never encoded).
    public private(set) var orderIndex = OrderIndex()
    /// Held reservations by owner tag (scoped roles only), for `OwnerQuotas` (derived).
    public private(set) var heldReservationsByOwner: [String: Int] = [:]
    /// Held reservations by the customer they name, for per-customer limits (derived).
    public private(set) var heldByCustomer: [String: Set<ReservationID>] = [:]
    public private(set) var transferIDMax = TransferID(0)
    /// The highest reservation id ever created; the shell numbers new ones above it.
    public private(set) var reservationIDMax = ReservationID(0)
    /// The LSN of the last event applied.
    public private(set) var lsn: LSN = 0
    /// The latest time any event carried: a restarted shell never stamps earlier.
    public private(set) var timeLast: Timestamp = 0
    /// Held reservations by expiry. Derived from `reservations` (never encoded).
    /// Entries of reservations that ended early stay until they reach the top, where
    /// `end` drops them; so the queue holds at most one TTL's worth of reservations.
    private var expiryQueue = ExpiryQueue()
    /// Reservations that ended (released, expired, committed, converted), oldest end
    /// first. Only the newest `endedReservationsMax` are kept, so a flash sale's
    /// millions of carts do not grow memory without bound; `RESERVATION.GET` of one
    /// dropped earlier answers NOTFOUND. Part of the state (and of snapshots), since
    /// which ones are dropped must be the same on every replay.
    public private(set) var endedReservations = Deque<ReservationID>()
    public static let endedReservationsMax = 1_000_000
    /// Idempotency keys and their first replies, kept for `idempotencyWindowSeconds`
    /// after they were recorded (and at most `idempotencyKeysMax` of them), oldest first.
    public private(set) var idempotencyKeys = PartitionedDictionary<String, IdempotencyRecord>()
    public private(set) var idempotencyOrder = Deque<String>()
    public static let idempotencyWindowSeconds: Int64 = 86_400
    public static let idempotencyKeysMax = 1_000_000

    /// What this value holds: the whole state, or one side of a `ShardedState`.
    public enum Scope: Sendable {
        case whole
        /// Orders and what every order reads (nodes, rules, customers, KPIs, keys); no
        /// stock: an order's stock effects leave as `pendingStockChanges`.
        case home
        /// The SKUs of some slots: catalogue entries, stock, reservations, transfers
        /// (and a copy of the nodes). Ends of reservations leave as `lastEnded`, for the
        /// one FIFO of ended reservations that all shards share.
        case stock
    }

    public private(set) var scope = Scope.whole
    /// False while recovery replays a log: an order's part in the derived state (KPIs,
    /// order index, work queues, daily load) is then not moved event by event but
    /// rebuilt once at the end (`rebuildDerivedOrderState`), as after a snapshot load,
    /// which gives the same. Not part of the state.
    private var tracksOrders = true
    /// An order changed while `tracksOrders` was off: the rebuild has work to do.
    private var ordersChangedUntracked = false
    /// `.home`: stock effects of the events applied since the owner last took them.
    private(set) var pendingStockChanges: [StockChange] = []
    /// `.stock`: the reservation the last event ended (an event ends at most one), for
    /// the owner to take.
    private(set) var lastEnded: ReservationID?

    public init() {}

    init(scope: Scope) { self.scope = scope }

    /// The earliest held reservation to expire. The queue never has an ended
    /// reservation at its top (see `end`), so this is O(1).
    public var nextExpiring: (id: ReservationID, expiresAt: Timestamp)? {
        expiryQueue.min
    }

    /// Applies one event at `lsn`. Events were validated by `decide` before they were
    /// logged, so this never rejects; it also never traps on an event that names
    /// something unknown (it ignores it), so a damaged log cannot crash recovery.
    public mutating func apply(_ event: Event, at lsn: LSN) {
        self.lsn = lsn
        if let time = event.stampedTime { timeLast = max(timeLast, time) }
        switch event {
        case .nodeUpserted(let node):
            nodes[node.id] = node
        case .skuUpserted(let sku):
            skus[sku.id] = sku
        case .stockSet(let node, let sku, let onHand, let safety):
            inventory[sku, default: SKUInventory()].levels[node, default: StockLevel()].onHand = onHand
            inventory[sku, default: SKUInventory()].levels[node, default: StockLevel()].safety = safety
        case .stockAdjusted(let node, let sku, let delta, _):
            inventory[sku, default: SKUInventory()].levels[node, default: StockLevel()].onHand += delta
        case .reservationCreated(let reservation):
            reservations[reservation.id] = sharingSKUName(reservation)
            reservationIDMax = max(reservationIDMax, reservation.id)
            changeHeld(reservation, by: reservation.quantity)
            expiryQueue.insert(reservation.id, expiresAt: reservation.expiresAt)
        case .reservationReleased(let id):
            end(id, as: .released)
        case .reservationExpired(let id, _):
            end(id, as: .expired)
        case .reservationConverted(let id):
            end(id, as: .converted)
        case .reservationCommitted(let id):
            guard let reservation = end(id, as: .committed), let node = reservation.node else { return }
            inventory[reservation.sku, default: SKUInventory()].levels[node, default: StockLevel()].onHand -= reservation.quantity
        case .idempotencyKeyRecorded(let record):
            remember(record)
        case .transferShipped(let transfer):
            transfers[transfer.id] = transfer
            transferIDMax = max(transferIDMax, transfer.id)
            inventory[transfer.sku, default: SKUInventory()].levels[transfer.from, default: StockLevel()].onHand -= transfer.quantity
            inventory[transfer.sku, default: SKUInventory()].levels[transfer.to, default: StockLevel()].inTransit += transfer.quantity
        case .routingRulesSet(let rules):
            routingRules = rules
        case .carrierServiceSet(let service):
            rateCard.set(service)
        case .orderPlaced(let order):
            if order.exchangeFor == nil { customers[order.customer, default: CustomerHistory()].record(order) }
            replace(orders[order.id], with: order)
        case .orderEdited(let order):
            replace(orders[order.id], with: order)
        case .orderCancelled(let id, _):
            updateOrder(id) { $0.cancel() }
        case .orderHeld(let id, let hold, _):
            updateOrder(id) { $0.holds.append(hold) }
        case .orderUnheld(let id, _):
            updateOrder(id) { $0.holds.removeAll { $0.kind != .awaitingReturn } }
        case .shipmentAdvanced(let progress):
            updateOrder(progress.shipment.order) { $0.advance(progress) }
        case .returnOpened(let id, let returned):
            updateOrder(id.order) { $0.returns.append(returned) }
        case .returnReceived(let id, let condition, let refundCents, let at):
            updateOrder(id.order) { $0.receiveReturn(id.number, condition: condition, refundCents: refundCents, at: at) }
            guard let order = orders[id.order], let returned = order.returns.first(where: { $0.number == id.number }) else { return }
            // The refund comes out of the payment that paid: an exchange has none of its own.
            if order.payment == nil, refundCents > 0, let payer = payingOrder(of: order), payer.id != order.id {
                updateOrder(payer.id) { $0.payment?.refundedCents += refundCents }
            }
            // The exchange's replacement may leave now.
            if let exchange = returned.exchangeOrder {
                updateOrder(exchange) { $0.holds.removeAll { $0.kind == .awaitingReturn } }
            }
        case .fraudRulesSet(let rules):
            fraudRules = rules
        case .transferReceived(let id):
            guard var transfer = transfers[id], transfer.status == .inTransit else { return }
            transfer.status = .received
            transfers[id] = transfer
            inventory[transfer.sku, default: SKUInventory()].levels[transfer.to, default: StockLevel()].inTransit -= transfer.quantity
            inventory[transfer.sku, default: SKUInventory()].levels[transfer.to, default: StockLevel()].onHand += transfer.quantity
        }
        assert(checkInvariants(of: event))
    }

    /// Debug-build check after each event, of the SKU it touched.
    private func checkInvariants(of event: Event) -> Bool {
        switch event {
        case .stockSet(_, let sku, _, _), .stockAdjusted(_, let sku, _, _): return checkInvariants(sku: sku)
        case .reservationCreated(let reservation): return checkInvariants(sku: reservation.sku)
        case .reservationReleased(let id), .reservationCommitted(let id), .reservationExpired(let id, _), .reservationConverted(let id):
            return reservations[id].map { checkInvariants(sku: $0.sku) } ?? true
        case .transferShipped(let transfer): return checkInvariants(sku: transfer.sku)
        case .transferReceived(let id): return transfers[id].map { checkInvariants(sku: $0.sku) } ?? true
        case .orderPlaced(let order), .orderEdited(let order): return checkInvariants(order: order.id)
        case .orderCancelled(let id, _), .orderHeld(let id, _, _), .orderUnheld(let id, _): return checkInvariants(order: id)
        case .shipmentAdvanced(let progress): return checkInvariants(order: progress.shipment.order)
        case .returnOpened(let id, _), .returnReceived(let id, _, _, _): return checkInvariants(order: id.order)
        case .nodeUpserted, .skuUpserted, .idempotencyKeyRecorded, .routingRulesSet, .carrierServiceSet, .fraudRulesSet: return true
        }
    }

    private mutating func updateOrder(_ id: String, _ change: (inout Order) -> Void) {
        guard let old = orders[id] else { return }
        var new = old
        change(&new)
        replace(old, with: new)
    }

    /// Every change of an order goes through here: its stock effects (allocated,
    /// shipped, restocked) are the difference between before and after, and so are
    /// its parts in the KPIs and the nodes' daily load.
    private mutating func replace(_ old: Order?, with order: Order) {
        var new = order
        new.status = new.summarizedStatus()
        if old.map({ Self.stockEffectsDiffer($0, new) }) ?? true { moveStock(from: old, to: new) }
        if tracksOrders { track(new, replacing: old) } else { ordersChangedUntracked = true }
        orders[new.id] = new
    }

    /// What the order holds and took moves from what it was to what it is: released
    /// first, then taken. Only what is taken can leave a level committing more than it
    /// has on hand. At home, the changes go to the SKUs' shards, which check that.
    /// The units are visited where they lie (`Order.forEachUnit`), with no arrays built:
    /// every change of every order comes here.
    private mutating func moveStock(from old: Order?, to new: Order) {
        old?.forEachUnit(.allocated) { shift($0, $1, -$2, .allocated, tightening: false) }
        old?.forEachUnit(.consumed) { shift($0, $1, $2, .onHand, tightening: false) }
        new.forEachUnit(.restocked) { shift($0, $1, $2, .onHand, tightening: false) }
        new.forEachUnit(.allocated) { shift($0, $1, $2, .allocated, tightening: true) }
        new.forEachUnit(.consumed) { shift($0, $1, -$2, .onHand, tightening: true) }
        old?.forEachUnit(.restocked) { shift($0, $1, -$2, .onHand, tightening: true) }
        // At home the SKUs' shards apply them (`ShardedState`); the whole state, here,
        // as a shard would.
        guard scope != .home else { return }
        if apply(stockChanges: pendingStockChanges) { oversellCount += 1 }
        pendingStockChanges.removeAll(keepingCapacity: true)
    }

    private func isOverCommitted(sku: String, node: String) -> Bool {
        inventory[sku]?.levels[node].map { $0.committed > $0.onHand } == true
    }

    /// Whether the order's stock effects (allocated, taken off, restocked) can differ:
    /// most shipment steps (pick, pack, deliver, ready) change none of them.
    private static func stockEffectsDiffer(_ old: Order, _ new: Order) -> Bool {
        guard old.shipments.count == new.shipments.count, old.returns.count == new.returns.count else { return true }
        for (before, after) in zip(old.shipments, new.shipments)
        where before.node != after.node || before.lines != after.lines || before.status.holdsStock != after.status.holdsStock
            || before.status.leftNode != after.status.leftNode {
            return true
        }
        for (before, after) in zip(old.returns, new.returns)
        where before.status != after.status || before.condition != after.condition || before.node != after.node || before.lines != after.lines {
            return true
        }
        return false
    }

    /// Moves an order's part in the derived state (KPIs, daily capacity, work queues)
    /// from what it was to what it is, touching only what changed.
    private mutating func track(_ order: Order, replacing old: Order? = nil) {
        if let old { kpis.update(from: old, to: order) } else { kpis.add(order) }
        orderIndex.update(from: old, to: order)
        let oldShipments = old?.shipments ?? []
        for index in 0..<max(order.shipments.count, oldShipments.count) {
            let before = index < oldShipments.count ? oldShipments[index] : nil
            let after = index < order.shipments.count ? order.shipments[index] : nil
            // Most steps (to picked, packed, shipped, ready for pickup) leave it where it
            // was: no need to take it out of its node's sorted queue and put it back.
            if let before, let after, before.isTracked(like: after) { continue }
            if let before { trackShipment(before, of: order.id, by: -1) }
            if let after { trackShipment(after, of: order.id, by: 1) }
        }
    }

    private mutating func trackShipment(_ shipment: Shipment, of order: String, by delta: Int64) {
        let day = CalendarDate.day(of: shipment.createdAt)
        if day > capacityDay {
            capacityDay = day
            dailyShipments = [:]
        }
        if shipment.countsToward(day: capacityDay) { dailyShipments.update(shipment.node, default: 0) { $0 += delta } }
        guard shipment.status.isInWorkQueue else { return }
        let id = ChildID(order: order, number: shipment.number, kind: "S")
        if delta > 0 {
            workQueues.update(shipment.node, default: SortedChunks()) { $0.insert(id) }
        } else {
            let emptied = workQueues.updateExisting(shipment.node) { queue in
                queue.remove(id)
                return queue.isEmpty
            }
            if emptied == true { workQueues[shipment.node] = nil }
        }
    }

    /// Moves `delta` units of `sku` into `field` at `node` (out of it when negative), as
    /// a change for whoever holds the SKU (`moveStock`).
    private mutating func shift(_ sku: String, _ node: String, _ delta: Int64, _ field: StockChange.Field, tightening: Bool) {
        pendingStockChanges.append(StockChange(sku: sku, node: node, field: field, delta: delta, tightens: tightening))
    }

    private mutating func apply(_ change: StockChange) {
        switch change.field {
        case .onHand: inventory[change.sku, default: SKUInventory()].levels[change.node, default: StockLevel()].onHand += change.delta
        case .allocated: inventory[change.sku, default: SKUInventory()].levels[change.node, default: StockLevel()].allocated += change.delta
        }
    }

    private func checkInvariants(order id: String) -> Bool {
        orders[id]?.lines.allSatisfy { checkInvariants(sku: $0.sku) } ?? true
    }

    /// Records a key, first dropping those past the window or over the limit. Times
    /// come from the events, so every replay drops the same keys.
    private mutating func remember(_ record: IdempotencyRecord) {
        while let oldest = idempotencyOrder.first,
              idempotencyOrder.count >= Self.idempotencyKeysMax
                || (idempotencyKeys[oldest]?.recordedAt ?? .min) + Self.idempotencyWindowSeconds <= record.recordedAt {
            idempotencyOrder.removeFirst()
            idempotencyKeys.removeValue(forKey: oldest)
        }
        if idempotencyKeys[record.key] == nil { idempotencyOrder.append(record.key) }
        idempotencyKeys[record.key] = record
    }

    @discardableResult
    private mutating func end(_ id: ReservationID, as status: Reservation.Status) -> Reservation? {
        let ended: Reservation?? = reservations.modify(id) { reservation in
            guard reservation.status == .held else { return nil }
            reservation.status = status
            return reservation
        }
        guard case .some(.some(let reservation)) = ended else { return nil }
        changeHeld(reservation, by: -reservation.quantity)
        // The top is always held; only when this one was the top can ended ones
        // surface, so only then is the table consulted.
        if expiryQueue.min?.id == id {
            expiryQueue.removeMin()
            while let first = expiryQueue.min, reservations[first.id]?.status != .held {
                expiryQueue.removeMin()
            }
        }
        if scope == .stock {
            lastEnded = id
        } else {
            endedReservations.append(id)
            if endedReservations.count > Self.endedReservationsMax, let oldest = endedReservations.popFirst() {
                reservations.removeValue(forKey: oldest)
            }
        }
        return reservation
    }

    private mutating func changeHeld(_ reservation: Reservation, by quantity: Int64) {
        if let customer = reservation.customer {
            if quantity > 0 {
                heldByCustomer[customer, default: []].insert(reservation.id)
            } else {
                heldByCustomer[customer]?.remove(reservation.id)
                if heldByCustomer[customer]?.isEmpty == true { heldByCustomer[customer] = nil }
            }
        }
        if !reservation.owner.isEmpty {
            heldReservationsByOwner[reservation.owner, default: 0] += quantity > 0 ? 1 : -1
            if heldReservationsByOwner[reservation.owner] == 0 { heldReservationsByOwner[reservation.owner] = nil }
        }
        if let node = reservation.node {
            inventory[reservation.sku, default: SKUInventory()].levels[node, default: StockLevel()].reserved += quantity
        } else {
            inventory[reservation.sku, default: SKUInventory()].networkReserved += quantity
        }
    }

    /// Stock conservation and non-negativity, checked after every event in debug builds.
    public func checkInvariants() -> Bool {
        inventory.keys.allSatisfy { checkInvariants(sku: $0) }
    }

    private func checkInvariants(sku: String) -> Bool {
        guard let item = inventory[sku] else { return true }
        for (node, level) in item.levels where !level.isConsistent {
            assertionFailure("stock of \(sku) at \(node) is inconsistent: \(level)")
            return false
        }
        if item.networkReserved < 0 || item.networkReserved > item.nodesATP {
            assertionFailure("network reservations of \(sku) (\(item.networkReserved)) exceed the nodes' ATP \(item.nodesATP)")
            return false
        }
        return true
    }

    /// Rebuilds the derived state after the state was loaded from a snapshot. With
    /// `deferringOrders`, the orders' part is left for `rebuildDerivedOrderState` (as
    /// `deferDerivedOrderState` would): recovery replays the log after the snapshot
    /// and rebuilds once at the end, not once here and again there.
    mutating func restoreDerivedState(deferringOrders: Bool = false) {
        expiryQueue = ExpiryQueue()
        // In id order, as the table yields them: each second's bucket fills in order.
        heldReservationsByOwner = [:]
        heldByCustomer = [:]
        for reservation in reservations.values where reservation.status == .held {
            expiryQueue.insert(reservation.id, expiresAt: reservation.expiresAt)
            if !reservation.owner.isEmpty { heldReservationsByOwner[reservation.owner, default: 0] += 1 }
            if let customer = reservation.customer { heldByCustomer[customer, default: []].insert(reservation.id) }
        }
        if deferringOrders {
            tracksOrders = false
            ordersChangedUntracked = true
        } else {
            rebuildDerivedOrderState()
        }
    }

    /// Recovery: stop moving orders' parts in the derived state event by event, until
    /// `rebuildDerivedOrderState` (an order log replays ~1.5× as fast: docs/BENCHMARKS.md).
    public mutating func deferDerivedOrderState() { tracksOrders = false }

    /// The orders' part of the derived state, from the orders alone (after a deferral,
    /// only if an order changed meanwhile); tracking resumes.
    public mutating func rebuildDerivedOrderState() {
        defer { tracksOrders = true; ordersChangedUntracked = false }
        guard tracksOrders || ordersChangedUntracked else { return }
        kpis = KPITracker()
        orderIndex = OrderIndex()
        capacityDay = .min
        dailyShipments = [:]
        workQueues = [:]
        for order in orders.values { track(order) }
    }

    /// Snapshot loading sets fields directly; these mirror `apply` without an event.
    mutating func load(node: Node) { nodes[node.id] = node }
    mutating func load(sku: SKU) { skus[sku.id] = sku }
    mutating func load(level: StockLevel, sku: String, node: String) {
        inventory[sku, default: SKUInventory()].levels[node] = level
    }
    mutating func load(networkReserved: Int64, sku: String) {
        inventory[sku, default: SKUInventory()].networkReserved = networkReserved
    }
    mutating func load(reservation: Reservation) { reservations[reservation.id] = sharingSKUName(reservation) }

    /// The reservation holding the catalogue's own copy of its SKU's name, one for all
    /// the SKU's carts: a name over 15 bytes is a heap object of its own, and a copy
    /// per cart took ~110 of the 218 bytes a held cart cost (1 M carts, RSS).
    private func sharingSKUName(_ reservation: Reservation) -> Reservation {
        guard let index = skus.index(forKey: reservation.sku) else { return reservation }
        var shared = reservation
        shared.sku = skus.keys[index]
        return shared
    }
    mutating func load(routingRules: RoutingRules) { self.routingRules = routingRules }
    mutating func load(carrierService: CarrierService) { rateCard.set(carrierService) }
    mutating func load(order: Order) { orders[order.id] = order }
    mutating func load(fraudRules: FraudRules) { self.fraudRules = fraudRules }
    mutating func load(customer: String, history: CustomerHistory) { customers[customer] = history }
    mutating func load(transfer: Transfer) {
        transfers[transfer.id] = transfer
        transferIDMax = max(transferIDMax, transfer.id)
    }
    mutating func load(endedReservations: Deque<ReservationID>) { self.endedReservations = endedReservations }
    mutating func load(idempotencyRecord: IdempotencyRecord) {
        idempotencyKeys[idempotencyRecord.key] = idempotencyRecord
        idempotencyOrder.append(idempotencyRecord.key)
    }
    mutating func load(transferIDMax: TransferID) { self.transferIDMax = max(self.transferIDMax, transferIDMax) }
    mutating func load(reservationIDMax: ReservationID, lsn: LSN, timeLast: Timestamp, oversellCount: Int64) {
        self.oversellCount = oversellCount
        self.reservationIDMax = reservationIDMax
        self.lsn = lsn
        self.timeLast = timeLast
    }

    // MARK: Shards: what `ShardedState` does to its parts (here, where the setters are)

    /// `.home`: the stock changes of the events applied since the last call.
    mutating func takePendingStockChanges() -> [StockChange] {
        defer { pendingStockChanges = [] }
        return pendingStockChanges
    }

    /// Trades the pending stock changes for `buffer` (which the caller has emptied,
    /// keeping its capacity): two buffers taking turns, so applying an order event
    /// allocates no array for its stock effects.
    mutating func swapPendingStockChanges(with buffer: inout [StockChange]) {
        assert(buffer.isEmpty, "the buffer traded for the pending changes must be empty")
        swap(&pendingStockChanges, &buffer)
    }

    /// `.stock`: the reservation the last event ended, if it ended one.
    mutating func takeLastEnded() -> ReservationID? {
        defer { lastEnded = nil }
        return lastEnded
    }

    /// `.stock` (and `.whole`, for its own orders): an order's stock changes for these
    /// SKUs, in the order home made them; whether a level they tightened now commits
    /// more than it has on hand (only what was taken can).
    mutating func apply(stockChanges: [StockChange]) -> Bool {
        for change in stockChanges { apply(change) }
        assert(stockChanges.allSatisfy { checkInvariants(sku: $0.sku) })
        return stockChanges.contains { $0.tightens && isOverCommitted(sku: $0.sku, node: $0.node) }
    }

    /// `.home`: an order event over-committed a level at a SKU's shard.
    mutating func countOversell() { oversellCount += 1 }

    /// `.stock`: a reservation that fell out of the shared FIFO of ended ones.
    mutating func forget(_ id: ReservationID) { reservations.removeValue(forKey: id) }

    /// Lends a view (a copy of `.home` or `.stock`) entries another shard owns, for one
    /// decision; the view is never applied to.
    mutating func lend(sku: SKU?, inventory item: SKUInventory?, id: String) {
        if let sku { skus[id] = sku }
        if let item { inventory[id] = item }
    }

    /// Room to lend `count` SKUs' entries in one allocation per table.
    mutating func reserveToLend(skus count: Int) {
        skus.reserveCapacity(skus.count + count)
        inventory.reserveCapacity(inventory.count + count)
    }

    mutating func lend(reservation: Reservation) { reservations[reservation.id] = reservation }

    mutating func lend(heldBy customer: String, _ ids: Set<ReservationID>) { heldByCustomer[customer, default: []].formUnion(ids) }

    mutating func lend(heldReservations count: Int, owner: String) { heldReservationsByOwner[owner] = count }

    /// The orders and their index, for a decision at a SKU's shard that counts a
    /// customer's orders (a per-customer limit).
    mutating func lend(ordersOf home: OrderlineState) {
        orders = home.orders
        orderIndex = home.orderIndex
    }

    /// A `.whole` state from its parts at one cut: home's, with every shard's stock.
    /// A table that is still empty here takes the part's as it is (shared until either
    /// changes, page by page for reservations): a snapshot's merge must not copy every
    /// cart, which with millions held left hundreds of MB in the process after each
    /// snapshot (a held cart cost 273 bytes of RSS at 5 M carts, 105 without snapshots).
    mutating func absorb(_ part: OrderlineState) {
        if skus.isEmpty { skus = part.skus } else { for (id, sku) in part.skus { skus[id] = sku } }
        if inventory.isEmpty { inventory = part.inventory } else { for (id, item) in part.inventory { inventory[id] = item } }
        if reservations.isEmpty {
            reservations = part.reservations
        } else {
            part.reservations.forEach { id, reservation in reservations[id] = reservation }
        }
        if transfers.isEmpty { transfers = part.transfers } else { for (id, transfer) in part.transfers { transfers[id] = transfer } }
        transferIDMax = max(transferIDMax, part.transferIDMax)
    }

    /// Makes the merged value whole (its canonical records then are those of the
    /// unsharded state); its derived state (KPIs, queues, indexes) is that of home only
    /// until `restoreDerivedState`.
    mutating func becomeWhole(endedReservations: Deque<ReservationID>, reservationIDMax: ReservationID, lsn: LSN, timeLast: Timestamp) {
        scope = .whole
        self.endedReservations = endedReservations
        self.reservationIDMax = reservationIDMax
        self.lsn = lsn
        self.timeLast = timeLast
    }

    /// The parts of a whole state: home, and the stock of each shard's SKUs.
    func split(by map: ShardMap) -> (home: OrderlineState, parts: [OrderlineState]) {
        var parts = Array(repeating: OrderlineState(scope: .stock), count: map.shardCount)
        for index in parts.indices {
            parts[index].nodes = nodes
            parts[index].lsn = lsn
        }
        for (id, sku) in skus { parts[map.shard(of: id)].skus[id] = sku }
        for (id, item) in inventory { parts[map.shard(of: id)].inventory[id] = item }
        for reservation in reservations.values { parts[map.shard(of: reservation.sku)].reservations[reservation.id] = reservation }
        for (id, transfer) in transfers {
            let shard = map.shard(of: transfer.sku)
            parts[shard].transfers[id] = transfer
            parts[shard].transferIDMax = max(parts[shard].transferIDMax, id)
        }
        for index in parts.indices { parts[index].restoreDerivedState() }
        var home = self
        home.scope = .home
        home.skus = [:]
        home.inventory = [:]
        home.reservations = NumberedTable()
        home.transfers = [:]
        home.endedReservations = []
        home.expiryQueue = ExpiryQueue()
        home.heldReservationsByOwner = [:]
        home.heldByCustomer = [:]
        return (home, parts)
    }
}

/// One change an order makes to a stock level (`OrderlineState.moveStock`).
struct StockChange: Sendable {
    enum Field: Sendable { case onHand, allocated }
    var sku: String
    var node: String
    var field: Field
    var delta: Int64
    /// Takes stock: such a change may leave the level over-committed.
    var tightens: Bool
}
