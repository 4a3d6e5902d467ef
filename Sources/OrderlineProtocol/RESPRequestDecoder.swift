import NIOCore
import OrderlineCore

/// Decodes requests: RESP2 arrays of bulk strings (first byte `*`) and inline
/// command lines (anything else), freely mixed on one connection. A pure byte parser:
/// it never touches the channel. Empty lines and empty arrays produce nothing.
public struct RESPRequestDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = [String]

    public let limits: ProtocolLimits
    /// Whether the connection has authenticated: until then the tighter
    /// `ProtocolLimits.beforeAuthentication` hold.
    public var authenticated: Bool {
        didSet { active = authenticated ? limits : limits.beforeAuthentication }
    }
    private var active: ProtocolLimits

    /// An array whose elements are still arriving. Elements are taken out of the
    /// buffer as they complete, so a large request is parsed once, not once per read.
    private struct PartialArray {
        var remaining: Int
        var tokens: [String]
        var bytes: Int
        var binary: [Int: [UInt8]]?
    }

    private var partial: PartialArray?

    /// The tokens of the request `decode` just returned that are not valid UTF-8, by
    /// index, as the bytes that came: the string tokens hold U+FFFD in their place.
    /// nil for almost every request. (`ECHO` answers these bytes; any other command
    /// refuses them instead of acting on a mangled argument.)
    public private(set) var binaryTokens: [Int: [UInt8]]?

    /// Bytes of a request still arriving that the decoder holds (its complete elements).
    public var bufferedBytes: Int { partial?.bytes ?? 0 }

    public init(limits: ProtocolLimits = ProtocolLimits(), authenticated: Bool = true) {
        self.limits = limits
        self.authenticated = authenticated
        self.active = authenticated ? limits : limits.beforeAuthentication
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> [String]? {
        binaryTokens = nil
        while true {
            if partial != nil {
                return try continueArray(&buffer)
            }
            guard let first = buffer.readableBytesView.first else { return nil }
            if first == UInt8(ascii: "*") {
                guard let (count, headerBytes) = try header(of: buffer, what: "multibulk length") else { return nil }
                guard count <= active.arrayElementsMax else {
                    throw ProtocolError(authenticated ? "invalid multibulk length" : "unauthenticated multibulk length")
                }
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
    private mutating func decodeInline(_ buffer: inout ByteBuffer) throws -> [String]? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: 0x0A) else {
            if view.count > active.inlineLineBytesMax { throw ProtocolError("too big inline request") }
            return nil
        }
        var length = newline - view.startIndex
        if length > active.inlineLineBytesMax { throw ProtocolError("too big inline request") }
        if length > 0, view[newline - 1] == 0x0D { length -= 1 }
        let line = view[view.startIndex..<(view.startIndex + length)]
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        let byteTokens: [[UInt8]]
        do {
            byteTokens = try InlineTokenizer.tokenizeBytes(line)
        } catch {
            throw ProtocolError("unbalanced quotes in request")
        }
        var tokens: [String] = []
        tokens.reserveCapacity(byteTokens.count)
        for (index, bytes) in byteTokens.enumerated() {
            tokens.append(bytes.withUnsafeBufferPointer { Self.string($0, index: index, binary: &binaryTokens) })
        }
        return tokens
    }

    /// The token as a string; if its bytes are not valid UTF-8, they are kept in
    /// `binary` and the string holds U+FFFD where they were.
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, index: Int, binary: inout [Int: [UInt8]]?) -> String {
        // ASCII (nearly every token) first: `String(validating:)` is generic and looks
        // up its metadata on every call (1.3 % of the loop under a flash sale).
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var table = binary ?? [:]
        table[index] = Array(bytes)
        binary = table
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Takes the elements that are complete; the tokens once all are there.
    private mutating func continueArray(_ buffer: inout ByteBuffer) throws -> [String]? {
        while partial!.remaining > 0 {
            guard let marker = buffer.readableBytesView.first else { return nil }
            guard marker == UInt8(ascii: "$") else {
                throw ProtocolError("expected '$', got '\(Character(Unicode.Scalar(marker)))'")
            }
            guard let (length, headerBytes) = try header(of: buffer, what: "bulk length") else { return nil }
            guard length >= 0, length <= active.bulkBytesMax else {
                throw ProtocolError(authenticated || length < 0 ? "invalid bulk length" : "unauthenticated bulk length")
            }
            let elementBytes = headerBytes + length + 2
            guard partial!.bytes + elementBytes <= active.requestBytesMax else { throw ProtocolError("too big request") }
            guard buffer.readableBytes >= elementBytes else { return nil }
            let start = buffer.readerIndex + headerBytes
            guard buffer.getInteger(at: start + length, as: UInt16.self) == 0x0D0A else {
                throw ProtocolError("bulk string not followed by CRLF")
            }
            let index = partial!.tokens.count
            let token = buffer.withUnsafeReadableBytes { bytes in
                let element = UnsafeRawBufferPointer(rebasing: bytes[headerBytes..<(headerBytes + length)])
                return Self.string(element.assumingMemoryBound(to: UInt8.self), index: index, binary: &partial!.binary)
            }
            partial!.tokens.append(token)
            partial!.remaining -= 1
            partial!.bytes += elementBytes
            buffer.moveReaderIndex(forwardBy: elementBytes)
        }
        let tokens = partial!.tokens
        binaryTokens = partial!.binary
        partial = nil
        return tokens
    }

    /// Reads the `*<n>\r\n` or `$<n>\r\n` header at the start of `buffer` (as Redis
    /// does: an optional sign, then decimal digits) without consuming it; returns the
    /// number and the header's length, or nil if its line has not fully arrived.
    private func header(of buffer: ByteBuffer, what: String) throws -> (value: Int, bytes: Int)? {
        let parsed: (value: Int, bytes: Int)?? = buffer.withUnsafeReadableBytes { bytes in
            let end = min(bytes.count, active.headerLineBytesMax + 1)
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
            guard index + 1 < end else { return bytes.count > active.headerLineBytesMax ? .some(nil) : nil }
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
