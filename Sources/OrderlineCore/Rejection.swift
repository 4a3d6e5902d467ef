/// A business rejection: a stable code (the first word of the error reply) and a
/// message. Codes are those of PROTOCOL.md and never change meaning.
public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case err = "ERR"
        case invalid = "INVALID"
        case notFound = "NOTFOUND"
        case soldOut = "SOLDOUT"
        case conflict = "CONFLICT"
        case noAuth = "NOAUTH"
        case wrongPass = "WRONGPASS"
        case noPermission = "NOPERM"
        case loading = "LOADING"
        case ioError = "IOERR"
        case limit = "LIMIT"
        /// A write sent to a replica (Redis's word and text).
        case readOnly = "READONLY"
        /// Synchronous replication could not cover a write (Redis's word and text).
        case noReplicas = "NOREPLICAS"
    }

    /// What a replica answers every write, as Redis does.
    public static let readOnlyReplica = Rejection(.readOnly, "You can't write against a read only replica.")
    /// What a primary with too few synchronous replicas answers, as Redis does.
    public static let notEnoughReplicas = Rejection(.noReplicas, "Not enough good replicas to write.")

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The error line as the wire shows it, without the leading `-`.
    public var description: String { "\(code.rawValue) \(message)" }

    public static func invalid(_ message: String) -> Rejection { Rejection(.invalid, message) }
    public static func notFound(_ message: String) -> Rejection { Rejection(.notFound, message) }
    public static func conflict(_ message: String) -> Rejection { Rejection(.conflict, message) }
}
