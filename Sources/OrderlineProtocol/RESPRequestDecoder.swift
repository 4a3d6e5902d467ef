import NIOCore
import OrderlineCore

/// Decodes requests: RESP2 arrays of bulk strings (first byte `*`) and inline
/// command lines (anything else), freely mixed on one connection. A pure byte parser:
/// it never touches the channel. Empty lines and empty arrays produce nothing.
public struct RESPRequestDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
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
                guard let (count, headerBytes) = try header(of: buffer, what: "multibulk length") else { return nil }
                guard count <= limits.arrayElementsMax else { throw ProtocolError("invalid multibulk length") }
                buffer.moveReaderIndex(forwardBy: headerBytes)
                // `*0` and `*-1` carry no command.
                if count > 0 {
                    partial = PartialArray(remaining: count, tokens: [], bytes: headerBytes)
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
            guard let (length, headerBytes) = try header(of: buffer, what: "bulk length") else { return nil }
            guard length >= 0, length <= limits.bulkBytesMax else { throw ProtocolError("invalid bulk length") }
            let elementBytes = headerBytes + length + 2
            guard partial!.bytes + elementBytes <= limits.requestBytesMax else { throw ProtocolError("too big request") }
            guard buffer.readableBytes >= elementBytes else { return nil }
            let start = buffer.readerIndex + headerBytes
            guard buffer.getInteger(at: start + length, as: UInt16.self) == 0x0D0A else {
                throw ProtocolError("bulk string not followed by CRLF")
            }
            partial!.tokens.append(buffer.getString(at: start, length: length) ?? "")
            partial!.remaining -= 1
            partial!.bytes += elementBytes
            buffer.moveReaderIndex(forwardBy: elementBytes)
        }
        let tokens = partial!.tokens
        partial = nil
        return tokens
    }

    /// Reads the `*<n>\r\n` or `$<n>\r\n` header at the start of `buffer` (as Redis
    /// does: an optional sign, then decimal digits) without consuming it; returns the
    /// number and the header's length, or nil if its line has not fully arrived.
    private func header(of buffer: ByteBuffer, what: String) throws -> (value: Int, bytes: Int)? {
        let parsed: (value: Int, bytes: Int)?? = buffer.withUnsafeReadableBytes { bytes in
            let end = min(bytes.count, limits.headerLineBytesMax + 1)
            var index = 1
            var negative = false
            if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                negative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let digitsStart = index
            var value = 0
            while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                // Summed with its sign, so that `Int.min` fits as it did through `Int(text)`.
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) =
                    negative ? shifted.subtractingReportingOverflow(Int(digit)) : shifted.addingReportingOverflow(Int(digit))
                guard !overflow1, !overflow2 else { return .some(nil) }
                value = sum
                index += 1
            }
            // Then CR LF. Whatever has arrived must fit that (a bare LF fails at once);
            // a line not complete yet waits for more, unless it is already too long.
            if index < end, bytes[index] != 0x0D { return .some(nil) }
            if index + 1 < end, bytes[index + 1] != 0x0A { return .some(nil) }
            guard index + 1 < end else { return bytes.count > limits.headerLineBytesMax ? .some(nil) : nil }
            guard index > digitsStart else { return .some(nil) }
            return (value, index + 2)
        }
        switch parsed {
        case .none: return nil
        case .some(.none): throw ProtocolError("invalid \(what)")
        case .some(.some(let header)): return header
        }
    }
}
