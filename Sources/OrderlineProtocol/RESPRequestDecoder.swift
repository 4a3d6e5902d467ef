import NIOCore
import OrderlineCore

/// Decodes requests: RESP2 arrays of bulk strings (first byte `*`) and inline
/// command lines (anything else), freely mixed on one connection. A pure byte parser:
/// it never touches the channel. Empty lines and empty arrays produce nothing.
public struct RESPRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = [String]

    public let limits: ProtocolLimits

    /// An array whose elements are still arriving. Elements are taken out of the
    /// buffer as they complete, so a large request is parsed once, not once per read.
    private struct PartialArray {
        var remaining: Int
        var tokens: [String]
        var bytes: Int
    }

    private var partial: PartialArray?

    public init(limits: ProtocolLimits = ProtocolLimits()) { self.limits = limits }

    public mutating func decode(buffer: inout ByteBuffer) throws -> [String]? {
        while true {
            if partial != nil {
                return try continueArray(&buffer)
            }
            guard let first = buffer.readableBytesView.first else { return nil }
            if first == UInt8(ascii: "*") {
                let headerStart = buffer.readerIndex
                guard let count = try readHeader(&buffer, what: "multibulk length") else { return nil }
                guard count <= limits.arrayElementsMax else { throw ProtocolError("invalid multibulk length") }
                // `*0` and `*-1` carry no command.
                if count > 0 {
                    partial = PartialArray(remaining: count, tokens: [], bytes: buffer.readerIndex - headerStart)
                    partial!.tokens.reserveCapacity(count)
                }
                continue
            }
            guard let tokens = try decodeInline(&buffer) else { return nil }
            if !tokens.isEmpty { return tokens }
        }
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

    /// Takes the elements that are complete; the tokens once all are there.
    private mutating func continueArray(_ buffer: inout ByteBuffer) throws -> [String]? {
        while partial!.remaining > 0 {
            guard let marker = buffer.readableBytesView.first else { return nil }
            guard marker == UInt8(ascii: "$") else {
                throw ProtocolError("expected '$', got '\(Character(Unicode.Scalar(marker)))'")
            }
            var cursor = buffer
            guard let length = try readHeader(&cursor, what: "bulk length") else { return nil }
            guard length >= 0, length <= limits.bulkBytesMax else { throw ProtocolError("invalid bulk length") }
            let elementBytes = cursor.readerIndex - buffer.readerIndex + length + 2
            guard partial!.bytes + elementBytes <= limits.requestBytesMax else { throw ProtocolError("too big request") }
            guard cursor.readableBytes >= length + 2 else { return nil }
            let token = cursor.readString(length: length) ?? ""
            guard cursor.readInteger(as: UInt16.self) == 0x0D0A else { throw ProtocolError("bulk string not followed by CRLF") }
            buffer = cursor
            partial!.tokens.append(token)
            partial!.remaining -= 1
            partial!.bytes += elementBytes
        }
        defer { partial = nil }
        return partial!.tokens
    }

    /// Reads `<marker><integer>\r\n`; nil (nothing consumed) when the line is not
    /// complete yet.
    private func readHeader(_ cursor: inout ByteBuffer, what: String) throws -> Int? {
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
