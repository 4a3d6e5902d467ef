import DequeModule

/// The canonical form of the state: every entity as one record, in a fixed order
/// (nodes, SKUs, stock and network holds by SKU then node, reservations by id, then
/// the counters). Snapshots store exactly these records, and the digest hashes them,
/// so the digest does not depend on dictionary order or on how state is sharded.
extension OrderlineState {
    /// Every snapshot record's tag byte, frozen as the event tags are (`Event.Tag`): a new
    /// kind of record takes the next unused number; none is changed or reused.
    enum RecordTag: UInt8, CaseIterable {
        case node = 1
        case sku = 2
        case stockLevel = 3
        case networkReserved = 4
        case reservation = 5
        case counters = 6
        case endedReservations = 7
        case idempotencyRecord = 8
        case transfer = 9
        case routingRules = 10
        case carrierService = 11
        case order = 12
        case fraudRules = 13
        case customer = 14
    }

    /// Calls `body` with the encoding of each record, in canonical order.
    public func forEachCanonicalRecord(_ body: (BinaryWriter) throws -> Void) rethrows {
        var writer = BinaryWriter(capacity: 256)
        func emit(_ tag: RecordTag, _ fill: (inout BinaryWriter) -> Void) throws {
            writer.reset()
            writer.write(tag.rawValue)
            fill(&writer)
            try body(writer)
        }
        for id in nodes.keys.sorted() {
            try emit(.node) { nodes[id]!.encode(into: &$0) }
        }
        for id in skus.keys.sorted() {
            try emit(.sku) { skus[id]!.encode(into: &$0) }
        }
        for sku in inventory.keys.sorted() {
            let item = inventory[sku]!
            for (node, level) in item.levels {  // in node id order
                try emit(.stockLevel) {
                    $0.write(sku)
                    $0.write(node)
                    $0.writeVarInt(level.onHand)
                    $0.writeVarInt(level.safety)
                    $0.writeVarInt(level.reserved)
                    $0.writeVarInt(level.allocated)
                    $0.writeVarInt(level.inTransit)
                }
            }
            if item.networkReserved != 0 {
                try emit(.networkReserved) {
                    $0.write(sku)
                    $0.writeVarInt(item.networkReserved)
                }
            }
        }
        for reservation in reservations.values {  // in id order
            try emit(.reservation) { reservation.encode(into: &$0) }
        }
        if !endedReservations.isEmpty {
            // Ids in end order, as deltas (zigzag: ends are not in id order).
            try emit(.endedReservations) {
                $0.writeVarUInt(UInt64(endedReservations.count))
                var previous: UInt64 = 0
                for id in endedReservations {
                    $0.writeVarInt(Int64(bitPattern: id.number &- previous))
                    previous = id.number
                }
            }
        }
        for id in orders.keys.sorted() {
            try emit(.order) { orders[id]!.encode(into: &$0) }
        }
        for service in rateCard.services {
            try emit(.carrierService) { service.encode(into: &$0) }
        }
        if fraudRules != FraudRules() {
            try emit(.fraudRules) { fraudRules.encode(into: &$0) }
        }
        for customer in customers.keys.sorted() {
            try emit(.customer) {
                $0.write(customer)
                customers[customer]!.encode(into: &$0)
            }
        }
        if routingRules != RoutingRules() {
            try emit(.routingRules) { routingRules.encode(into: &$0) }
        }
        for id in transfers.keys.sorted() {
            try emit(.transfer) { transfers[id]!.encode(into: &$0) }
        }
        // In recording order: the order in which the window drops them.
        for key in idempotencyOrder {
            try emit(.idempotencyRecord) { idempotencyKeys[key]!.encode(into: &$0) }
        }
        try emit(.counters) {
            $0.writeVarUInt(reservationIDMax.number)
            $0.writeVarUInt(lsn)
            $0.writeVarInt(timeLast)
            $0.writeVarInt(oversellCount)
        }
    }

