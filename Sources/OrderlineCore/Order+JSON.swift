/// The JSON replies of orders, shipments and returns (PROTOCOL.md, Orders).
extension Order {
    var json: JSONObject {
        var object = JSONObject()
        object.add("id", id)
        object.add("channel", channel.rawValue)
        object.add("customer", customer)
        object.add("status", status.rawValue)
        object.add("lines", lines.map { line in
            var entry = JSONObject()
            entry.add("sku", line.sku)
            entry.add("qty", line.quantity)
            entry.add("price", line.priceCents)
            let progress = progress(of: line.sku)
            entry.add("allocated", progress.allocated)
            entry.add("shipped", progress.shipped)
            entry.add("backordered", progress.backordered)
            entry.add("cancelled", line.cancelled)
            entry.add("returned", progress.returned)
            return entry
        })
        object.add("allocations", allocations.map(\.json))
        object.add("backordered", backordered.map(\.json))
        object.add("shipments", shipments.map { $0.json(order: id) })
        object.add("holds", holds.map(\.json))
        object.add("returns", returns.map { $0.json(order: self) })
        object.add("mode", pickupStore == nil ? "ship" : "pickup")
        object.add("store", pickupStore)
        object.add("service", service.rawValue)
        object.add("total", totalCents)
        object.add("reservations", reservations.map(\.description))
        if let payment { object.add("payment", payment.json) } else { object.addNull("payment") }
        object.add("placed_at", placedAt)
        object.add("promised_at", promisedAt)
        object.add("promised_date", CalendarDate.format(promisedAt))
        object.add("exchange_for", exchangeFor)
        return object
    }

    /// `ORDER.STATUS`: what a customer asks, "where is my order?"
    var statusJSON: JSONObject {
        var object = JSONObject()
        object.add("id", id)
        object.add("status", status.rawValue)
        object.add("placed_at", placedAt)
        object.add("promised_at", promisedAt)
        object.add("promised_date", CalendarDate.format(promisedAt))
        object.add("shipments", shipments.map { shipment in
            var entry = JSONObject()
            entry.add("id", ChildID(order: id, number: shipment.number, kind: "S").description)
            entry.add("status", shipment.status.rawValue)
            entry.add("carrier", shipment.carrier)
            entry.add("service", shipment.service)
            entry.add("tracking", shipment.tracking.isEmpty ? nil : shipment.tracking)
            return entry
        })
        object.add("holds", holds.map(\.json))
        object.add("returns", returns.map { returned in
            var entry = JSONObject()
            entry.add("id", ChildID(order: id, number: returned.number, kind: "R").description)
            entry.add("status", returned.status.rawValue)
            return entry
        })
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
    var json: JSONObject {
        var object = JSONObject()
        object.add("token", token)
        object.add("status", status.rawValue)
        object.add("amount", amountCents)
        object.add("captured", capturedCents)
        object.add("refunded", refundedCents)
        object.add("reason", reason)
        return object
    }
}

extension Order.Allocation {
    /// A backorder's units wait at no node: `"node":null`.
    var json: JSONObject {
        var object = JSONObject()
        object.add("sku", sku)
        object.add("node", node.isEmpty ? nil : node)
        object.add("qty", quantity)
        return object
    }
}

extension Order.Hold {
    var json: JSONObject {
        var object = JSONObject()
        object.add("type", kind.rawValue)
        object.add("reason", reason)
        return object
    }
}

extension Shipment.Line {
    var json: JSONObject {
        var object = JSONObject()
        object.add("sku", sku)
        object.add("qty", quantity)
        return object
    }
}

extension Shipment {
    func json(order: String) -> JSONObject {
        var object = JSONObject()
        object.add("id", ChildID(order: order, number: number, kind: "S").description)
        object.add("order", order)
        object.add("node", node)
        object.add("status", status.rawValue)
        object.add("mode", isPickup ? "pickup" : "ship")
        object.add("lines", lines.map(\.json))
        object.add("carrier", carrier)
        object.add("service", service)
        object.add("cost", costCents)
        object.add("transit_days", Int64(transitDays))
        object.add("tracking", tracking.isEmpty ? nil : tracking)
        object.add("label", label.isEmpty ? nil : label)
        object.add("captured", capturedCents)
        object.add("updated_at", updatedAt)
        if let arrivedAt { object.add("arrived_at", arrivedAt) } else { object.addNull("arrived_at") }
        return object
    }
}

extension OrderReturn {
    func json(order: Order) -> JSONObject {
        var object = JSONObject()
        object.add("id", ChildID(order: order.id, number: number, kind: "R").description)
        object.add("order", order.id)
        object.add("node", node)
        object.add("status", status.rawValue)
        object.add("lines", lines.map(\.json))
        object.add("reason", reason)
        object.add("condition", condition?.rawValue)
        object.add("restocked", condition == .resellable && status.wasReceived ? lines.reduce(0) { $0 + $1.quantity } : 0)
        object.add("refund", refundCents)
        object.add("exchange_order", exchangeOrder)
        object.add("exchange_value", exchangeCents)
        object.add("opened_at", openedAt)
        if let receivedAt { object.add("received_at", receivedAt) } else { object.addNull("received_at") }
        return object
    }
}
