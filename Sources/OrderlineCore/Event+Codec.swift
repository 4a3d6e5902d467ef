/// The binary encoding of events, as the WAL stores them.
///
/// One event is a tag byte followed by its fields (varints, zigzag varints,
/// length-prefixed strings). The encoding as a whole is versioned by
/// `Event.codecVersion`, which every WAL frame and snapshot records; a reader meeting
/// another version or an unknown tag throws a `DecodingError`.
extension Event {
    public static let codecVersion: UInt8 = 1

    /// Every event's tag byte, frozen: logs on disk hold these numbers. A new event takes
    /// the next unused number; a number is never changed or reused, even when its event
    /// is retired (`FormatFreezeTests` holds this table, and `docs/STORAGE.md` shows it).
    enum Tag: UInt8, CaseIterable {
        case nodeUpserted = 1
        case skuUpserted = 2
        case stockSet = 3
        case stockAdjusted = 4
        case reservationCreated = 5
        case reservationReleased = 6
        case reservationCommitted = 7
        case reservationExpired = 8
        case idempotencyKeyRecorded = 9
        case transferShipped = 10
        case transferReceived = 11
        case routingRulesSet = 12
        case carrierServiceSet = 13
        case orderPlaced = 14
        case orderCancelled = 15
        case reservationConverted = 16
        case orderEdited = 17
        case orderHeld = 18
        case orderUnheld = 19
        case shipmentAdvanced = 20
        case returnOpened = 21
        case returnReceived = 22
        case fraudRulesSet = 23
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case .nodeUpserted(let node):
            writer.write(Tag.nodeUpserted.rawValue)
            node.encode(into: &writer)
        case .skuUpserted(let sku):
            writer.write(Tag.skuUpserted.rawValue)
            sku.encode(into: &writer)
        case .stockSet(let node, let sku, let onHand, let safety):
            writer.write(Tag.stockSet.rawValue)
            writer.write(node)
            writer.write(sku)
            writer.writeVarInt(onHand)
            writer.writeVarInt(safety)
        case .stockAdjusted(let node, let sku, let delta, let reason):
            writer.write(Tag.stockAdjusted.rawValue)
            writer.write(node)
            writer.write(sku)
            writer.writeVarInt(delta)
            writer.write(reason)
        case .reservationCreated(let reservation):
            writer.write(Tag.reservationCreated.rawValue)
            reservation.encode(into: &writer)
        case .reservationReleased(let id):
            writer.write(Tag.reservationReleased.rawValue)
            writer.writeVarUInt(id.number)
        case .reservationCommitted(let id):
            writer.write(Tag.reservationCommitted.rawValue)
            writer.writeVarUInt(id.number)
        case .reservationExpired(let id, let at):
            writer.write(Tag.reservationExpired.rawValue)
            writer.writeVarUInt(id.number)
            writer.writeVarInt(at)
        case .idempotencyKeyRecorded(let record):
            writer.write(Tag.idempotencyKeyRecorded.rawValue)
            record.encode(into: &writer)
        case .transferShipped(let transfer):
            writer.write(Tag.transferShipped.rawValue)
            transfer.encode(into: &writer)
        case .transferReceived(let id):
            writer.write(Tag.transferReceived.rawValue)
            writer.writeVarUInt(id.number)
        case .routingRulesSet(let rules):
            writer.write(Tag.routingRulesSet.rawValue)
            rules.encode(into: &writer)
        case .carrierServiceSet(let service):
            writer.write(Tag.carrierServiceSet.rawValue)
            service.encode(into: &writer)
        case .orderPlaced(let order):
            writer.write(Tag.orderPlaced.rawValue)
            order.encode(into: &writer)
        case .orderCancelled(let id, let at):
            writer.write(Tag.orderCancelled.rawValue)
            writer.write(id)
            writer.writeVarInt(at)
        case .reservationConverted(let id):
            writer.write(Tag.reservationConverted.rawValue)
            writer.writeVarUInt(id.number)
        case .orderEdited(let order):
            writer.write(Tag.orderEdited.rawValue)
            order.encode(into: &writer)
        case .orderHeld(let id, let hold, let at):
            writer.write(Tag.orderHeld.rawValue)
            writer.write(id)
            writer.write(hold.kind.rawValue)
            writer.write(hold.reason)
            writer.writeVarInt(at)
        case .orderUnheld(let id, let at):
            writer.write(Tag.orderUnheld.rawValue)
            writer.write(id)
            writer.writeVarInt(at)
        case .shipmentAdvanced(let progress):
            writer.write(Tag.shipmentAdvanced.rawValue)
            writer.write(progress.shipment)
            writer.write(progress.status.rawValue)
            writer.writeVarInt(progress.at)
            writer.writeOptional(progress.carrier)
            writer.writeOptional(progress.service)
            writer.writeVarInt(progress.costCents)
            writer.write(progress.tracking)
            writer.write(progress.label)
            writer.writeVarInt(progress.capturedCents)
        case .returnOpened(let id, let returned):
            writer.write(Tag.returnOpened.rawValue)
            writer.write(id)
            returned.encode(into: &writer)
        case .returnReceived(let id, let condition, let refundCents, let at):
            writer.write(Tag.returnReceived.rawValue)
            writer.write(id)
            writer.write(condition.rawValue)
            writer.writeVarInt(refundCents)
            writer.writeVarInt(at)
        case .fraudRulesSet(let rules):
            writer.write(Tag.fraudRulesSet.rawValue)
            rules.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Event {
        let byte = try reader.readByte()
        guard let tag = Tag(rawValue: byte) else {
            throw DecodingError("unknown event tag \(byte) at offset \(reader.offset - 1)")
        }
        switch tag {
        case .nodeUpserted:
            return .nodeUpserted(try Node.decode(from: &reader))
        case .skuUpserted:
            return .skuUpserted(try SKU.decode(from: &reader))
        case .stockSet:
            return .stockSet(
                node: try reader.readString(), sku: try reader.readString(),
                onHand: try reader.readVarInt(), safety: try reader.readVarInt())
        case .stockAdjusted:
            return .stockAdjusted(
                node: try reader.readString(), sku: try reader.readString(),
                delta: try reader.readVarInt(), reason: try reader.readString())
        case .reservationCreated:
            return .reservationCreated(try Reservation.decode(from: &reader))
        case .reservationReleased:
            return .reservationReleased(ReservationID(try reader.readVarUInt()))
        case .reservationCommitted:
            return .reservationCommitted(ReservationID(try reader.readVarUInt()))
        case .reservationExpired:
            return .reservationExpired(ReservationID(try reader.readVarUInt()), at: try reader.readVarInt())
        case .idempotencyKeyRecorded:
            return .idempotencyKeyRecorded(try IdempotencyRecord.decode(from: &reader))
        case .transferShipped:
            return .transferShipped(try Transfer.decode(from: &reader))
        case .transferReceived:
            return .transferReceived(TransferID(try reader.readVarUInt()))
        case .routingRulesSet:
            return .routingRulesSet(try RoutingRules.decode(from: &reader))
        case .carrierServiceSet:
            return .carrierServiceSet(try CarrierService.decode(from: &reader))
        case .orderPlaced:
            return .orderPlaced(try Order.decode(from: &reader))
        case .orderCancelled:
            return .orderCancelled(try reader.readString(), at: try reader.readVarInt())
        case .reservationConverted:
            return .reservationConverted(ReservationID(try reader.readVarUInt()))
        case .orderEdited:
            return .orderEdited(try Order.decode(from: &reader))
        case .orderHeld:
            let id = try reader.readString()
            let hold = Order.Hold(kind: try reader.readEnum(Order.Hold.Kind.self, "hold kind"), reason: try reader.readString())
            return .orderHeld(id, hold, at: try reader.readVarInt())
        case .orderUnheld:
            return .orderUnheld(try reader.readString(), at: try reader.readVarInt())
        case .shipmentAdvanced:
            var progress = ShipmentProgress(
                shipment: try reader.readChildID(kind: "S"), status: try reader.readEnum(Shipment.Status.self, "shipment status"),
                at: try reader.readVarInt())
            progress.carrier = try reader.readOptionalString()
            progress.service = try reader.readOptionalString()
            progress.costCents = try reader.readVarInt()
            progress.tracking = try reader.readString()
            progress.label = try reader.readString()
            progress.capturedCents = try reader.readVarInt()
            return .shipmentAdvanced(progress)
        case .returnOpened:
            return .returnOpened(try reader.readChildID(kind: "R"), try OrderReturn.decode(from: &reader))
        case .returnReceived:
            return .returnReceived(
                try reader.readChildID(kind: "R"), try reader.readEnum(OrderReturn.Condition.self, "return condition"),
                refundCents: try reader.readVarInt(), at: try reader.readVarInt())
        case .fraudRulesSet:
            return .fraudRulesSet(try FraudRules.decode(from: &reader))
        }
    }

