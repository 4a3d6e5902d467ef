/// Orders: capture, routing through `Router.plan`, allocation, cancel, reads.
extension OrderlineState {
    static let orderListLimitMax = 1_000

    func cancelOrder(_ id: String, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(id)
        guard order.status != .cancelled, order.status != .rejected else { return Decision(events: [], reply: .ok) }
        return Decision(events: [.orderCancelled(id, at: context.now)], reply: .ok)
    }

    func listOrders(status: Order.Status?, customer: String?, channel: Order.Channel?, limit: Int) -> Decision {
        let matching = orders.values
            .filter { (status == nil || $0.status == status) && (customer == nil || $0.customer == customer) && (channel == nil || $0.channel == channel) }
            .sorted { $0.id < $1.id }
            .prefix(limit)
        return Decision(events: [], reply: .bulk(JSONObject.array(matching.map(\.json))))
    }

    func existingOrder(_ id: String) throws(Rejection) -> Order {
        guard let order = orders[id] else { throw .notFound("order \(id)") }
        return order
    }

    /// The same id with the same request is the same order (nothing changes); with
    /// another request, `CONFLICT`. Otherwise route, allocate and log it.
    func placeOrder(_ request: OrderRequest, context: DecisionContext) throws(Rejection) -> Decision {
        if let existing = orders[request.id] {
            guard existing.request == request.fingerprint else {
                throw .conflict("order \(request.id) exists with other content: \(existing.request)")
            }
            return Decision(events: [], reply: .bulk(existing.json.json))
        }
        var lines: [Order.Line] = []
        var routingLines: [RoutingLine] = []
        for (sku, quantity) in request.lines {
            guard let item = skus[sku] else { throw .notFound("sku \(sku)") }
            lines.append(Order.Line(sku: sku, quantity: quantity, priceCents: item.priceCents))
            routingLines.append(RoutingLine(sku: sku, quantity: quantity, weightGrams: item.weightGrams))
        }
        let destination: Coordinate
        if let store = request.pickupStore {
            guard let node = nodes[store] else { throw .notFound("node \(store)") }
            guard node.offersPickup else { throw .invalid("store=\(store) does not offer pickup") }
            destination = node.location
        } else {
            guard let shipTo = request.destination else { throw .invalid("ORDER.CREATE needs ship=<lat>,<lon> (or mode=pickup store=<node>)") }
            destination = shipTo
        }
        // Carts being converted: their units become the order's to place.
        var converted: [String: Int64] = [:]
        for id in request.reservations {
            guard let cart = reservations[id] else { throw .notFound("reservation \(id)") }
            guard cart.status == .held else { throw .conflict("reservation \(id) is \(cart.status.name)") }
            guard cart.node == nil else { throw .conflict("reservation \(id) holds stock at \(cart.node ?? ""); an order converts network carts") }
            guard context.role.ownerTag.isEmpty || cart.owner == context.role.ownerTag else {
                throw Rejection(.noPermission, "\(context.role) may only convert its own reservations")
            }
            let ordered = request.lines.first { $0.sku == cart.sku }?.quantity ?? 0
            guard converted[cart.sku, default: 0] + cart.quantity <= ordered else {
                throw .conflict("reservations hold more \(cart.sku) than the order's lines (\(ordered))")
            }
            converted[cart.sku, default: 0] += cart.quantity
        }
        // What each node can promise, never more than the network can (other carts
        // hold some; the converted ones are this order's).
        let stock = nodes.values.map { node in
            NodeStock(node: node, atp: Dictionary(uniqueKeysWithValues: Set(request.lines.map(\.sku)).map { sku in
                let item = inventory[sku] ?? SKUInventory()
                return (sku, min(item.levels[node.id]?.atp ?? 0, item.networkATP + converted[sku, default: 0]))
            }))
        }
        let plan = Router.plan(
            RoutingRequest(lines: routingLines, destination: destination, service: request.service, pickupStore: request.pickupStore),
            stock: stock, rateCard: rateCard, rules: routingRules)
        var allocations: [Order.Allocation] = plan.shipments.flatMap { shipment in
            shipment.lines.map { Order.Allocation(sku: $0.sku, node: shipment.node, quantity: $0.quantity) }
        }
        var backordered = plan.backordered.map { Order.Allocation(sku: $0.sku, node: "", quantity: $0.quantity) }
        capToNetworkATP(&allocations, backordered: &backordered, converted: converted)
        var order = Order(
            id: request.id, channel: request.channel, customer: request.customer, lines: lines, destination: request.destination,
            address: request.address, pickupStore: request.pickupStore, service: request.service,
            status: backordered.isEmpty ? .allocated : .backordered, allocations: allocations, backordered: backordered,
            explanation: explanation(plan), placedAt: context.now, reservations: request.reservations)
        if let token = request.paymentToken {
            order.payment = PaymentSimulator.authorize(token: token, amountCents: order.totalCents)
            if order.payment?.status != .authorized {
                // Rejected: logged (it counts in KPIs) but holds nothing; carts stay carts.
                order.status = .rejected
                order.allocations = []
                order.backordered = []
                return Decision(events: [.orderPlaced(order)], reply: .bulk(order.json.json))
            }
        }
        return Decision(
            events: request.reservations.map(Event.reservationConverted) + [.orderPlaced(order)], reply: .bulk(order.json.json))
    }

    /// Allocations of one SKU across nodes may not add up to more than network ATP:
    /// what is over moves, from the last allocation back, to the backorder.
    private func capToNetworkATP(
        _ allocations: inout [Order.Allocation], backordered: inout [Order.Allocation], converted: [String: Int64]
    ) {
        for sku in Set(allocations.map(\.sku)) {
            let promisable = (inventory[sku]?.networkATP ?? 0) + converted[sku, default: 0]
            var over = allocations.filter { $0.sku == sku }.reduce(0) { $0 + $1.quantity } - promisable
            for index in allocations.indices.reversed() where over > 0 && allocations[index].sku == sku {
                let taken = min(over, allocations[index].quantity)
                allocations[index].quantity -= taken
                over -= taken
                backordered.append(Order.Allocation(sku: sku, node: "", quantity: taken))
            }
        }
        allocations.removeAll { $0.quantity == 0 }
    }

    private func explanation(_ plan: RoutingPlan) -> String {
        var object = JSONObject()
        object.add("rule", plan.rule)
        object.add("strategy", routingRules.strategy.rawValue)
        object.add("candidates", plan.candidates.map { candidate in
            var entry = JSONObject()
            entry.add("node", candidate.node)
            entry.add("distance_km", candidate.distanceKm)
            if let cost = candidate.costCents { entry.add("cost", cost) } else { entry.addNull("cost") }
            if let quote = candidate.quote {
                entry.add("carrier", quote.carrier)
                entry.add("service", quote.service)
                entry.add("transit_days", Int64(quote.transitDays))
            }
            entry.add("has_every_line", candidate.hasEveryLine)
            entry.add("excluded", candidate.excludedBecause)
            return entry
        })
        object.add("shipments", plan.shipments.map { shipment in
            var entry = JSONObject()
            entry.add("node", shipment.node)
            entry.add("cost", shipment.costCents)
            entry.add("carrier", shipment.quote?.carrier)
            entry.add("service", shipment.quote?.service)
            return entry
        })
        object.add("total_cost", plan.totalCostCents)
        return object.json
    }
}
