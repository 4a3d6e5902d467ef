extension Order {
    func encode(into writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(channel.rawValue)
        writer.write(customer)
        writer.writeVarUInt(UInt64(lines.count))
        for line in lines {
            writer.write(line.sku)
            writer.writeVarInt(line.quantity)
            writer.writeVarInt(line.priceCents)
        }
        writer.write(destination != nil)
        if let destination {
            writer.writeVarInt(Int64(destination.latitudeMicrodegrees))
            writer.writeVarInt(Int64(destination.longitudeMicrodegrees))
        }
        writer.write(address)
        writer.write(pickupStore ?? "")
        writer.write(service.rawValue)
        writer.write(status.rawValue)
        for list in [allocations, backordered] {
            writer.writeVarUInt(UInt64(list.count))
            for allocation in list {
                writer.write(allocation.sku)
                writer.write(allocation.node)
                writer.writeVarInt(allocation.quantity)
            }
        }
        writer.write(explanation)
        writer.writeVarInt(placedAt)
        writer.writeVarUInt(UInt64(reservations.count))
        for id in reservations { writer.writeVarUInt(id.number) }
        writer.write(payment != nil)
        if let payment {
            writer.write(payment.token)
            writer.write(payment.status.rawValue)
            writer.writeVarInt(payment.amountCents)
            writer.write(payment.reason)
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Order {
        let id = try reader.readString()
        let channelText = try reader.readString()
        guard let channel = Channel(rawValue: channelText) else { throw DecodingError("unknown channel '\(channelText)'") }
        let customer = try reader.readString()
        let lineCount = try reader.readVarUInt()
        guard lineCount <= UInt64(reader.remaining) else { throw DecodingError("order line count past the end") }
        var lines: [Line] = []
        for _ in 0..<lineCount {
            lines.append(Line(sku: try reader.readString(), quantity: try reader.readVarInt(), priceCents: try reader.readVarInt()))
        }
        var destination: Coordinate?
        if try reader.readBool() {
            guard let latitude = Int32(exactly: try reader.readVarInt()), let longitude = Int32(exactly: try reader.readVarInt()) else {
                throw DecodingError("order destination out of range")
            }
            destination = Coordinate(latitudeMicrodegrees: latitude, longitudeMicrodegrees: longitude)
        }
        let address = try reader.readString()
        let store = try reader.readString()
        let serviceText = try reader.readString()
        guard let service = ServiceLevel(rawValue: serviceText) else { throw DecodingError("unknown service '\(serviceText)'") }
        let statusText = try reader.readString()
        guard let status = Status(rawValue: statusText) else { throw DecodingError("unknown order status '\(statusText)'") }
        var lists: [[Allocation]] = []
        for _ in 0..<2 {
            let count = try reader.readVarUInt()
            guard count <= UInt64(reader.remaining) else { throw DecodingError("allocation count past the end") }
            var list: [Allocation] = []
            for _ in 0..<count {
                list.append(Allocation(sku: try reader.readString(), node: try reader.readString(), quantity: try reader.readVarInt()))
            }
            lists.append(list)
        }
        let explanation = try reader.readString()
        let placedAt = try reader.readVarInt()
        let cartCount = try reader.readVarUInt()
        guard cartCount <= UInt64(reader.remaining) else { throw DecodingError("order reservation count past the end") }
        var reservations: [ReservationID] = []
        for _ in 0..<cartCount { reservations.append(ReservationID(try reader.readVarUInt())) }
        var payment: Payment?
        if try reader.readBool() {
            let token = try reader.readString()
            let statusText = try reader.readString()
            guard let status = Payment.Status(rawValue: statusText) else { throw DecodingError("unknown payment status '\(statusText)'") }
            payment = Payment(token: token, status: status, amountCents: try reader.readVarInt(), reason: try reader.readString())
        }
        return Order(
            id: id, channel: channel, customer: customer, lines: lines, destination: destination, address: address,
            pickupStore: store.isEmpty ? nil : store, service: service, status: status, allocations: lists[0],
            backordered: lists[1], explanation: explanation, placedAt: placedAt, reservations: reservations, payment: payment)
    }

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
            return entry
        })
        object.add("allocations", allocations.map(\.json))
        object.add("backordered", backordered.map(\.json))
        object.add("mode", pickupStore == nil ? "ship" : "pickup")
        object.add("store", pickupStore)
        object.add("service", service.rawValue)
        object.add("total", totalCents)
        object.addRaw("reservations", "[" + reservations.map { JSONObject.quote($0.description) }.joined(separator: ",") + "]")
        if let payment {
            var paid = JSONObject()
            paid.add("token", payment.token)
            paid.add("status", payment.status.rawValue)
            paid.add("amount", payment.amountCents)
            paid.add("reason", payment.reason)
            object.add("payment", paid)
        } else {
            object.addNull("payment")
        }
        object.add("placed_at", placedAt)
        return object
    }
}

extension Order.Allocation {
    var json: JSONObject {
        var object = JSONObject()
        object.add("sku", sku)
        object.add("node", node)
        object.add("qty", quantity)
        return object
    }
}
