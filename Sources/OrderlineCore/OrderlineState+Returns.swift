/// Returns: open (with an exchange, a linked order), receive at a node (a store is
/// BORIS), restock what is resellable there, refund through the gateway.
extension OrderlineState {
    static let returnsPerOrderMax = 100

    func existingReturn(_ id: ChildID) throws(Rejection) -> (order: Order, returned: OrderReturn) {
        guard let order = orders[id.order], let returned = order.returns.first(where: { $0.number == id.number }) else {
            throw .notFound("return \(id)")
        }
        return (order, returned)
    }

    func openReturn(_ request: ReturnRequest, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(request.order)
        for line in request.lines {
            let returnable = order.returnable(line.sku)
            guard line.quantity <= returnable else {
                throw .conflict("order \(order.id) has \(returnable) unit(s) of \(line.sku) delivered and not yet returned")
            }
        }
        guard order.returns.count < Self.returnsPerOrderMax else { throw Rejection(.limit, "order \(order.id) has \(order.returns.count) returns") }
        // By default the units go back to the node that shipped the first of them.
        let nodeID = request.node ?? order.shipments.first { shipment in
            shipment.status.reachedCustomer && shipment.lines.contains { line in request.lines.contains { $0.sku == line.sku } }
        }?.node ?? ""
        guard let node = nodes[nodeID] else { throw .notFound("node \(nodeID)") }
        guard node.acceptsReturns else { throw .conflict("node \(node.id) does not accept returns") }
        let id = ChildID(order: order.id, number: order.returns.count + 1, kind: "R")
        var returned = OrderReturn(
            number: id.number, node: node.id, lines: request.lines, reason: request.reason, openedAt: context.now)
        var events: [Event] = []
        if !request.exchange.isEmpty {
            let exchangeID = "\(id)-X"
            guard (try? Arguments.identifier(exchangeID, "order")) != nil, orders[exchangeID] == nil else {
                throw .invalid("exchange order id \(exchangeID) is too long or taken")
            }
            let lines = try priced(request.exchange)
            let exchangeValue = lines.reduce(Int64(0)) { $0.adding(saturating: $1.priceCents.multiplied(saturating: $1.quantity)) }
            let returnedValue = order.value(of: request.lines)
            guard exchangeValue <= returnedValue else {
                throw .conflict("the exchange is worth \(exchangeValue), more than the \(returnedValue) returned")
            }
            var exchange = try routedOrder(
                Order(
                    id: exchangeID, channel: order.channel, customer: order.customer, lines: lines, destination: order.destination,
                    address: order.address, pickupStore: order.pickupStore, service: order.service, status: .allocated, shipments: [],
                    backordered: [], routing: .none, placedAt: context.now, promisedAt: context.now, reservations: [], payment: nil,
                    request: "exchange for \(id)", exchangeFor: id.description),
                now: context.now)
            // Stock is set aside for the replacement now; it ships once the return is in.
            exchange.holds = fraudRules.holds(for: exchange, history: customers[exchange.customer], now: context.now)
                + [Order.Hold(kind: .awaitingReturn, reason: "ships once return \(id) is received")]
            exchange.status = exchange.summarizedStatus()
            returned.exchangeOrder = exchangeID
            returned.exchangeCents = exchangeValue
            events.append(.orderPlaced(exchange))
        }
        return Decision(events: [.returnOpened(id, returned)] + events, reply: .bulk(id.description))
    }

    func receiveReturn(_ id: ChildID, condition: OrderReturn.Condition, context: DecisionContext) throws(Rejection) -> Decision {
        let (order, returned) = try existingReturn(id)
        guard returned.status == .open else { throw .conflict("return \(id) is \(returned.status.rawValue)") }
        // An exchange's units were paid through the order it replaced: refunds trace back there.
        let payment = payingOrder(of: order)?.payment
        let refund = context.payments.refund(payment, amountCents: max(0, order.value(of: returned.lines) - returned.exchangeCents))
        var object = JSONObject()
        object.add("id", id.description)
        object.add("status", refund > 0 ? OrderReturn.Status.refunded.rawValue : OrderReturn.Status.received.rawValue)
        object.add("node", returned.node)
        object.add("boris", nodes[returned.node]?.kind == .store)
        object.add("condition", condition.rawValue)
        object.add("restocked", condition == .resellable ? returned.lines.reduce(0) { $0 + $1.quantity } : 0)
        object.add("refund", refund)
        return Decision(
            events: [.returnReceived(id, condition, refundCents: refund, at: context.now)], reply: .bulk(object.json))
    }
}
