import OrderlineCore
import OrderlineTestSupport
import Testing

private func rejection(_ line: String) -> Rejection? {
    do {
        _ = try CommandTable.parse(try InlineTokenizer.tokenize(line))
        return nil
    } catch {
        return error
    }
}

@Test(arguments: [
    ("FROB 1", "ERR unknown command 'FROB', with args beginning with: '1' "),
    ("RESERVE SKU-1", "ERR wrong number of arguments for 'reserve' command"),
    ("RESERVE SKU-1 0", "INVALID qty '0' must be an integer in 1...1000000000"),
    ("RESERVE SKU-1 1000000001", "INVALID qty '1000000001' must be an integer in 1...1000000000"),
    ("RESERVE SKU-1 x", "INVALID qty 'x' must be an integer in 1...1000000000"),
    ("RESERVE SKU-1 1 ttl=0", "INVALID ttl '0' must be an integer in 1...86400"),
    ("RESERVE SKU-1 1 ttl=86401", "INVALID ttl '86401' must be an integer in 1...86400"),
    ("RESERVE SKU-1 1 color=red", "INVALID unknown option 'color' for RESERVE"),
    // A 60 KB key is not echoed back whole.
    ("RESERVE SKU-1 1 " + String(repeating: "k", count: 60_000) + "=1", "INVALID unknown option '" + String(repeating: "k", count: 40) + "' for RESERVE"),
    ("RESERVE SKU-1 1 ttl=5 ttl=6", "INVALID option 'ttl' given twice"),
    ("RESERVE SKU/1 1", "INVALID sku 'SKU/1' must be 1-64 characters of A-Z a-z 0-9 - _ . :"),
    ("RESERVE SKU-1 1 ttl=5 stray", "INVALID expected key=value after the positional arguments, got 'stray'"),
    ("NODE.ADD N1 kind=depot lat=1 lon=2", "INVALID kind 'depot' must be warehouse, store or dropship"),
    ("NODE.ADD N1 kind=store lat=91 lon=2", "INVALID lat '91' must be decimal degrees within ±90, at most 6 decimals"),
    ("NODE.ADD N1 kind=store lat=1.1234567 lon=2", "INVALID lat '1.1234567' must be decimal degrees within ±90, at most 6 decimals"),
    ("NODE.ADD N1 kind=store lat=1", "INVALID NODE.ADD needs lon="),
    ("STOCK.ADJUST N1 S1 0", "INVALID delta must not be 0"),
    ("RELEASE 42", "INVALID reservation id '42' must look like R123"),
    ("SKU.ADD S1 price=-1", "INVALID price '-1' must be an integer in 0...1000000000000"),
])
func malformedArgumentsAreNamed(line: String, expected: String) {
    #expect(rejection(line)?.description == expected)
}

@Test func commandNamesAreCaseInsensitiveAndOptionsUnordered() throws {
    let command = try CommandTable.parse(["reserve", "SKU-1", "3", "ttl=60", "node=ST-1"])
    #expect(command == .reserve(sku: "SKU-1", quantity: 3, node: "ST-1", ttlSeconds: 60, idempotencyKey: nil))
}

@Test func coordinatesParseExactly() {
    #expect(Coordinate.parseMicrodegrees("-33.8688", limit: 90) == -33_868_800)
    #expect(Coordinate.parseMicrodegrees("180", limit: 180) == 180_000_000)
    #expect(Coordinate.parseMicrodegrees("180.000001", limit: 180) == nil)
    #expect(Coordinate.parseMicrodegrees("1e5", limit: 180) == nil)
    #expect(Coordinate.parseMicrodegrees("", limit: 180) == nil)
    #expect(Coordinate.format(-33_868_800) == "-33.8688")
    #expect(Coordinate.format(-500_000) == "-0.5")
}

@Test func inlineTokenizerFollowsRedisQuoting() throws {
    #expect(try InlineTokenizer.tokenize("  SKU.ADD  S1 price=5 \"name=Blue \\\"Mug\\\"\\x21\"  ") == ["SKU.ADD", "S1", "price=5", "name=Blue \"Mug\"!"])
    #expect(throws: Rejection.self) { try InlineTokenizer.tokenize("PING \"open") }
    #expect(throws: Rejection.self) { try InlineTokenizer.tokenize("PING \"a\"b") }
}

@Test func identifiersAreCheckedByteByByte() throws {
    let longest = String(repeating: "a", count: Arguments.identifierBytesMax)
    #expect(try Arguments.identifier(longest, "sku") == longest)
    #expect(try Arguments.identifier("SKU-000000000123:x_y.z", "sku") == "SKU-000000000123:x_y.z")  // not a small string
    #expect(try Arguments.identifier("A", "sku") == "A")
    for bad in ["", longest + "a", "café", "a b", "a=b", "a\u{0}b", "ａ"] {
        #expect(throws: Rejection.self, "\(bad.debugDescription)") { try Arguments.identifier(bad, "sku") }
    }
}

