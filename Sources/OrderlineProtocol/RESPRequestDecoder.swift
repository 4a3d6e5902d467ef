import NIOCore
import OrderlineCore

/// Decodes requests: RESP2 arrays of bulk strings (first byte `*`) and inline
/// command lines (anything else), freely mixed on one connection. A pure byte parser:
/// it never touches the channel. Empty lines and empty arrays produce nothing.
public struct RESPRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = [String]

    public let limits: ProtocolLimits

    public init(limits: ProtocolLimits = ProtocolLimits()) { self.limits = limits }

    public mutating func decode(buffer: inout ByteBuffer) throws -> [String]? {
        while let first = buffer.readableBytesView.first {
            let request = first == UInt8(ascii: "*") ? try decodeArray(&buffer) : try decodeInline(&buffer)
            switch request {
            case .none: return nil
            case .some(let tokens) where tokens.isEmpty: continue
            case .some(let tokens): return tokens
            }
        }
        return nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> [String]? {
        try decode(buffer: &buffer)
    }

    /// nil: need more bytes (nothing consumed); []: consumed, no command.
    private func decodeInline(_ buffer: inout ByteBuffer) throws -> [String]? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: 0x0A) else {
            if view.count > limits.inlineLineBytesMax { throw ProtocolError("too big inline request") }
            return nil
        }
        var length = newline - view.startIndex
        if length > limits.inlineLineBytesMax { throw ProtocolError("too big inline request") }
        if length > 0, view[newline - 1] == 0x0D { length -= 1 }
        let line = buffer.getString(at: buffer.readerIndex, length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        do {
            return try InlineTokenizer.tokenize(line)
        } catch {
            throw ProtocolError("unbalanced quotes in request")
        }
    }

    private func decodeArray(_ buffer: inout ByteBuffer) throws -> [String]? {
        var cursor = buffer
        guard let count = try readHeader(&cursor, marker: UInt8(ascii: "*"), what: "multibulk length") else { return nil }
        guard count <= limits.arrayElementsMax else { throw ProtocolError("invalid multibulk length") }
        var tokens: [String] = []
        tokens.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) {
            guard let marker = cursor.readableBytesView.first else { return nil }
            guard marker == UInt8(ascii: "$") else {
                throw ProtocolError("expected '$', got '\(Character(Unicode.Scalar(marker)))'")
            }
            guard let length = try readHeader(&cursor, marker: UInt8(ascii: "$"), what: "bulk length") else { return nil }
            guard length >= 0, length <= limits.bulkBytesMax else { throw ProtocolError("invalid bulk length") }
            guard cursor.readableBytes >= length + 2 else { return nil }
            let token = cursor.readString(length: length) ?? ""
            guard cursor.readInteger(as: UInt16.self) == 0x0D0A else { throw ProtocolError("bulk string not followed by CRLF") }
            tokens.append(token)
        }
        buffer = cursor
        return tokens
    }

    /// Reads `<marker><integer>\r\n`; nil when the line is not complete yet.
    private func readHeader(_ cursor: inout ByteBuffer, marker: UInt8, what: String) throws -> Int? {
        let view = cursor.readableBytesView
        guard let newline = view.firstIndex(of: 0x0A) else {
            if view.count > limits.headerLineBytesMax { throw ProtocolError("invalid \(what)") }
            return nil
        }
        let lineLength = newline - view.startIndex
        guard lineLength >= 2, lineLength <= limits.headerLineBytesMax, view[newline - 1] == 0x0D,
              let text = cursor.getString(at: cursor.readerIndex + 1, length: lineLength - 2),
              let value = Int(text)
        else { throw ProtocolError("invalid \(what)") }
        cursor.moveReaderIndex(forwardBy: lineLength + 1)
        return value
    }
}
