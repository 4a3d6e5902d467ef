/// Orders: capture (routing, payment, fraud screening), edits, holds, cancel, reads.
extension OrderlineState {
    static let orderListLimitMax = 1_000

    func existingOrder(_ id: String) throws(Rejection) -> Order {
        guard let order = orders[id] else { throw .notFound("order \(id)") }
        return order
    }

    /// The same id with the same request is the same order (nothing changes); with
    /// another request, `CONFLICT`. Otherwise route, allocate, authorise, screen, log.
    /// `ORDER.CREATE`'s reply in the form asked for (`reply=`).
    static func reply(to order: Order, as form: OrderReplyForm) -> Reply {
        switch form {
        case .id: .bulk(order.id)
        case .status: .bulk(order.status.rawValue)
        case .full: .bulk(order.json.json)
        }
    }

    func placeOrder(_ request: OrderRequest, context: DecisionContext) throws(Rejection) -> Decision {
        if request.id.hasSuffix("-X"), ChildID(String(request.id.dropLast(2)), kind: "R") != nil {
            // `<order>-R<n>-X` is the exchange of return n: taken first, it would block it.
            throw .invalid("order id \(request.id) is kept for the exchange of return \(request.id.dropLast(2))")
        }
        try checkLineQuota(request.lines.map { ($0.sku, $0.quantity) }, context: context)
        if let existing = orders[request.id] {
            guard existing.request == request.fingerprint else {
                throw .conflict("order \(request.id) exists with other content")
            }
            return Decision(events: [], reply: Self.reply(to: existing, as: request.reply))
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
        // A flash sale's terms: the window (units not in converted carts) and the
        // customer's limit (carts being converted counted once).
        for line in request.lines {
            guard let terms = skus[line.sku]?.terms else { continue }
            try checkSaleTerms(
                terms, sku: line.sku, units: line.quantity, customer: request.customer, now: context.now,
                convertingCarts: request.reservations, exempt: converted[line.sku, default: 0])
        }
        var order = try routedOrder(
            Order(
                id: request.id, channel: request.channel, customer: request.customer,
                lines: try priced(request.lines.map { Shipment.Line(sku: $0.sku, quantity: $0.quantity) }),
                destination: request.destination, address: request.address, pickupStore: request.pickupStore, service: request.service,
                status: .allocated, shipments: [], backordered: [], routing: .none, placedAt: context.now, promisedAt: context.now,
                reservations: request.reservations, payment: nil, request: request.fingerprint),
            now: context.now, networkCredit: converted)
        if let token = request.paymentToken {
            order.payment = context.payments.authorize(token: token, amountCents: order.totalCents)
            if order.payment?.status != .authorized {
                // Rejected: logged (it counts in KPIs) but holds nothing; carts stay carts.
                order.status = .rejected
                order.shipments = []
                order.backordered = []
                return Decision(events: [.orderPlaced(order)], reply: Self.reply(to: order, as: request.reply))
            }
        }
        order.holds = fraudRules.holds(for: order, history: customers[order.customer], now: context.now)
        order.status = order.summarizedStatus()
        if order.status == .backordered, case .channel = context.role,
           orderIndex.count(status: .backordered, channel: order.channel) >= context.quotas.openBackordersMax {
            throw Rejection(
                .limit, "channel \(order.channel.rawValue) has \(context.quotas.openBackordersMax) orders waiting for stock, the most a channel token may have")
        }
        var events: [Event] = []
        events.reserveCapacity(request.reservations.count + 1)
        for id in request.reservations { events.append(.reservationConverted(id)) }
        events.append(.orderPlaced(order))
        return Decision(events: events, reply: Self.reply(to: order, as: request.reply))
    }

    /// Lines at today's prices (an edit keeps the price a line was bought at). An
    /// order's total and weight are capped, so its arithmetic never comes near overflow.
    func priced(_ lines: [Shipment.Line], keeping previous: [Order.Line] = []) throws(Rejection) -> [Order.Line] {
        var priced: [Order.Line] = []
        priced.reserveCapacity(lines.count)
        var total: Int64 = 0
        var grams: Int64 = 0
        for line in lines {
            guard let item = skus[line.sku] else { throw .notFound("sku \(line.sku)") }
            let price = previous.first { $0.sku == line.sku }?.priceCents ?? item.priceCents
            total = total.adding(saturating: price.multiplied(saturating: line.quantity))
            grams = grams.adding(saturating: item.weightGrams.multiplied(saturating: line.quantity))
            priced.append(Order.Line(sku: line.sku, quantity: line.quantity, priceCents: price))
        }
        guard total <= Arguments.moneyMax else { throw .invalid("lines come to more than \(Arguments.moneyMax) cents") }
        guard grams <= Self.orderGramsMax else { throw .invalid("lines weigh more than \(Self.orderGramsMax) grams") }
        return priced
    }

    /// 1,000 tonnes.
    static let orderGramsMax: Int64 = 1_000_000_000
    /// Far below what a shipment id can number (10,000); an order record stays small.
    static let shipmentsPerOrderMax = 100

    /// Routes `order`'s lines into shipments (and a backorder), with the promise and
    /// the explanation. `replacing` is the order as it was (an edit re-routes it: the
    /// stock it holds and today's capacity it takes count as free for it);
    /// `networkCredit` is what converted carts held.
    func routedOrder(
        _ order: Order, now: Timestamp, replacing previous: Order? = nil, networkCredit: [String: Int64] = [:],
        backorderAllowed: Bool? = nil
    ) throws(Rejection) -> Order {
        let credit = previous?.allocations ?? []
        let destination: Coordinate
        if let store = order.pickupStore {
            guard let node = nodes[store] else { throw .notFound("node \(store)") }
            guard node.offersPickup else { throw .invalid("store=\(store) does not offer pickup") }
            destination = node.location
        } else {
            guard let shipTo = order.destination else { throw .invalid("ORDER.CREATE needs ship=<lat>,<lon> (or mode=pickup store=<node>)") }
            destination = shipTo
        }
        var networkCredit = networkCredit
        for unit in credit { networkCredit[unit.sku, default: 0] += unit.quantity }
        let today = CalendarDate.day(of: now)
        // What each node can promise, never more than the network can (other carts
        // hold some; converted carts and the order's own allocations are its own).
        // Loops, not closures: a closure here captured the whole state, copying it
        // (its ~50 fields retained and released) on every order.
        var items: [(sku: String, item: SKUInventory, network: Int64)] = []
        items.reserveCapacity(order.lines.count)
        for line in order.lines where !items.contains(where: { $0.sku == line.sku }) {
            let sku = line.sku
            let item = inventory[sku] ?? SKUInventory()
            items.append((sku, item, item.networkATP + networkCredit[sku, default: 0]))
        }
        var stock: [NodeStock] = []
        stock.reserveCapacity(nodes.count)
        for node in nodes.values {
            var atp: [String: Int64] = [:]
            atp.reserveCapacity(items.count)
            for (sku, item, network) in items {
                var level = item.levels[node.id] ?? StockLevel()
                for unit in credit where unit.sku == sku && unit.node == node.id { level.allocated -= unit.quantity }
                atp[sku] = min(level.atp, network)
            }
            var capacityLeft: Int64?
            if node.capacityPerDay > 0 {
                var left = node.capacityPerDay - (capacityDay == today ? dailyShipments[node.id, default: 0] : 0)
                for shipment in previous?.shipments ?? [] where shipment.countsToward(day: today) && shipment.node == node.id { left += 1 }
                capacityLeft = left
            }
            stock.append(NodeStock(node: node, atp: atp, capacityLeft: capacityLeft))
        }
        var routingLines: [RoutingLine] = []
        routingLines.reserveCapacity(order.lines.count)
        for line in order.lines {
            routingLines.append(RoutingLine(sku: line.sku, quantity: line.quantity, weightGrams: skus[line.sku]?.weightGrams ?? 0))
        }
        let plan = Router.plan(
            RoutingRequest(
                lines: routingLines,
                destination: destination, service: order.service, pickupStore: order.pickupStore),
            stock: stock, rateCard: rateCard, rules: routingRules)
        // Loops over the plan, not map/filter chains, which built temporary arrays for
        // every order.
        var planned = plan.shipments
        var backordered: [Order.Allocation] = []
        for unit in plan.backordered { backordered.append(Order.Allocation(sku: unit.sku, node: "", quantity: unit.quantity)) }
        // Shipments of one SKU from several nodes may not add up to more than network
        // ATP: what is over moves, from the last shipment back, to the backorder.
        for (sku, _, promisable) in items {
            var over = -promisable
            for shipment in planned {
                for line in shipment.lines where line.sku == sku { over += line.quantity }
            }
            for shipment in planned.indices.reversed() where over > 0 {
                for line in planned[shipment].lines.indices where planned[shipment].lines[line].sku == sku && over > 0 {
                    let taken = min(over, planned[shipment].lines[line].quantity)
                    planned[shipment].lines[line].quantity -= taken
                    over -= taken
                    backordered.append(Order.Allocation(sku: sku, node: "", quantity: taken))
                }
            }
        }
        guard planned.count <= Self.shipmentsPerOrderMax else {
            throw Rejection(.limit, "order \(order.id) would need \(planned.count) shipments (at most \(Self.shipmentsPerOrderMax))")
        }
        var shipments: [Shipment] = []
        shipments.reserveCapacity(planned.count)
        for entry in planned {
            var lines = entry.lines
            // Checked first: removing from the plan's shared array copies it.
            if lines.contains(where: { $0.quantity <= 0 }) { lines.removeAll { $0.quantity <= 0 } }
            guard !lines.isEmpty else { continue }
            shipments.append(Shipment(
                number: shipments.count + 1, node: entry.node, lines: lines, isPickup: order.pickupStore != nil, carrier: entry.quote?.carrier,
                service: entry.quote?.service, costCents: entry.costCents, transitDays: entry.quote?.transitDays ?? 1, createdAt: now,
                updatedAt: now))
        }
        var routed = order
        routed.shipments = shipments
        routed.backordered = backordered
        if !(backorderAllowed ?? routingRules.allowBackorder), let short = backordered.first {
            let promised = routed.quantity(of: short.sku, in: routed.shipments)
            throw Rejection(.soldOut, "\(short.sku) available=\(promised) (backorders are off: ROUTING.SET backorder=yes)")
        }
        let days = shipments.lazy.map(\.transitDays).max() ?? order.service.transitDaysMax
        routed.promisedAt = now + Int64(days) * CalendarDate.secondsPerDay
        routed.routing = RoutingDecision(plan, strategy: routingRules.strategy)
        routed.status = routed.summarizedStatus()
        return routed
    }

    /// Before fulfilment starts: new lines, ship-to or address, routed again (the stock
    /// it held counts as free for it). The payment authorisation follows the total.
    func editOrder(_ edit: OrderEdit, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(edit.id)
        guard order.status != .cancelled, order.status != .rejected else { throw .conflict("order \(edit.id) is \(order.status.rawValue)") }
        guard order.shipments.allSatisfy({ $0.status == .pending || $0.status == .cancelled }) else {
            throw .conflict("order \(edit.id) is being fulfilled (a shipment is past pending); cancel or return instead")
        }
        if edit.destination != nil && order.pickupStore != nil { throw .invalid("order \(edit.id) is a pickup: it has no ship-to") }
        var edited = order
        if let destination = edit.destination { edited.destination = destination }
        if let address = edit.address { edited.address = address }
        if let lines = edit.lines {
            try checkLineQuota(lines.map { ($0.sku, $0.quantity) }, context: context)
            for line in lines {
                guard let terms = skus[line.sku]?.terms else { continue }
                // The units it had before are no new purchase.
                let before = order.lines.first { $0.sku == line.sku }.map { $0.quantity - $0.cancelled } ?? 0
                try checkSaleTerms(
                    terms, sku: line.sku, units: line.quantity, customer: order.customer, now: context.now,
                    replacingOrder: order.id, exempt: before)
            }
            edited.lines = try priced(lines, keeping: order.lines)
        }
        edited = try routedOrder(edited, now: context.now, replacing: order)
        // Screened again for what the edit can change (not velocity: it is no new order).
        let kinds = Set(edited.holds.map(\.kind))
        edited.holds += fraudRules.holds(for: edited, history: customers[edited.customer], now: context.now)
            .filter { $0.kind != .velocity && !kinds.contains($0.kind) }
        edited.status = edited.summarizedStatus()
        if var payment = edited.payment {
            if edited.totalCents > payment.amountCents {
                let increment = context.payments.authorize(token: payment.token, amountCents: edited.totalCents - payment.amountCents)
                guard increment.status == .authorized else { throw .conflict("payment for the new total: \(increment.reason)") }
            }
            payment.amountCents = edited.totalCents
            edited.payment = payment
        }
        return Decision(events: [.orderEdited(edited)], reply: .bulk(edited.json.json))
    }

    /// Routes an order's backorder again (stock may have arrived since): what can be
    /// promised now becomes new shipments, numbered after the others; the rest stays
    /// backordered. `ORDER.EXPLAIN` keeps the decision made at capture.
    func allocateBackorder(_ id: String, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(id)
        guard order.status != .cancelled, order.status != .rejected else { throw .conflict("order \(id) is \(order.status.rawValue)") }
        var waiting: [String: Int64] = [:]
        for unit in order.backordered { waiting[unit.sku, default: 0] += unit.quantity }
        var part = order
        part.lines = order.lines.compactMap { line in
            waiting[line.sku].map { Order.Line(sku: line.sku, quantity: $0, priceCents: line.priceCents) }
        }
        guard !part.lines.isEmpty else { return Decision(events: [], reply: .bulk(order.json.json)) }
        // The backorder exists already: what cannot be placed yet stays, whatever the rule.
        let routed = try routedOrder(part, now: context.now, backorderAllowed: true)
        guard !routed.shipments.isEmpty else { return Decision(events: [], reply: .bulk(order.json.json)) }
        guard order.shipments.count + routed.shipments.count <= Self.shipmentsPerOrderMax else {
            throw Rejection(.limit, "order \(id) would have more than \(Self.shipmentsPerOrderMax) shipments")
        }
        var allocated = order
        let numbered = order.shipments.map(\.number).max() ?? 0
        allocated.shipments += routed.shipments.map { shipment in
            var renumbered = shipment
            renumbered.number += numbered
            return renumbered
        }
        allocated.backordered = routed.backordered
        // The promise stays the one made at capture: KPIs measure against it.
        allocated.status = allocated.summarizedStatus()
        return Decision(events: [.orderEdited(allocated)], reply: .bulk(allocated.json.json))
    }

    func cancelOrder(_ id: String, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(id)
        guard order.status != .cancelled, order.status != .rejected else { return Decision(events: [], reply: .ok) }
        let gone = order.shipments.filter(\.status.leftNode)
        guard gone.isEmpty else {
            throw .conflict("order \(id) is \(order.status.rawValue) (\(gone.count) shipment(s) left their node); return it instead")
        }
        return Decision(events: [.orderCancelled(id, at: context.now)], reply: .ok)
    }

    func holdOrder(_ id: String, reason: String, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(id)
        guard order.status != .cancelled, order.status != .rejected, order.shipments.allSatisfy({ !$0.status.leftNode }) else {
            throw .conflict("order \(id) is \(order.status.rawValue): too late to hold")
        }
        let hold = Order.Hold(kind: .manual, reason: reason)
        guard !order.holds.contains(hold) else { return Decision(events: [], reply: .ok) }
        return Decision(events: [.orderHeld(id, hold, at: context.now)], reply: .ok)
    }

    func unholdOrder(_ id: String, context: DecisionContext) throws(Rejection) -> Decision {
        let order = try existingOrder(id)
        let liftable = order.holds.filter { $0.kind != .awaitingReturn }
        if liftable.isEmpty, !order.holds.isEmpty {
            throw .conflict("order \(id) is an exchange: it ships once return \(order.exchangeFor ?? "?") is received")
        }
        return Decision(events: liftable.isEmpty ? [] : [.orderUnheld(id, at: context.now)], reply: .ok)
    }

    /// A scoped role orders at most `cartUnitsMax` units of a SKU at a time, as it
    /// reserves: an order allocates stock at once, so it must not be the way around the
    /// reservation quota.
    func checkLineQuota(_ lines: [(sku: String, quantity: Int64)], context: DecisionContext) throws(Rejection) {
        let owner = context.role.ownerTag
        guard !owner.isEmpty, let line = lines.first(where: { $0.quantity > context.quotas.cartUnitsMax }) else { return }
        throw Rejection(.limit, "\(owner) may order at most \(context.quotas.cartUnitsMax) units of \(line.sku) at a time")
    }

    /// The order whose payment pays for `order`: itself, or for an exchange the order
    /// its return belongs to, followed back (a chain of exchanges ends at an order that
    /// was paid, or at one without payment: invoiced channels).
    func payingOrder(of order: Order) -> Order? {
        var current = order
        for _ in 0..<Self.exchangeChainMax {
            guard current.payment == nil, let link = current.exchangeFor, let returned = ChildID(link, kind: "R"),
                  let previous = orders[returned.order]
            else { return current }
            current = previous
        }
        return current
    }

    /// Exchanges of exchanges followed back at most this far.
    static let exchangeChainMax = 64

    /// From the index, in id order: the work is the orders listed, not all orders
    /// (with `customer=`, that customer's orders at most).
    func listOrders(status: Order.Status?, customer: String?, channel: Order.Channel?, limit: Int) -> Decision {
        Decision(events: [], reply: selectOrders(status: status, customer: customer, channel: channel, limit: limit).reply())
    }

    func selectOrders(status: Order.Status?, customer: String?, channel: Order.Channel?, limit: Int) -> ListRendering {
        var matching: [Order] = []
        for id in orderIndex.candidates(status: status, customer: customer, channel: channel) {
            guard let order = orders[id], status == nil || order.status == status, channel == nil || order.channel == channel else { continue }
            matching.append(order)
            if matching.count == limit { break }
        }
        let listed = matching
        return ListRendering(count: listed.count) { JSONObject.array(listed) { $1.writeFields(into: &$0) } }
    }

    /// `ORDER.LIST` and `SHIPMENT.LIST` in two steps: what to list, chosen against the
    /// state (cheap, from indexes), and its JSON, rendered from those values anywhere —
    /// the server renders a long list off its event loop (a thousand orders took 90 ms).
    /// nil for any other command; a rejection as `decide` would give it.
    public func listRendering(_ command: Command) -> Result<ListRendering, Rejection>? {
        switch command {
        case .orderList(let status, let customer, let channel, let limit):
            return .success(selectOrders(status: status, customer: customer, channel: channel, limit: limit))
        case .shipmentList(let node, let status, let limit):
            do {
                return .success(try selectShipments(node: node, status: status, limit: limit))
            } catch {
                return .failure(error)
            }
        default:
            return nil
        }
    }
}

/// A list chosen from the state, as values, and how to render it.
public struct ListRendering: Sendable {
    /// Entries listed.
    public let count: Int
    private let render: @Sendable () -> String

    init(count: Int, render: @escaping @Sendable () -> String) {
        self.count = count
        self.render = render
    }

    public func reply() -> Reply { .bulk(render()) }
}
