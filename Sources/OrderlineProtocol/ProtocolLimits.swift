/// The framing limits of PROTOCOL.md; a request over one is a protocol error that
/// closes only its connection.
public struct ProtocolLimits: Sendable, Equatable {
    public var inlineLineBytesMax = 64 * 1024
    public var bulkBytesMax = 1024 * 1024
    public var arrayElementsMax = 1024
    /// One request in all (every element together): bounds what one connection can
    /// make the server hold.
    public var requestBytesMax = 64 * 1024 * 1024
    /// `*<n>` and `$<len>` header lines are short; a longer one is garbage.
    public var headerLineBytesMax = 32
    /// Before a connection has authenticated (with `--auth`), as Redis 7 has it: an
    /// `AUTH` or `HELLO … AUTH` needs few and short elements, and nobody unknown
    /// gets to park megabytes in the server.
    public var unauthenticatedArrayElementsMax = 10
    public var unauthenticatedBulkBytesMax = 16 * 1024
    public var unauthenticatedInlineLineBytesMax = 16 * 1024
    /// A whole request before AUTH: so an unauthenticated connection holds at most this.
    public var unauthenticatedRequestBytesMax = 16 * 1024

    /// The limits that hold before authentication: the tighter of each pair.
    public var beforeAuthentication: ProtocolLimits {
        var limits = self
        limits.arrayElementsMax = min(arrayElementsMax, unauthenticatedArrayElementsMax)
        limits.bulkBytesMax = min(bulkBytesMax, unauthenticatedBulkBytesMax)
        limits.inlineLineBytesMax = min(inlineLineBytesMax, unauthenticatedInlineLineBytesMax)
        limits.requestBytesMax = min(requestBytesMax, unauthenticatedRequestBytesMax)
        return limits
    }

    public init() {}

    /// Checks the limits against each other at start-up.
    public func validate() throws(ProtocolError) {
        guard inlineLineBytesMax >= 64, bulkBytesMax >= 64, arrayElementsMax >= 1,
              inlineLineBytesMax <= 512 << 20, bulkBytesMax <= 512 << 20, arrayElementsMax <= 1 << 20,
              requestBytesMax >= bulkBytesMax
        else {
            throw ProtocolError("limits too small: inline \(inlineLineBytesMax), bulk \(bulkBytesMax), array \(arrayElementsMax)")
        }
    }
}

/// A framing error: the reply is `-ERR Protocol error: <message>`, then the
/// connection closes.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Protocol error: \(message)" }
}
