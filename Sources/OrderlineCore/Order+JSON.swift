/// The JSON replies of orders, shipments and returns (PROTOCOL.md, Orders).
extension Order {
    /// Room for a typical order's reply (a few lines, shipments and holds), so the
    /// buffer of an order's reply grows once or not at all.
    static let replyBytesExpected = 2_048

    /// The order as a reply (`ORDER.CREATE`, `ORDER.EDIT`, …); inside another object,
    /// `writeFields` writes it in place.
    var json: JSONObject {
        var object = JSONObject(capacity: Self.replyBytesExpected)
        writeFields(into: &object)
        return object
    }

    /// Nested objects are written in place (`JSONObject.addObject`).
    func writeFields(into object: inout JSONObject) {
        object.add("id", id)
        object.add("channel", channel.rawValue)
        object.add("customer", customer)
        object.add("status", status.rawValue)
        object.addObjects("lines", lines) { entry, line in
            entry.add("sku", line.sku)
            entry.add("qty", line.quantity)
            entry.add("price", line.priceCents)
            let progress = progress(of: line.sku)
            entry.add("allocated", progress.allocated)
            entry.add("shipped", progress.shipped)
            entry.add("backordered", progress.backordered)
            entry.add("cancelled", line.cancelled)
            entry.add("returned", progress.returned)
        }
        object.addObjects("allocations", allocations) { $1.writeFields(into: &$0) }
        object.addObjects("backordered", backordered) { $1.writeFields(into: &$0) }
        object.addObjects("shipments", shipments) { $1.writeFields(order: id, into: &$0) }
        object.addObjects("holds", holds) { $1.writeFields(into: &$0) }
        object.addObjects("returns", returns) { $1.writeFields(order: self, into: &$0) }
        object.add("mode", pickupStore == nil ? "ship" : "pickup")
        object.add("store", pickupStore)
        object.add("service", service.rawValue)
        object.add("total", totalCents)
        object.add("reservations", reservations.map(\.description))
        if let payment { object.addObject("payment") { payment.writeFields(into: &$0) } } else { object.addNull("payment") }
        object.add("placed_at", placedAt)
        object.add("promised_at", promisedAt)
        object.add("promised_date", CalendarDate.format(promisedAt))
        object.add("exchange_for", exchangeFor)
    }

    /// `ORDER.STATUS`: what a customer asks, "where is my order?"
    var statusJSON: JSONObject {
        var object = JSONObject()
        object.add("id", id)
        object.add("status", status.rawValue)
        object.add("placed_at", placedAt)
        object.add("promised_at", promisedAt)
        object.add("promised_date", CalendarDate.format(promisedAt))
        object.addObjects("shipments", shipments) { entry, shipment in
            entry.add("id", concatenating: id, "-S", shipment.number)
            entry.add("status", shipment.status.rawValue)
            entry.add("carrier", shipment.carrier)
            entry.add("service", shipment.service)
            entry.add("tracking", shipment.tracking.isEmpty ? nil : shipment.tracking)
        }
        object.addObjects("holds", holds) { $1.writeFields(into: &$0) }
        object.addObjects("returns", returns) { entry, returned in
            entry.add("id", concatenating: id, "-R", returned.number)
            entry.add("status", returned.status.rawValue)
        }
        return object
    }

    /// `INVOICE.GET`: what was bought, what was charged and what was given back.
    var invoiceJSON: JSONObject {
        var object = JSONObject()
        object.add("order", id)
        object.add("customer", customer)
        object.add("address", address)
        object.add("placed_at", placedAt)
        object.add("lines", lines.map { line in
            var entry = JSONObject()
            entry.add("sku", line.sku)
            entry.add("qty", line.quantity)
            entry.add("unit_price", line.priceCents)
            entry.add("amount", line.quantity * line.priceCents)
            return entry
        })
        let cancelledCents = lines.reduce(0) { $0 + $1.cancelled * $1.priceCents }
        object.add("subtotal", totalCents)
        object.add("cancelled", cancelledCents)
        object.add("total", totalCents - cancelledCents)
        object.add("captured", payment?.capturedCents ?? 0)
        object.add("refunded", payment?.refundedCents ?? 0)
        object.add("payment", payment?.status.rawValue ?? "invoice")
        object.add("currency", "cents")
        return object
    }
}

extension Order.Payment {
    func writeFields(into object: inout JSONObject) {
        object.add("token", token)
        object.add("status", status.rawValue)
        object.add("amount", amountCents)
        object.add("captured", capturedCents)
        object.add("refunded", refundedCents)
        object.add("reason", reason)
    }
}

extension Order.Allocation {
    var json: JSONObject {
        var object = JSONObject()
        writeFields(into: &object)
        return object
    }

    /// A backorder's units wait at no node: `"node":null`.
    func writeFields(into object: inout JSONObject) {
        object.add("sku", sku)
        object.add("node", node.isEmpty ? nil : node)
        object.add("qty", quantity)
    }
}

extension Order.Hold {
    var json: JSONObject {
        var object = JSONObject()
        writeFields(into: &object)
        return object
    }

    func writeFields(into object: inout JSONObject) {
        object.add("type", kind.rawValue)
        object.add("reason", reason)
    }
}

extension Shipment.Line {
    var json: JSONObject {
        var object = JSONObject()
        writeFields(into: &object)
        return object
    }

    func writeFields(into object: inout JSONObject) {
        object.add("sku", sku)
        object.add("qty", quantity)
    }
}

extension Shipment {
    /// Room for a shipment's reply with its label, so its buffer is allocated once.
    var replyBytesExpected: Int { 512 + 64 * lines.count + label.utf8.count }

    func json(order: String) -> JSONObject {
        var object = JSONObject(capacity: replyBytesExpected)
        writeFields(order: order, into: &object)
        return object
    }

    func writeFields(order: String, into object: inout JSONObject) {
        object.add("id", concatenating: order, "-S", number)
        object.add("order", order)
        object.add("node", node)
        object.add("status", status.rawValue)
        object.add("mode", isPickup ? "pickup" : "ship")
        object.addObjects("lines", lines) { $1.writeFields(into: &$0) }
        object.add("carrier", carrier)
        object.add("service", service)
        object.add("cost", costCents)
        object.add("transit_days", Int64(transitDays))
        object.add("tracking", tracking.isEmpty ? nil : tracking)
        object.add("label", label.isEmpty ? nil : label)
        object.add("captured", capturedCents)
        object.add("updated_at", updatedAt)
        if let arrivedAt { object.add("arrived_at", arrivedAt) } else { object.addNull("arrived_at") }
    }
}

extension OrderReturn {
    func json(order: Order) -> JSONObject {
        var object = JSONObject()
        writeFields(order: order, into: &object)
        return object
    }

    func writeFields(order: Order, into object: inout JSONObject) {
        object.add("id", concatenating: order.id, "-R", number)
        object.add("order", order.id)
        object.add("node", node)
        object.add("status", status.rawValue)
        object.addObjects("lines", lines) { $1.writeFields(into: &$0) }
        object.add("reason", reason)
        object.add("condition", condition?.rawValue)
        object.add("restocked", condition == .resellable && status.wasReceived ? lines.reduce(0) { $0 + $1.quantity } : 0)
        object.add("refund", refundCents)
        object.add("exchange_order", exchangeOrder)
        object.add("exchange_value", exchangeCents)
        object.add("opened_at", openedAt)
        if let receivedAt { object.add("received_at", receivedAt) } else { object.addNull("received_at") }
    }
}
