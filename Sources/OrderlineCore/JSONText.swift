/// Builds JSON text with keys in the order written, as PROTOCOL.md lists them.
/// Small on purpose: replies are flat objects of strings, integers and arrays.
public struct JSONObject: Sendable {
    private var text = "{"
    private var isEmpty = true

    public init() {}

    public mutating func add(_ key: String, _ value: String) { addRaw(key, JSONObject.quote(value)) }
    public mutating func add(_ key: String, _ value: Int64) { addRaw(key, String(value)) }
    public mutating func add(_ key: String, _ value: UInt64) { addRaw(key, String(value)) }
    public mutating func add(_ key: String, _ value: Bool) { addRaw(key, value ? "true" : "false") }
    public mutating func add(_ key: String, _ value: JSONObject) { addRaw(key, value.text + "}") }
    public mutating func add(_ key: String, _ values: [JSONObject]) {
        addRaw(key, "[" + values.map { $0.text + "}" }.joined(separator: ",") + "]")
    }
    public mutating func addNull(_ key: String) { addRaw(key, "null") }
    public mutating func add(_ key: String, _ value: String?) {
        if let value { add(key, value) } else { addNull(key) }
    }

    public mutating func addRaw(_ key: String, _ json: String) {
        if !isEmpty { text += "," }
        isEmpty = false
        text += JSONObject.quote(key)
        text += ":"
        text += json
    }

    public var json: String { text + "}" }

    public static func array(_ objects: [JSONObject]) -> String {
        "[" + objects.map(\.json).joined(separator: ",") + "]"
    }

    public static func quote(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