    public var encoded: [UInt8] {
        var writer = BinaryWriter()
        encode(into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = BinaryReader(bytes)
        self = try Event.decode(from: &reader)
        guard reader.isAtEnd else { throw DecodingError("\(reader.remaining) trailing bytes after event") }
    }
}

extension Node {
    func encode(into writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(kind.rawValue)
        writer.writeVarInt(Int64(location.latitudeMicrodegrees))
        writer.writeVarInt(Int64(location.longitudeMicrodegrees))
        writer.write(UInt8((ships ? 1 : 0) | (offersPickup ? 2 : 0) | (acceptsReturns ? 4 : 0)))
        writer.writeVarInt(capacityPerDay)
        writer.writeVarInt(handlingCostCents)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Node {
        let id = try reader.readString()
        let kindByte = try reader.readByte()
        guard let kind = Kind(rawValue: kindByte) else { throw DecodingError("unknown node kind \(kindByte)") }
        let latitude = try reader.readVarInt()
        let longitude = try reader.readVarInt()
        guard let latitude32 = Int32(exactly: latitude), let longitude32 = Int32(exactly: longitude) else {
            throw DecodingError("node coordinate out of range")
        }
        let flags = try reader.readByte()
        return Node(
            id: id, kind: kind,
            location: Coordinate(latitudeMicrodegrees: latitude32, longitudeMicrodegrees: longitude32),
            ships: flags & 1 != 0, offersPickup: flags & 2 != 0, acceptsReturns: flags & 4 != 0,
            capacityPerDay: try reader.readVarInt(), handlingCostCents: try reader.readVarInt())
    }
}

/// SKUs and reservations end their record with optional fields added later: a record
/// written before them simply ends sooner (and one without them is written exactly as
/// before, so its bytes and the digest do not change). Only the last thing in a record
/// (an event, a snapshot record) can grow this way.
extension SKU {
    func encode(into writer: inout BinaryWriter) {
        writer.write(id)
        writer.writeVarInt(priceCents)
        writer.writeVarInt(weightGrams)
        writer.write(name)
        guard let terms else { return }
        // Which terms follow: bit 0 limit, bit 1 start, bit 2 end.
        let present = (terms.limitPerCustomer == nil ? 0 : 1) | (terms.saleStart == nil ? 0 : 2) | (terms.saleEnd == nil ? 0 : 4)
        writer.write(UInt8(present))
        for value in [terms.limitPerCustomer, terms.saleStart, terms.saleEnd] { if let value { writer.writeVarInt(value) } }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> SKU {
        var sku = SKU(
            id: try reader.readString(), priceCents: try reader.readVarInt(),
            weightGrams: try reader.readVarInt(), name: try reader.readString())
        guard !reader.isAtEnd else { return sku }
        let present = try reader.readByte()
        guard present & ~7 == 0, present != 0 else { throw DecodingError("unknown sale terms \(present)") }
        var terms = SaleTerms()
        if present & 1 != 0 { terms.limitPerCustomer = try reader.readVarInt() }
        if present & 2 != 0 { terms.saleStart = try reader.readVarInt() }
        if present & 4 != 0 { terms.saleEnd = try reader.readVarInt() }
        sku.terms = terms
        return sku
    }
}

extension Reservation {
    func encode(into writer: inout BinaryWriter) {
        writer.writeVarUInt(id.number)
        writer.write(sku)
        writer.writeVarInt(quantity)
        writer.write(node ?? "")
        writer.write(status.rawValue)
        writer.writeVarInt(createdAt)
        writer.writeVarInt(expiresAt)
        writer.write(owner)
        if let customer { writer.write(customer) }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Reservation {
        let id = ReservationID(try reader.readVarUInt())
        let sku = try reader.readString()
        let quantity = try reader.readVarInt()
        let node = try reader.readString()
        let statusByte = try reader.readByte()
        guard let status = Status(rawValue: statusByte) else { throw DecodingError("unknown reservation status \(statusByte)") }
        var reservation = Reservation(
            id: id, sku: sku, quantity: quantity, node: node.isEmpty ? nil : node, status: status,
            createdAt: try reader.readVarInt(), expiresAt: try reader.readVarInt(), owner: try reader.readString())
        if !reader.isAtEnd { reservation.customer = try reader.readString() }
        return reservation
    }
}
