extension BinaryWriter {
    mutating func writeOptional(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func writeOptional(_ value: Int64?) {
        write(value != nil)
        if let value { writeVarInt(value) }
    }

    mutating func write(_ id: ChildID) {
        write(id.order)
        writeVarUInt(UInt64(id.number))
    }

    mutating func write(_ lines: [Shipment.Line]) {
        writeVarUInt(UInt64(lines.count))
        for line in lines {
            write(line.sku)
            writeVarInt(line.quantity)
        }
    }
}

extension BinaryReader {
    mutating func readOptionalString() throws(DecodingError) -> String? { try readBool() ? try readString() : nil }
    mutating func readOptionalVarInt() throws(DecodingError) -> Int64? { try readBool() ? try readVarInt() : nil }

    /// A count that must fit in what is left (each element takes at least one byte).
    mutating func readCount(_ what: String) throws(DecodingError) -> Int {
        let count = try readVarUInt()
        guard count <= UInt64(remaining) else { throw DecodingError("\(what) count past the end") }
        return Int(count)
    }

    mutating func readEnum<Value: RawRepresentable>(_ type: Value.Type, _ what: String) throws(DecodingError) -> Value
    where Value.RawValue == String {
        let text = try readString()
        guard let value = Value(rawValue: text) else { throw DecodingError("unknown \(what) '\(text)'") }
        return value
    }

    mutating func readChildID(kind: Character) throws(DecodingError) -> ChildID {
        let order = try readString()
        let number = try readVarUInt()
        guard number >= 1, number <= 10_000 else { throw DecodingError("child number \(number) out of range") }
        return ChildID(order: order, number: Int(number), kind: kind)
    }

    mutating func readShipmentLines() throws(DecodingError) -> [Shipment.Line] {
        var lines: [Shipment.Line] = []
        for _ in 0..<(try readCount("line")) { lines.append(Shipment.Line(sku: try readString(), quantity: try readVarInt())) }
        return lines
    }

    mutating func readCoordinate() throws(DecodingError) -> Coordinate {
        guard let latitude = Int32(exactly: try readVarInt()), let longitude = Int32(exactly: try readVarInt()) else {
            throw DecodingError("coordinate out of range")
        }
        return Coordinate(latitudeMicrodegrees: latitude, longitudeMicrodegrees: longitude)
    }
}

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
            writer.writeVarInt(line.cancelled)
        }
        writer.write(destination != nil)
        if let destination {
            writer.writeVarInt(Int64(destination.latitudeMicrodegrees))
            writer.writeVarInt(Int64(destination.longitudeMicrodegrees))
        }
        writer.write(address)
        writer.writeOptional(pickupStore)
        writer.write(service.rawValue)
        writer.write(status.rawValue)
        writer.writeVarUInt(UInt64(shipments.count))
        for shipment in shipments { shipment.encode(into: &writer) }
        writer.write(backordered.map { Shipment.Line(sku: $0.sku, quantity: $0.quantity) })
        writer.writeVarUInt(UInt64(holds.count))
        for hold in holds {
            writer.write(hold.kind.rawValue)
            writer.write(hold.reason)
        }
        writer.writeVarUInt(UInt64(returns.count))
        for returned in returns { returned.encode(into: &writer) }
        routing.encode(into: &writer)
        writer.writeVarInt(placedAt)
        writer.writeVarInt(promisedAt)
        writer.writeVarUInt(UInt64(reservations.count))
        for id in reservations { writer.writeVarUInt(id.number) }
        writer.write(payment != nil)
        if let payment {
            writer.write(payment.token)
            writer.write(payment.status.rawValue)
            writer.writeVarInt(payment.amountCents)
            writer.write(payment.reason)
            writer.writeVarInt(payment.capturedCents)
            writer.writeVarInt(payment.refundedCents)
        }
        writer.write(request)
        writer.writeOptional(exchangeFor)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Order {
        let id = try reader.readString()
        let channel = try reader.readEnum(Channel.self, "channel")
        let customer = try reader.readString()
        var lines: [Line] = []
        for _ in 0..<(try reader.readCount("order line")) {
            lines.append(Line(
                sku: try reader.readString(), quantity: try reader.readVarInt(), priceCents: try reader.readVarInt(),
                cancelled: try reader.readVarInt()))
        }
        let destination = try reader.readBool() ? try reader.readCoordinate() : nil
        let address = try reader.readString()
        let store = try reader.readOptionalString()
        let service = try reader.readEnum(ServiceLevel.self, "service")
        let status = try reader.readEnum(Status.self, "order status")
        var shipments: [Shipment] = []
        for _ in 0..<(try reader.readCount("shipment")) { shipments.append(try Shipment.decode(from: &reader)) }
        let backordered = try reader.readShipmentLines().map { Allocation(sku: $0.sku, node: "", quantity: $0.quantity) }
        var holds: [Hold] = []
        for _ in 0..<(try reader.readCount("hold")) {
            holds.append(Hold(kind: try reader.readEnum(Hold.Kind.self, "hold kind"), reason: try reader.readString()))
        }
        var returns: [OrderReturn] = []
        for _ in 0..<(try reader.readCount("return")) { returns.append(try OrderReturn.decode(from: &reader)) }
        let routing = try RoutingDecision.decode(from: &reader)
        let placedAt = try reader.readVarInt()
        let promisedAt = try reader.readVarInt()
        var reservations: [ReservationID] = []
        for _ in 0..<(try reader.readCount("order reservation")) { reservations.append(ReservationID(try reader.readVarUInt())) }
        var payment: Payment?
        if try reader.readBool() {
            payment = Payment(
                token: try reader.readString(), status: try reader.readEnum(Payment.Status.self, "payment status"),
                amountCents: try reader.readVarInt(), reason: try reader.readString(), capturedCents: try reader.readVarInt(),
                refundedCents: try reader.readVarInt())
        }
        return Order(
            id: id, channel: channel, customer: customer, lines: lines, destination: destination, address: address,
            pickupStore: store, service: service, status: status, shipments: shipments, backordered: backordered, holds: holds,
            returns: returns, routing: routing, placedAt: placedAt, promisedAt: promisedAt, reservations: reservations,
            payment: payment, request: try reader.readString(), exchangeFor: try reader.readOptionalString())
    }
}

