/// `decide` checks a command against the state and turns it into events and a reply.
/// It is pure: it reads only `self` and `context`, and changes nothing.
extension OrderlineState {
    public func decide(_ command: Command, context: DecisionContext) -> Result<Decision, Rejection> {
        do {
            return .success(try decideOrThrow(command, context: context))
        } catch {
            return .failure(error)
        }
    }

    private func decideOrThrow(_ command: Command, context: DecisionContext) throws(Rejection) -> Decision {
        try Self.withIdempotencyKey(command, context: context, keys: idempotencyKeys) { () throws(Rejection) in
            try decideOnce(command, context: context)
        }
    }

    /// A command with an idempotency key is decided once in the key's window: a repeat
    /// gets the first reply (and logs nothing), another command with the key CONFLICT.
    static func withIdempotencyKey(
        _ command: Command, context: DecisionContext, keys: PartitionedDictionary<String, IdempotencyRecord>,
        _ decide: () throws(Rejection) -> Decision
    ) throws(Rejection) -> Decision {
        guard let clientKey = command.idempotencyKey else { return try decide() }
        // Each scoped role has its own key space: one channel cannot see another's replies.
        let key = context.role.ownerTag.isEmpty ? clientKey : "\(context.role.ownerTag)/\(clientKey)"
        if let first = keys[key], first.recordedAt + Self.idempotencyWindowSeconds > context.now {
            guard first.fingerprint == command.fingerprint else {
                throw .conflict("idempotency key '\(clientKey)' was used for another command: \(first.fingerprint)")
            }
            return Decision(events: [], reply: first.reply)
        }
        var decision = try decide()
        let record = IdempotencyRecord(key: key, fingerprint: command.fingerprint, reply: decision.reply, recordedAt: context.now)
        decision.events.append(.idempotencyKeyRecorded(record))
        return decision
    }