@Test func positionalArgumentsCountFromZeroAfterTheName() throws {
    let tokens = ["STOCK.TRANSFER", "WH-1", "ST-1", "SKU-1", "5", "idem=k1"]
    let arguments = try Arguments(
        command: "STOCK.TRANSFER", tokens: tokens.dropFirst(), positionalCount: 4...4, allowedOptions: ["idem"])
    #expect(Array(arguments.positional) == ["WH-1", "ST-1", "SKU-1", "5"])
    #expect(arguments.positional[0] == "WH-1" && arguments.positional[3] == "5")
    #expect(arguments.option("idem") == "k1")
    #expect(arguments.optionalPositional(at: 4) == nil)
}

/// The byte splits request arguments use give what `split(separator:omittingEmptySubsequences:
/// false)` and `lastIndex(of:)` gave: empty pieces kept, separators at either end, none
/// at all, multi-byte UTF-8 around them (seeded random strings of a small alphabet).
@Test(arguments: 0..<8)
func byteSplitsAgreeWithCharacterSplits(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    let alphabet: [Character] = [",", ":", "=", "a", "B", "7", "-", "é", "😀"]
    for _ in 0..<500 {
        let text = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        #expect(text.pieces(separatedBy: UInt8(ascii: ",")) == text.split(separator: ",", omittingEmptySubsequences: false).map(String.init), "\(text)")
        let colon = text.lastIndex(of: ":")
        let halves = text.halves(at: UInt8(ascii: ":"), last: true)
        #expect(halves?.before == colon.map { String(text[..<$0]) } && halves?.after == colon.map { String(text[text.index(after: $0)...]) }, "\(text)")
        let equals = text.firstIndex(of: "=")
        #expect(text.halves(at: UInt8(ascii: "="))?.before == equals.map { String(text[..<$0]) }, "\(text)")
    }
}

/// Coordinates are written into order fingerprints on disk: the byte formatter gives
/// exactly what the String one it replaced gave (kept here as the reference).
@Test func coordinateFormatIsUnchanged() {
    func reference(_ microdegrees: Int32) -> String {
        let magnitude = Int64(microdegrees).magnitude
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        let sign = microdegrees < 0 ? "-" : ""
        return fraction.isEmpty ? "\(sign)\(magnitude / 1_000_000)" : "\(sign)\(magnitude / 1_000_000).\(fraction)"
    }
    var generator = SeededGenerator(seed: 7)
    let edges: [Int32] = [0, 1, -1, 10, 100_000, 999_999, -999_999, 1_000_000, -1_000_000, 1_000_001, 90_000_000, -180_000_000, .max, .min]
    for value in edges + (0..<20_000).map({ _ in Int32.random(in: -180_000_000...180_000_000, using: &generator) }) {
        #expect(Coordinate.format(value) == reference(value), "\(value)")
    }
}

/// Shipment and return ids are read from bytes in place: the reader gives what the
/// array-copying one it replaced gave (kept here as the reference), on the edges and on
/// seeded ids built from the characters that matter.
@Test func childIDsAreReadAsBefore() {
    func reference(_ text: String, kind: Character) -> ChildID? {
        let bytes = Array(text.utf8)
        let marker = UInt8(ascii: kind.unicodeScalars.first!)
        guard let dash = bytes.indices.dropLast().last(where: { bytes[$0] == UInt8(ascii: "-") && bytes[$0 + 1] == marker }),
              dash > 0, dash + 2 < bytes.count, bytes[(dash + 2)...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let number = Int(String(decoding: bytes[(dash + 2)...], as: UTF8.self)), number >= 1, number <= 10_000
        else { return nil }
        return ChildID(order: String(decoding: bytes[..<dash], as: UTF8.self), number: number, kind: kind)
    }
    let edges = [
        "O-1-S1", "O-1-S0", "O-1-S10000", "O-1-S10001", "O-1-S000001", "O-1-S99999999999999999999999", "-S1", "O-S", "O-1-S",
        "O-1-S1x", "O-S1-S2", "O-1-R1", "é-S1", "O-1-S١", "O-1-S-1", "",
    ]
    var generator = SeededGenerator(seed: 11)
    let alphabet: [Character] = ["-", "S", "R", "0", "1", "9", "O", "é"]
    let random = (0..<5_000).map { _ in String((0..<Int.random(in: 0...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
    for text in edges + random {
        #expect(ChildID(text, kind: "S") == reference(text, kind: "S"), "\(text)")
        #expect(ChildID(text, kind: "R") == reference(text, kind: "R"), "\(text)")
    }
}
