/// How replies are logged (an idempotency key remembers its first reply).
extension Reply {
    private static let arrayItemsMax: UInt64 = 1_024

    /// A remembered reply's tag byte, frozen (see `Event.Tag`).
    enum Tag: UInt8, CaseIterable {
        case status = 0
        case integer = 1
        case bulk = 2
        case null = 3
        case array = 4
    }

    func encode(into writer: inout BinaryWriter) {
        switch self {
        case .status(let text):
            writer.write(Tag.status.rawValue)
            writer.write(text)
        case .integer(let value):
            writer.write(Tag.integer.rawValue)
            writer.writeVarInt(value)
        case .bulk(let text):
            writer.write(Tag.bulk.rawValue)
            writer.write(text)
        case .null:
            writer.write(Tag.null.rawValue)
        case .array(let items):
            writer.write(Tag.array.rawValue)
            writer.writeVarUInt(UInt64(items.count))
            for item in items { item.encode(into: &writer) }
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Reply {
        switch Tag(rawValue: try reader.readByte()) {
        case .status: return .status(try reader.readString())
        case .integer: return .integer(try reader.readVarInt())
        case .bulk: return .bulk(try reader.readString())
        case .null: return .null
        case .array:
            let count = try reader.readVarUInt()
            guard count <= arrayItemsMax else { throw DecodingError("reply array of \(count) items") }
            var items: [Reply] = []
            for _ in 0..<count { items.append(try Reply.decode(from: &reader)) }
            return .array(items)
        case nil: throw DecodingError("unknown reply tag")
        }
    }
}

extension IdempotencyRecord {
    func encode(into writer: inout BinaryWriter) {
        writer.write(key)
        writer.write(fingerprint)
        reply.encode(into: &writer)
        writer.writeVarInt(recordedAt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> IdempotencyRecord {
        IdempotencyRecord(
            key: try reader.readString(), fingerprint: try reader.readString(), reply: try Reply.decode(from: &reader),
            recordedAt: try reader.readVarInt())
    }
}