    /// Rebuilds a state from its canonical records (a snapshot's payload).
    /// `deferringOrderState`: see `restoreDerivedState(deferringOrders:)`.
    public static func decodeCanonical(_ bytes: [UInt8], deferringOrderState: Bool = false) throws(DecodingError) -> OrderlineState {
        var state = OrderlineState()
        var reader = BinaryReader(bytes)
        var sawCounters = false
        while !reader.isAtEnd {
            let length = try reader.readVarUInt()
            guard length <= UInt64(reader.remaining) else { throw DecodingError("record of \(length) bytes past the end") }
            let end = reader.offset + Int(length)
            var record = BinaryReader(bytes, offset: reader.offset, end: end)
            let tagByte = try record.readByte()
            guard let tag = RecordTag(rawValue: tagByte) else { throw DecodingError("unknown state record tag \(tagByte)") }
            switch tag {
            case .node: state.load(node: try Node.decode(from: &record))
            case .sku: state.load(sku: try SKU.decode(from: &record))
            case .stockLevel:
                let sku = try record.readString()
                // Stock only ever exists for catalogued SKUs (decide relies on it), and
                // SKU records come first.
                guard state.skus[sku] != nil else { throw DecodingError("stock of \(sku), which is not in the catalog") }
                let node = try record.readString()
                let level = StockLevel(
                    onHand: try record.readVarInt(), safety: try record.readVarInt(), reserved: try record.readVarInt(),
                    allocated: try record.readVarInt(), inTransit: try record.readVarInt())
                state.load(level: level, sku: sku, node: node)
            case .networkReserved:
                let sku = try record.readString()
                guard state.skus[sku] != nil else { throw DecodingError("network holds of \(sku), which is not in the catalog") }
                state.load(networkReserved: try record.readVarInt(), sku: sku)
            case .reservation: state.load(reservation: try Reservation.decode(from: &record))
            case .endedReservations:
                let count = try record.readVarUInt()
                guard count <= UInt64(record.remaining) else { throw DecodingError("ended reservations count \(count) past the end") }
                var ended = Deque<ReservationID>(minimumCapacity: Int(count))
                var previous: UInt64 = 0
                for _ in 0..<count {
                    previous = previous &+ UInt64(bitPattern: try record.readVarInt())
                    ended.append(ReservationID(previous))
                }
                state.load(endedReservations: ended)
            case .order:
                state.load(order: try Order.decode(from: &record))
            case .carrierService:
                state.load(carrierService: try CarrierService.decode(from: &record))
            case .fraudRules:
                state.load(fraudRules: try FraudRules.decode(from: &record))
            case .customer:
                state.load(customer: try record.readString(), history: try CustomerHistory.decode(from: &record))
            case .routingRules:
                state.load(routingRules: try RoutingRules.decode(from: &record))
            case .transfer:
                state.load(transfer: try Transfer.decode(from: &record))
            case .idempotencyRecord:
                state.load(idempotencyRecord: try IdempotencyRecord.decode(from: &record))
            case .counters:
                state.load(
                    reservationIDMax: ReservationID(try record.readVarUInt()), lsn: try record.readVarUInt(),
                    timeLast: try record.readVarInt(), oversellCount: try record.readVarInt())
                sawCounters = true
            }
            guard record.isAtEnd else { throw DecodingError("state record with tag \(tagByte) has \(record.remaining) trailing bytes") }
            _ = try reader.readBytes(Int(length))
        }
        guard sawCounters else { throw DecodingError("state has no counters record") }
        state.restoreDerivedState(deferringOrders: deferringOrderState)
        return state
    }

    /// All canonical records, each prefixed by its length: a snapshot's payload.
    public func canonicalEncoding() -> [UInt8] {
        var whole: [UInt8] = []
        canonicalEncoding(inPiecesOf: 1 << 16) { whole += $0 }
        return whole
    }

    /// The same bytes handed over in pieces of about `pieceBytes`, so that a snapshot
    /// of millions of carts is never held uncompressed in memory all at once.
    public func canonicalEncoding(inPiecesOf pieceBytes: Int, _ take: ([UInt8]) -> Void) {
        var output = BinaryWriter(capacity: pieceBytes + (1 << 12))
        forEachCanonicalRecord { record in
            output.writeVarUInt(UInt64(record.bytes.count))
            output.write(contentsOf: record.bytes)
            if output.bytes.count >= pieceBytes {
                take(output.bytes)
                output = BinaryWriter(capacity: pieceBytes + (1 << 12))
            }
        }
        if !output.bytes.isEmpty { take(output.bytes) }
    }

    /// A hash of the canonical records: each record's XXH64 is seeded with the hash so
    /// far, so order and content both count. Printed as `<lsn> <16 hex digits>`.
    public var digest: StateDigest {
        var hash: UInt64 = 0
        forEachCanonicalRecord { record in
            hash = XXH64.hash(record.bytes, seed: hash)
        }
        return StateDigest(lsn: lsn, hash: hash)
    }
}

public struct StateDigest: Hashable, Sendable, CustomStringConvertible {
    public var lsn: LSN
    public var hash: UInt64

    public var description: String {
        let hex = String(hash, radix: 16)
        return "\(lsn) \(String(repeating: "0", count: 16 - hex.count))\(hex)"
    }
}
