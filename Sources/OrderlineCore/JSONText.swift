/// Builds JSON text with keys in the order written, as PROTOCOL.md lists them.
/// Small on purpose: replies are flat objects of strings, integers and arrays. It
/// writes UTF-8 bytes directly (order replies are on the hot path: building them
/// through `String` appends cost more than routing the order).
///
/// A nested object or array of objects is written in place (`addObject`, `addObjects`):
/// into the same buffer, not built on its own and copied in (an order's reply has a
/// dozen nested objects, and building them apart was most of its cost).
public struct JSONObject: Sendable {
    private var bytes: [UInt8]
    private var isEmpty = true

    public init() { bytes = [UInt8(ascii: "{")] }

    /// With room for `capacity` bytes, so a large reply grows its buffer once.
    public init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// An object written by `build` at the end of `bytes`, which it takes for that time.
    private static func write(into bytes: inout [UInt8], _ build: (inout JSONObject) throws -> Void) rethrows {
        var nested = JSONObject(empty: ())
        swap(&nested.bytes, &bytes)
        nested.bytes.append(UInt8(ascii: "{"))
        defer {
            nested.bytes.append(UInt8(ascii: "}"))
            swap(&nested.bytes, &bytes)
        }
        try build(&nested)
    }

    private init(empty: Void) { bytes = [] }

    /// A nested object under `key`, written in place by `build`.
    public mutating func addObject(_ key: StaticString, _ build: (inout JSONObject) -> Void) {
        appendKey(key)
        Self.write(into: &bytes, build)
    }

    /// An array of objects under `key`, one per element, each written in place.
    public mutating func addObjects<Elements: Sequence>(
        _ key: StaticString, _ elements: Elements, _ build: (inout JSONObject, Elements.Element) -> Void
    ) {
        appendKey(key)
        Self.appendObjects(elements, to: &bytes, build)
    }

    /// `[…]`, one object per element, each written in place by `build`.
    private static func appendObjects<Elements: Sequence>(
        _ elements: Elements, to bytes: inout [UInt8], _ build: (inout JSONObject, Elements.Element) -> Void
    ) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            write(into: &bytes) { build(&$0, element) }
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The string `first + second + number` (`W-1` `-S` `2`), written without building
    /// it first.
    public mutating func add(_ key: StaticString, concatenating first: String, _ second: String, _ number: Int) {
        appendKey(key)
        bytes.append(UInt8(ascii: "\""))
        Self.appendEscaped(first, to: &bytes)
        Self.appendEscaped(second, to: &bytes)
        bytes.appendDecimal(Int64(number))
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func add(_ key: StaticString, _ value: String) {
        appendKey(key)
        Self.appendQuoted(value, to: &bytes)
    }

    public mutating func add(_ key: StaticString, _ value: Int64) {
        appendKey(key)
        bytes.appendDecimal(value)
    }

    /// A key that is not a literal (a status's raw value): escaped like a value.
    public mutating func add(named key: String, _ value: Int64) {
        appendSeparator()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        bytes.appendDecimal(value)
    }

    public mutating func add(_ key: StaticString, _ value: UInt64) {
        appendKey(key)
        bytes.appendDecimal(value)
    }

    public mutating func add(_ key: StaticString, _ value: Bool) {
        appendKey(key)
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    public mutating func add(_ key: StaticString, _ value: JSONObject) {
        appendKey(key)
        value.appendClosed(to: &bytes)
    }

    public mutating func add(_ key: StaticString, _ values: [JSONObject]) {
        appendKey(key)
        Self.appendArray(values, to: &bytes)
    }

    /// An array of strings, in the order given.
    public mutating func add(_ key: StaticString, _ strings: [String]) {
        appendKey(key)
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendQuoted(string, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func addNull(_ key: StaticString) {
        appendKey(key)
        bytes.append(contentsOf: "null".utf8)
    }

    public mutating func add(_ key: StaticString, _ value: String?) {
        if let value { add(key, value) } else { addNull(key) }
    }

    public mutating func addRaw(_ key: StaticString, _ json: String) {
        appendKey(key)
        bytes.append(contentsOf: json.utf8)
    }

    public var json: String {
        // Written straight into the string's storage: closing a copy of `bytes` first
        // copied the whole reply once more.
        String(unsafeUninitializedCapacity: bytes.count + 1) { buffer in
            let (_, written) = buffer.initialize(from: bytes)
            buffer[written] = UInt8(ascii: "}")
            return written + 1
        }
    }

    /// An array of objects, one per element, each written in place by `build`.
    public static func array<Elements: Sequence>(_ elements: Elements, _ build: (inout JSONObject, Elements.Element) -> Void) -> String {
        var bytes: [UInt8] = []
        appendObjects(elements, to: &bytes, build)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func array(_ objects: [JSONObject]) -> String {
        var bytes: [UInt8] = []
        appendArray(objects, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A comma before every field but the first.
    private mutating func appendSeparator() {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
    }

    /// Keys are literals of this code base: copied as they are, never escaped.
    private mutating func appendKey(_ key: StaticString) {
        appendSeparator()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private func appendClosed(to output: inout [UInt8]) {
        output.append(contentsOf: bytes)
        output.append(UInt8(ascii: "}"))
    }

    private static func appendArray(_ objects: [JSONObject], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            object.appendClosed(to: &output)
        }
        output.append(UInt8(ascii: "]"))
    }


    /// A JSON string literal: quotes, backslashes and control characters escaped;
    /// everything else (UTF-8 included) copied as it is.
    private static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        appendEscaped(string, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ string: String, to output: inout [UInt8]) {
        // Most strings (ids, statuses) need no escape: copied in one go.
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            output.append(contentsOf: utf8)
            return true
        }
        guard copied != true else { return }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
    }
}