extension Shipment {
    func encode(into writer: inout BinaryWriter) {
        writer.writeVarUInt(UInt64(number))
        writer.write(node)
        writer.write(lines)
        writer.write(isPickup)
        writer.writeOptional(carrier)
        writer.writeOptional(service)
        writer.writeVarInt(costCents)
        writer.writeVarInt(Int64(transitDays))
        writer.writeVarInt(createdAt)
        writer.write(status.rawValue)
        writer.write(tracking)
        writer.write(label)
        writer.writeVarInt(capturedCents)
        writer.writeVarInt(updatedAt)
        writer.writeOptional(arrivedAt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Shipment {
        let number = try reader.readVarUInt()
        guard number <= 10_000 else { throw DecodingError("shipment number \(number) out of range") }
        let node = try reader.readString()
        let lines = try reader.readShipmentLines()
        let isPickup = try reader.readBool()
        let carrier = try reader.readOptionalString()
        let service = try reader.readOptionalString()
        let cost = try reader.readVarInt()
        guard let transitDays = Int(exactly: try reader.readVarInt()) else { throw DecodingError("transit days out of range") }
        return Shipment(
            number: Int(number), node: node, lines: lines, isPickup: isPickup, carrier: carrier, service: service, costCents: cost,
            transitDays: transitDays, createdAt: try reader.readVarInt(), status: try reader.readEnum(Status.self, "shipment status"),
            tracking: try reader.readString(), label: try reader.readString(), capturedCents: try reader.readVarInt(),
            updatedAt: try reader.readVarInt(), arrivedAt: try reader.readOptionalVarInt())
    }
}

extension OrderReturn {
    func encode(into writer: inout BinaryWriter) {
        writer.writeVarUInt(UInt64(number))
        writer.write(node)
        writer.write(lines)
        writer.write(reason)
        writer.write(status.rawValue)
        writer.writeOptional(condition?.rawValue)
        writer.writeVarInt(refundCents)
        writer.writeOptional(exchangeOrder)
        writer.writeVarInt(exchangeCents)
        writer.writeVarInt(openedAt)
        writer.writeOptional(receivedAt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> OrderReturn {
        let number = try reader.readVarUInt()
        guard number <= 10_000 else { throw DecodingError("return number \(number) out of range") }
        let node = try reader.readString()
        let lines = try reader.readShipmentLines()
        let reason = try reader.readString()
        let status = try reader.readEnum(Status.self, "return status")
        let condition = try reader.readBool() ? try reader.readEnum(Condition.self, "return condition") : nil
        return OrderReturn(
            number: Int(number), node: node, lines: lines, reason: reason, status: status, condition: condition,
            refundCents: try reader.readVarInt(), exchangeOrder: try reader.readOptionalString(), exchangeCents: try reader.readVarInt(),
            openedAt: try reader.readVarInt(),
            receivedAt: try reader.readOptionalVarInt())
    }
}
