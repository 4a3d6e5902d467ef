import NIOCore
import OrderlineCore

/// A RESP2 value: what the server writes, and what clients (the load generator,
/// tests) read back.
public enum RESPValue: Hashable, Sendable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk(String?)
    case array([RESPValue]?)
    /// RESP3 only (`%`): the reply to `HELLO 3`. On a RESP2 connection it is written
    /// as a flat array of keys and values, as Redis does.
    case map([(String, RESPValue)])
    /// A bulk string of bytes that need not be UTF-8 (`ECHO` of what came).
    case binary([UInt8])

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    public init(_ reply: Reply) {
        switch reply {
        case .status(let text): self = .simple(text)
        case .integer(let value): self = .integer(value)
        case .bulk(let text): self = .bulk(text)
        case .null: self = .bulk(nil)
        case .array(let items): self = .array(items.map(RESPValue.init))
        }
    }

    public init(_ rejection: Rejection) { self = .error(rejection.description) }

    /// The value as a test script writes it (`+OK`, `-SOLDOUT …`, `:3`, `$R1`, `$-1`).
    public var description: String {
        switch self {
        case .simple(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let text): text.map { "$\($0)" } ?? "$-1"
        case .array(let items): items.map { "*[\($0.map(\.description).joined(separator: ", "))]" } ?? "*-1"
        case .map(let pairs): "%[\(pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", "))]"
        case .binary(let bytes): "$" + String(decoding: bytes, as: UTF8.self)
        }
    }

    /// About what the value takes on the wire: for the bounds on replies waiting.
    public var estimatedBytes: Int {
        switch self {
        case .simple(let text), .error(let text): text.utf8.count + 3
        case .integer: 24
        case .bulk(let text): (text?.utf8.count ?? 0) + 16
        case .binary(let bytes): bytes.count + 16
        case .array(let items): (items?.reduce(16) { $0 + $1.estimatedBytes }) ?? 5
        case .map(let pairs): pairs.reduce(16) { $0 + $1.0.utf8.count + 16 + $1.1.estimatedBytes }
        }
    }
}

extension ByteBuffer {
    /// Writes `value` in RESP2, or RESP3 for a connection that said `HELLO 3` (which
    /// differs only in nulls and maps). Simple strings and errors never contain CR or
    /// LF (they are replaced by spaces), so a message cannot break the framing.
    public mutating func writeRESP(_ value: RESPValue, resp3: Bool = false) {
        switch value {
        case .simple(let text):
            writeInteger(UInt8(ascii: "+"))
            writeLine(text)
        case .error(let text):
            writeInteger(UInt8(ascii: "-"))
            writeLine(text)
        case .integer(let number):
            writeInteger(UInt8(ascii: ":"))
            writeString(String(number))
            writeStaticString("\r\n")
        case .bulk(.none):
            if resp3 { writeStaticString("_\r\n") } else { writeStaticString("$-1\r\n") }
        case .bulk(.some(let text)):
            writeInteger(UInt8(ascii: "$"))
            writeString(String(text.utf8.count))
            writeStaticString("\r\n")
            writeString(text)
            writeStaticString("\r\n")
        case .binary(let bytes):
            writeInteger(UInt8(ascii: "$"))
            writeString(String(bytes.count))
            writeStaticString("\r\n")
            writeBytes(bytes)
            writeStaticString("\r\n")
        case .array(.none):
            if resp3 { writeStaticString("_\r\n") } else { writeStaticString("*-1\r\n") }
        case .array(.some(let items)):
            writeInteger(UInt8(ascii: "*"))
            writeString(String(items.count))
            writeStaticString("\r\n")
            for item in items { writeRESP(item, resp3: resp3) }
        case .map(let pairs):
            writeInteger(UInt8(ascii: resp3 ? "%" : "*"))
            writeString(String(resp3 ? pairs.count : pairs.count * 2))
            writeStaticString("\r\n")
            for (key, item) in pairs {
                writeRESP(.bulk(key), resp3: resp3)
                writeRESP(item, resp3: resp3)
            }
        }
    }

    private mutating func writeLine(_ text: String) {
        if text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            writeString(String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 }))
        } else {
            writeString(text)
        }
        writeStaticString("\r\n")
    }

    /// Reads one RESP2 value; nil (nothing consumed) when it is not complete yet.
    /// With `binaryBulk`, bulk strings come as `.binary` bytes (a replica's stream of
    /// events), not as text.
    public mutating func readRESP(binaryBulk: Bool = false) throws(ProtocolError) -> RESPValue? {
        var cursor = self
        guard let value = try cursor.readRESPValue(binaryBulk: binaryBulk) else { return nil }
        self = cursor
        return value
    }

    private mutating func readRESPValue(binaryBulk: Bool) throws(ProtocolError) -> RESPValue? {
        guard let marker = readableBytesView.first else { return nil }
        guard let newline = readableBytesView.firstIndex(of: 0x0A) else { return nil }
        let lineLength = newline - readableBytesView.startIndex
        guard lineLength >= 2, readableBytesView[newline - 1] == 0x0D else { throw ProtocolError("reply line not ended by CRLF") }
        let line = getString(at: readerIndex + 1, length: lineLength - 2) ?? ""
        moveReaderIndex(forwardBy: lineLength + 1)
        switch marker {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int64(line) else { throw ProtocolError("bad integer reply '\(line)'") }
            return .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1 else { throw ProtocolError("bad bulk length '\(line)'") }
            if length == -1 { return .bulk(nil) }
            guard readableBytes >= length + 2 else { return nil }
            if binaryBulk {
                let bytes = readBytes(length: length) ?? []
                moveReaderIndex(forwardBy: 2)
                return .binary(bytes)
            }
            let text = readString(length: length) ?? ""
            moveReaderIndex(forwardBy: 2)
            return .bulk(text)
        case UInt8(ascii: "*"):
            guard let count = Int(line), count >= -1 else { throw ProtocolError("bad array length '\(line)'") }
            if count == -1 { return .array(nil) }
            var items: [RESPValue] = []
            for _ in 0..<count {
                guard let item = try readRESPValue(binaryBulk: binaryBulk) else { return nil }
                items.append(item)
            }
            return .array(items)
        default:
            throw ProtocolError("unknown reply type '\(Character(Unicode.Scalar(marker)))'")
        }
    }

    /// Appends `tokens` as a RESP2 array of bulk strings (a request).
    public mutating func writeRESPRequest(_ tokens: [String]) {
        writeInteger(UInt8(ascii: "*"))
        writeString(String(tokens.count))
        writeStaticString("\r\n")
        for token in tokens {
            writeInteger(UInt8(ascii: "$"))
            writeString(String(token.utf8.count))
            writeStaticString("\r\n")
            writeString(token)
            writeStaticString("\r\n")
        }
    }
}

/// Decodes replies (for clients: the load generator, tests, a replica's link).
public struct RESPReplyDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RESPValue
    private let binaryBulk: Bool

    /// With `binaryBulk`, bulk strings come as `.binary` bytes.
    public init(binaryBulk: Bool = false) { self.binaryBulk = binaryBulk }

    public mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        try buffer.readRESP(binaryBulk: binaryBulk)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decode(buffer: &buffer)
    }
}