    /// `decide` without the idempotency key (`ShardedState` checks keys at home).
    func decideOnce(_ command: Command, context: DecisionContext) throws(Rejection) -> Decision {
        switch command {
        case .nodeAdd(let update):
            let node = update.applied(to: nodes[update.id])
            return Decision(events: nodes[node.id] == node ? [] : [.nodeUpserted(node)], reply: .ok)

        case .nodeGet(let id):
            return Decision(events: [], reply: .bulk(try existingNode(id).json.json))

        case .nodeList:
            let list = nodes.keys.sorted().compactMap { nodes[$0]?.json }
            return Decision(events: [], reply: .bulk(JSONObject.array(list)))

        case .skuAdd(let sku):
            return Decision(events: skus[sku.id] == sku ? [] : [.skuUpserted(sku)], reply: .ok)

        case .skuGet(let id):
            return Decision(events: [], reply: .bulk(try existingSKU(id).json.json))

        case .stockSet(let node, let sku, let onHand, let safety, let expectedOnHand):
            try existingNode(node)
            try existingSKU(sku)
            let item = inventory[sku] ?? SKUInventory()
            let current = item.levels[node] ?? StockLevel()
            let level = try item.levelAfterSet(at: node, sku: sku, onHand: onHand, safety: safety, expectedOnHand: expectedOnHand)
            let events: [Event] = level == current ? [] : [.stockSet(node: node, sku: sku, onHand: onHand, safety: level.safety)]
            return Decision(events: events, reply: .integer(level.atp))

        case .stockAdjust(let node, let sku, let delta, let reason):
            try existingNode(node)
            try existingSKU(sku)
            let item = inventory[sku] ?? SKUInventory()
            var level = item.levels[node] ?? StockLevel()
            level.onHand += delta
            try item.checkChange(at: node, sku: sku, to: level)
            return Decision(events: [.stockAdjusted(node: node, sku: sku, delta: delta, reason: reason)], reply: .integer(level.atp))

        case .stockGet(let sku, let node):
            try existingSKU(sku)
            if let node { try existingNode(node) }
            return Decision(events: [], reply: .bulk(stockJSON(sku: sku, node: node)))

        case .reserve(let sku, let quantity, let node, let ttlSeconds, _, let customer):
            let item = try inventoryOfExistingSKU(sku)
            if let node { try existingNode(node) }
            if let terms = skus[sku]?.terms {
                try checkSaleTerms(terms, sku: sku, units: quantity, customer: customer, now: context.now)
            }
            // A node reservation takes that node's ATP and must also leave enough
            // for the network reservations already held: both limits apply.
            let available = node.map { min(item.levels[$0]?.atp ?? 0, item.networkATP) } ?? item.networkATP
            guard quantity <= available else { throw Rejection(.soldOut, "\(sku) available=\(available)") }
            let owner = context.role.ownerTag
            if !owner.isEmpty {
                guard quantity <= context.quotas.cartUnitsMax else {
                    throw Rejection(.limit, "\(owner) may hold at most \(context.quotas.cartUnitsMax) units in one reservation")
                }
                guard heldReservationsByOwner[owner, default: 0] < context.quotas.heldReservationsMax else {
                    throw Rejection(.limit, "\(owner) holds \(context.quotas.heldReservationsMax) reservations, the most one scope may hold")
                }
            }
            let reservation = Reservation(
                id: context.nextReservationID, sku: sku, quantity: quantity, node: node,
                createdAt: context.now, expiresAt: context.now + ttlSeconds, owner: context.role.ownerTag, customer: customer)
            return Decision(events: [.reservationCreated(reservation)], reply: .bulk(reservation.id.description))

        case .release(let id):
            let reservation = try existingReservation(id)
            switch reservation.status {
            case .held: return Decision(events: [.reservationReleased(id)], reply: .ok)
            case .released, .expired: return Decision(events: [], reply: .ok)
            case .committed, .converted: throw .conflict("reservation \(id) is \(reservation.status.name)")
            }

        case .commit(let id, _):
            let reservation = try existingReservation(id)
            guard reservation.node != nil else {
                throw .conflict("reservation \(id) holds network stock; an order converts it, COMMIT does not")
            }
            switch reservation.status {
            case .held: return Decision(events: [.reservationCommitted(id)], reply: .ok)
            case .committed: return Decision(events: [], reply: .ok)
            case .released, .expired, .converted: throw .conflict("reservation \(id) is \(reservation.status.name)")
            }

        case .reservationGet(let id):
            return Decision(events: [], reply: .bulk(try existingReservation(id).json.json))

        case .stockTransfer(let from, let to, let sku, let quantity, _):
            try existingNode(from)
            try existingNode(to)
            try existingSKU(sku)
            guard from != to else { throw .invalid("a transfer needs two different nodes") }
            let item = inventory[sku] ?? SKUInventory()
            var level = item.levels[from] ?? StockLevel()
            guard quantity <= level.atp else { throw Rejection(.soldOut, "\(sku) available=\(level.atp)") }
            level.onHand -= quantity
            try item.checkChange(at: from, sku: sku, to: level)
            // What arrives must fit under the cap too, or receiving it would push on hand
            // past it (after which even a decrease failed).
            let arriving = item.levels[to].map { $0.onHand + $0.inTransit } ?? 0
            guard arriving + quantity <= Arguments.quantityMax else {
                throw .invalid("on_hand and in_transit of \(sku) at \(to) would exceed \(Arguments.quantityMax)")
            }
            let transfer = Transfer(id: context.nextTransferID, from: from, to: to, sku: sku, quantity: quantity, shippedAt: context.now)
            return Decision(events: [.transferShipped(transfer)], reply: .bulk(transfer.id.description))

        case .transferReceive(let id):
            guard let transfer = transfers[id] else { throw .notFound("transfer \(id)") }
            guard transfer.status == .inTransit else { return Decision(events: [], reply: .ok) }
            let onHand = inventory[transfer.sku]?.levels[transfer.to]?.onHand ?? 0
            guard onHand + transfer.quantity <= Arguments.quantityMax else {
                throw .conflict("receiving \(transfer.quantity) would put on_hand of \(transfer.sku) at \(transfer.to) past \(Arguments.quantityMax)")
            }
            return Decision(events: [.transferReceived(id)], reply: .ok)

        case .transferGet(let id):
            guard let transfer = transfers[id] else { throw .notFound("transfer \(id)") }
            return Decision(events: [], reply: .bulk(transfer.json.json))

        case .carrierSet(let service):
            let current = rateCard.services.first { $0.carrier == service.carrier && $0.name == service.name }
            return Decision(events: current == service ? [] : [.carrierServiceSet(service)], reply: .ok)

        case .carrierList:
            return Decision(events: [], reply: .bulk(JSONObject.array(rateCard.services.map(\.json))))

        case .routingGet:
            return Decision(events: [], reply: .bulk(routingRules.json.json))

        case .routingSet(let update):
            for node in (update.excludedNodes ?? []) + (update.priority ?? []) { try existingNode(node) }
            let rules = update.applied(to: routingRules)
            return Decision(events: rules == routingRules ? [] : [.routingRulesSet(rules)], reply: .ok)

        case .orderCreate(let request):
            return try placeOrder(request, context: context)

        case .orderGet(let id):
            return Decision(events: [], reply: .bulk(try existingOrder(id).json.json))

        case .orderExplain(let id):
            return Decision(events: [], reply: .bulk(try existingOrder(id).routing.json.json))

        case .orderCancel(let id):
            return try cancelOrder(id, context: context)

        case .orderList(let status, let customer, let channel, let limit):
            return listOrders(status: status, customer: customer, channel: channel, limit: limit)

        case .orderStatus(let id):
            return Decision(events: [], reply: .bulk(try existingOrder(id).statusJSON.json))

        case .orderEdit(let edit):
            return try editOrder(edit, context: context)

        case .orderAllocate(let id):
            return try allocateBackorder(id, context: context)

        case .orderHold(let id, let reason):
            return try holdOrder(id, reason: reason, context: context)

        case .orderUnhold(let id):
            return try unholdOrder(id, context: context)

        case .invoiceGet(let id):
            return Decision(events: [], reply: .bulk(try existingOrder(id).invoiceJSON.json))

        case .shipmentGet(let id):
            let (order, shipment) = try existingShipment(id)
            return Decision(events: [], reply: .bulk(shipment.json(order: order.id).json))

        case .shipmentList(let node, let status, let limit):
            return try listShipments(node: node, status: status, limit: limit)

        case .shipmentAdvance(let id, let transition, let booking):
            return try advanceShipment(id, transition, booking: booking, context: context)

        case .returnOpen(let request):
            return try openReturn(request, context: context)

        case .returnReceive(let id, let condition):
            return try receiveReturn(id, condition: condition, context: context)

        case .returnGet(let id):
            let (order, returned) = try existingReturn(id)
            return Decision(events: [], reply: .bulk(returned.json(order: order).json))

        case .kpi(let channel, let from, let to):
            return Decision(events: [], reply: .bulk(kpis.report(channel: channel, from: from, to: to, oversellCount: oversellCount)))

        case .fraudGet:
            return Decision(events: [], reply: .bulk(fraudRules.json.json))

        case .fraudSet(let update):
            let rules = update.applied(to: fraudRules)
            return Decision(events: rules == fraudRules ? [] : [.fraudRulesSet(rules)], reply: .ok)

        case .expireDue:
            guard let next = nextExpiring, next.expiresAt <= context.now else { return Decision(events: [], reply: .ok) }
            return Decision(events: [.reservationExpired(next.id, at: next.expiresAt)], reply: .ok)
        }
    }

