/// How replies are logged (an idempotency key remembers its first reply).
extension Reply {
    private static let arrayItemsMax: UInt64 = 1_024

    func encode(into writer: inout BinaryWriter) {
        switch self {
        case .status(let text):
            writer.write(UInt8(0))
            writer.write(text)
        case .integer(let value):
            writer.write(UInt8(1))
            writer.writeVarInt(value)
        case .bulk(let text):
            writer.write(UInt8(2))
            writer.write(text)
        case .null:
            writer.write(UInt8(3))
        case .array(let items):
            writer.write(UInt8(4))
            writer.writeVarUInt(UInt64(items.count))
            for item in items { item.encode(into: &writer) }
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Reply {
        switch try reader.readByte() {
        case 0: return .status(try reader.readString())
        case 1: return .integer(try reader.readVarInt())
        case 2: return .bulk(try reader.readString())
        case 3: return .null
        case 4:
            let count = try reader.readVarUInt()
            guard count <= arrayItemsMax else { throw DecodingError("reply array of \(count) items") }
            var items: [Reply] = []
            for _ in 0..<count { items.append(try Reply.decode(from: &reader)) }
            return .array(items)
        case let tag: throw DecodingError("unknown reply tag \(tag)")
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
