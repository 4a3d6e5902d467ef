/// Shipments: each node's work queue and the steps from pick to delivery (or to the
/// customer's hands, for a pickup); labels, tracking numbers, payment capture.
extension OrderlineState {
    func existingShipment(_ id: ChildID) throws(Rejection) -> (order: Order, shipment: Shipment) {
        guard let order = orders[id.order], let shipment = order.shipments.first(where: { $0.number == id.number }) else {
            throw .notFound("shipment \(id)")
        }
        return (order, shipment)
    }

    func listShipments(node: String, status: Shipment.Status?, limit: Int) throws(Rejection) -> Decision {
        Decision(events: [], reply: try selectShipments(node: node, status: status, limit: limit).reply())
    }

    /// The node's work queue in id order, from its index.
    func selectShipments(node: String, status: Shipment.Status?, limit: Int) throws(Rejection) -> ListRendering {
        guard nodes[node] != nil else { throw .notFound("node \(node)") }
        var entries: [(order: String, shipment: Shipment)] = []
        for id in workQueues[node] ?? SortedChunks() {
            guard entries.count < limit else { break }
            guard let (order, shipment) = try? existingShipment(id), status == nil || shipment.status == status else { continue }
            entries.append((order.id, shipment))
        }
        let listed = entries
        return ListRendering(count: listed.count) {
            JSONObject.array(listed) { $1.shipment.writeFields(order: $1.order, into: &$0) }
        }
    }

    /// One step of one shipment. Repeating the step it just took answers as before and
    /// logs nothing (a retry); any other step out of order is `CONFLICT`.
    func advanceShipment(
        _ id: ChildID, _ transition: Shipment.Transition, booking: ShipmentBooking, context: DecisionContext
    ) throws(Rejection) -> Decision {
        let (order, shipment) = try existingShipment(id)
        guard let step = Shipment.transition(transition, isPickup: shipment.isPickup) else {
            throw .conflict(shipment.isPickup
                ? "shipment \(id) is a pickup: it goes SHIPMENT.READY then SHIPMENT.PICKEDUP"
                : "shipment \(id) goes to the customer: it goes SHIPMENT.SHIP then SHIPMENT.DELIVER")
        }
        if shipment.status == step.to {
            return Decision(events: [], reply: transition == .ship ? .bulk(shipment.json(order: order.id).json) : .ok)
        }
        guard shipment.status == step.from else {
            throw .conflict("shipment \(id) is \(shipment.status.rawValue); \(transition.rawValue) needs \(step.from.rawValue)")
        }
        if !order.holds.isEmpty && !step.from.leftNode {
            throw .conflict("order \(order.id) is on hold: " + order.holds.map { "\($0.kind.rawValue) (\($0.reason))" }.joined(separator: ", "))
        }
        var progress = ShipmentProgress(shipment: id, status: step.to, at: context.now)
        if step.to.leftNode && !step.from.leftNode {
            progress.capturedCents = context.payments.capture(order.payment, amountCents: order.value(of: shipment.lines))
        }
        guard transition == .ship else { return Decision(events: [.shipmentAdvanced(progress)], reply: .ok) }

        let quote = try booked(shipment, of: order, booking)
        progress.carrier = quote.carrier
        progress.service = quote.service
        progress.costCents = quote.costCents.adding(saturating: nodes[shipment.node]?.handlingCostCents ?? 0)
        progress.tracking = booking.tracking ?? Self.trackingNumber(for: id, carrier: quote.carrier)
        progress.label = label(for: shipment, of: order, quote: quote, tracking: progress.tracking)
        var shipped = order
        shipped.advance(progress)
        let reply = shipped.shipments.first { $0.number == id.number }.map { $0.json(order: order.id).json } ?? ""
        return Decision(events: [.shipmentAdvanced(progress)], reply: .bulk(reply))
    }

    /// The service routing chose, or the one `carrier=` / `service=` books instead,
    /// priced from the rate card for this parcel's distance and weight.
    private func booked(_ shipment: Shipment, of order: Order, _ booking: ShipmentBooking) throws(Rejection) -> Quote {
        let carrier = booking.carrier ?? shipment.carrier
        let serviceName = booking.service ?? (booking.carrier == nil ? shipment.service : nil)
        let candidates = rateCard.services.filter { $0.carrier == carrier && (serviceName == nil || $0.name == serviceName) }
        guard let from = nodes[shipment.node]?.location, let to = order.destination else {
            throw .conflict("shipment \(ChildID(order: order.id, number: shipment.number, kind: "S")) has no route to price")
        }
        let km = GreatCircle.distanceKm(from: from, to: to)
        let grams = weight(of: shipment)
        let quotes = candidates.compactMap { service -> Quote? in
            guard let days = service.transitDays(km: km) else { return nil }
            return Quote(carrier: service.carrier, service: service.name, costCents: service.costCents(km: km, grams: grams), transitDays: days)
        }.sorted { ($0.costCents, $0.service) < ($1.costCents, $1.service) }
        guard let quote = quotes.first else {
            throw .invalid("carrier=\(carrier ?? "-")\(serviceName.map { " service=\($0)" } ?? "") has no service reaching \(km) km (see CARRIER.LIST)")
        }
        return quote
    }

    /// Deterministic (the same on every replay): the carrier's prefix and twelve
    /// digits of the shipment id's hash.
    static func trackingNumber(for id: ChildID, carrier: String) -> String {
        let digits = String(XXH64.hash(Array(id.description.utf8)) % 1_000_000_000_000)
        return String(carrier.uppercased().prefix(3)) + String(repeating: "0", count: 12 - digits.count) + digits
    }

    private func weight(of shipment: Shipment) -> Int64 {
        shipment.lines.reduce(Int64(0)) { $0.adding(saturating: (skus[$1.sku]?.weightGrams ?? 0).multiplied(saturating: $1.quantity)) }
    }

    /// A ZPL label (the language of the thermal printers warehouses use). Client text
    /// loses ZPL's command characters (`^`, `~`), so an address cannot add commands.
    private func label(for shipment: Shipment, of order: Order, quote: Quote, tracking: String) -> String {
        func field(_ text: String) -> String {
            guard text.utf8.contains(where: { $0 == UInt8(ascii: "^") || $0 == UInt8(ascii: "~") }) else { return text }
            return String(text.unicodeScalars.filter { $0 != "^" && $0 != "~" }.map(Character.init))
        }
        let to = field(order.address.isEmpty ? order.destination?.description ?? "" : order.address)
        // Appended into one buffer of the right size, not three interpolations joined
        // by `+`, which each grew their own.
        var label = ""
        label.reserveCapacity(200 + quote.carrier.utf8.count + quote.service.utf8.count + shipment.node.utf8.count + order.customer.utf8.count
            + to.utf8.count + order.id.utf8.count + tracking.utf8.count)
        label += "^XA^CF0,30^FO40,40^FD"
        label += quote.carrier
        label += " "
        label += quote.service
        label += "^FS^FO40,90^FDFrom "
        label += shipment.node
        label += "^FS^FO40,140^FDTo "
        label += field(order.customer)
        label += ", "
        label += to
        label += "^FS^FO40,190^FD"
        label += String(weight(of: shipment))
        label += " g, order "
        label += order.id
        label += "^FS^BY3^FO40,240^BCN,100,Y,N,N^FD"
        label += field(tracking)
        label += "^FS^XZ"
        return label
    }
}