    @discardableResult
    private func existingNode(_ id: String) throws(Rejection) -> Node {
        guard let node = nodes[id] else { throw .notFound("node \(id)") }
        return node
    }

    @discardableResult
    private func existingSKU(_ id: String) throws(Rejection) -> SKU {
        guard let sku = skus[id] else { throw .notFound("sku \(id)") }
        return sku
    }

    /// The SKU's stock, with one lookup on the hot path: only catalogued SKUs get
    /// stock, and nothing removes either, so stock found means the SKU exists.
    private func inventoryOfExistingSKU(_ sku: String) throws(Rejection) -> SKUInventory {
        if let item = inventory[sku] { return item }
        try existingSKU(sku)
        return SKUInventory()
    }

    private func existingReservation(_ id: ReservationID) throws(Rejection) -> Reservation {
        guard let reservation = reservations[id] else { throw .notFound("reservation \(id)") }
        return reservation
    }

    private func stockJSON(sku: String, node: String?) -> String {
        let item = inventory[sku] ?? SKUInventory()
        let nodeIDs = node.map { [$0] } ?? item.levels.keys  // in node id order
        var object = JSONObject()
        object.add("sku", sku)
        object.add("atp", node.map { min(item.levels[$0]?.atp ?? 0, item.networkATP) } ?? item.networkATP)
        object.add("network_reserved", item.networkReserved)
        object.add("nodes", nodeIDs.map { id in
            let level = item.levels[id] ?? StockLevel()
            var entry = JSONObject()
            entry.add("node", id)
            entry.add("on_hand", level.onHand)
            entry.add("reserved", level.reserved)
            entry.add("allocated", level.allocated)
            entry.add("safety", level.safety)
            entry.add("in_transit", level.inTransit)
            entry.add("atp", level.atp)
            return entry
        })
        return object.json
    }
}

extension Node {
    var json: JSONObject {
        var object = JSONObject()
        object.add("id", id)
        object.add("kind", kind.name)
        object.addRaw("lat", Coordinate.format(location.latitudeMicrodegrees))
        object.addRaw("lon", Coordinate.format(location.longitudeMicrodegrees))
        object.add("ship", ships)
        object.add("pickup", offersPickup)
        object.add("returns", acceptsReturns)
        object.add("capacity", capacityPerDay)
        object.add("cost", handlingCostCents)
        return object
    }
}

extension SKU {
    var json: JSONObject {
        var object = JSONObject()
        object.add("id", id)
        object.add("price", priceCents)
        object.add("weight", weightGrams)
        object.add("name", name)
        // Shown only when set, so a SKU without a sale reads as before.
        if let limit = terms?.limitPerCustomer { object.add("limit", limit) }
        if let start = terms?.saleStart { object.add("sale_start", start) }
        if let end = terms?.saleEnd { object.add("sale_end", end) }
        return object
    }
}

extension Reservation {
    var json: JSONObject {
        var object = JSONObject()
        object.add("id", id.description)
        object.add("sku", sku)
        object.add("qty", quantity)
        object.add("node", node)
        object.add("status", status.name)
        object.add("created_at", createdAt)
        object.add("expires_at", expiresAt)
        if let customer { object.add("customer", customer) }
        return object
    }
}
