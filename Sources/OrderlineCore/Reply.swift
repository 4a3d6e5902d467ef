/// A successful answer, in the shapes RESP2 can carry. Structured results are JSON
/// text in a bulk string.
public enum Reply: Hashable, Sendable, CustomStringConvertible {
    case status(String)
    case integer(Int64)
    case bulk(String)
    case null
    case array([Reply])

    public static let ok = Reply.status("OK")

    /// The reply as a test script writes it: `+OK`, `:5`, `$R1`, `$-1`, `*[...]`.
    public var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let text): "$\(text)"
        case .null: "$-1"
        case .array(let items): "*[\(items.map(\.description).joined(separator: ", "))]"
        }
    }
}
