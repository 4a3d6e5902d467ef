/// Stock moving between two nodes: it left `from` (on hand went down) and shows as
/// in transit at `to` until it is received there.
public struct Transfer: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Status: UInt8, Sendable {
        case inTransit = 0, received = 1

        public var name: String { self == .inTransit ? "in_transit" : "received" }
    }

    public var id: TransferID
    public var from: String
    public var to: String
    public var sku: String
    public var quantity: Int64
    public var status: Status
    public var shippedAt: Timestamp

    public init(id: TransferID, from: String, to: String, sku: String, quantity: Int64, status: Status = .inTransit, shippedAt: Timestamp) {
        self.id = id
        self.from = from
        self.to = to
        self.sku = sku
        self.quantity = quantity
        self.status = status
        self.shippedAt = shippedAt
    }
}

extension Transfer {
    func encode(into writer: inout BinaryWriter) {
        writer.writeVarUInt(id.number)
        writer.write(from)
        writer.write(to)
        writer.write(sku)
        writer.writeVarInt(quantity)
        writer.write(status.rawValue)
        writer.writeVarInt(shippedAt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Transfer {
        let id = TransferID(try reader.readVarUInt())
        let from = try reader.readString()
        let to = try reader.readString()
        let sku = try reader.readString()
        let quantity = try reader.readVarInt()
        let statusByte = try reader.readByte()
        guard let status = Status(rawValue: statusByte) else { throw DecodingError("unknown transfer status \(statusByte)") }
        return Transfer(id: id, from: from, to: to, sku: sku, quantity: quantity, status: status, shippedAt: try reader.readVarInt())
    }

    var json: JSONObject {
        var object = JSONObject()
        object.add("id", id.description)
        object.add("from", from)
        object.add("to", to)
        object.add("sku", sku)
        object.add("qty", quantity)
        object.add("status", status.name)
        object.add("shipped_at", shippedAt)
        return object
    }
}
