/// A command's arguments split as PROTOCOL.md has them: positional ones first, then
/// `key=value` options in any order. Every accessor validates and names the argument
/// in its `INVALID` message.
public struct Arguments: Sendable {
    public let commandName: String
    public let positional: Positional
    /// A few pairs, looked up by a scan: a dictionary was allocated and grown three
    /// times for an order's seven options.
    private var options: [(key: String, value: String)]

    /// The positional arguments numbered from 0: a view of the request's tokens, so
    /// that parsing a request allocates nothing for them.
    public struct Positional: RandomAccessCollection, Sendable {
        let tokens: ArraySlice<String>
        public var startIndex: Int { 0 }
        public var endIndex: Int { tokens.count }
        public subscript(position: Int) -> String { tokens[tokens.startIndex + position] }
    }

    public static let quantityMax: Int64 = 1_000_000_000
    public static let moneyMax: Int64 = 1_000_000_000_000
    public static let ttlSecondsMax: Int64 = 86_400
    /// Year 9999, for `from=` / `to=`.
    public static let timestampMax: Int64 = 253_402_300_799
    public static let identifierBytesMax = 64
    public static let textBytesMax = 1_024

    /// Splits `tokens`; `positionalCount` is checked here (Redis's wording), options
    /// against `allowedOptions` (unknown or repeated is `INVALID`).
    public init(
        command: String, tokens: ArraySlice<String>, positionalCount: ClosedRange<Int>, allowedOptions: Set<String>
    ) throws(Rejection) {
        commandName = command
        var options: [(key: String, value: String)] = []
        var index = tokens.startIndex
        while index < tokens.endIndex, !tokens[index].withUTF8Bytes({ $0.contains(UInt8(ascii: "=")) }) {
            index += 1
        }
        let positional = Positional(tokens: tokens[..<index])
        guard positionalCount.contains(positional.count) else {
            throw Rejection(.err, "wrong number of arguments for '\(command.lowercased())' command")
        }
        options.reserveCapacity(min(tokens.endIndex - index, allowedOptions.count))
        for token in tokens[index...] {
            // Bytes, not Characters: with String-index slicing, an ORDER.CREATE's seven
            // options took 3.8 µs to split in a probe (a temporary loop of 100,000 parses in
            // orderline-walbench, release, stop 22).
            guard let (key, value) = token.halves(at: UInt8(ascii: "=")) else {
                throw .invalid("expected key=value after the positional arguments, got '\(token.prefix(80))'")
            }
            guard allowedOptions.contains(key) else { throw .invalid("unknown option '\(key.prefix(40))' for \(command)") }
            guard !options.contains(where: { $0.key == key }) else { throw .invalid("option '\(key.prefix(40))' given twice") }
            options.append((key, value))
        }
        self.positional = positional
        self.options = options
    }

    public func option(_ key: String) -> String? { options.first { $0.key == key }?.value }

    // MARK: Typed values

    public static func identifier(_ value: String, _ name: String) throws(Rejection) -> String {
        let valid = value.withUTF8Bytes { utf8 in
            !utf8.isEmpty && utf8.count <= identifierBytesMax && utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            }
        }
        guard valid else {
            throw .invalid("\(name) '\(value.prefix(80))' must be 1-\(identifierBytesMax) characters of A-Z a-z 0-9 - _ . :")
        }
        return value
    }

    public static func integer(_ value: String, _ name: String, in range: ClosedRange<Int64>) throws(Rejection) -> Int64 {
        guard let number = Int64(value), range.contains(number) else {
            throw .invalid("\(name) '\(value.prefix(80))' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A moment: Unix seconds, or ISO-8601 (`2026-12-24T10:00:00Z`, an offset, or a date).
    public static func timestamp(_ value: String, _ name: String) throws(Rejection) -> Timestamp {
        if let seconds = Int64(value), (0...timestampMax).contains(seconds) { return seconds }
        if let parsed = CalendarDate.parse(value), (0...timestampMax).contains(parsed) { return parsed }
        throw .invalid("\(name) '\(value.prefix(40))' must be Unix seconds or an ISO-8601 time (2026-12-24T10:00:00Z)")
    }

    public static func quantity(_ value: String, _ name: String = "qty") throws(Rejection) -> Int64 {
        try integer(value, name, in: 1...quantityMax)
    }

    public static func flag(_ value: String, _ name: String) throws(Rejection) -> Bool {
        switch value.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw .invalid("\(name) '\(value.prefix(80))' must be yes or no")
        }
    }

    public static func text(_ value: String, _ name: String) throws(Rejection) -> String {
        guard value.utf8.count <= textBytesMax else { throw .invalid("\(name) is longer than \(textBytesMax) bytes") }
        return value
    }

    /// `<km>:<days>,…`: transit days by distance band, km strictly increasing
    /// (1…40,075, the Earth's circumference), days 1…30; at most 16 bands.
    public static func distanceBands(_ value: String) throws(Rejection) -> [CarrierService.DistanceBand] {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...16).contains(parts.count) else { throw .invalid("bands must list 1 to 16 <km>:<days> pairs") }
        var bands: [CarrierService.DistanceBand] = []
        for part in parts {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, let km = Int64(fields[0]), (1...40_075).contains(km), let days = Int(fields[1]), (1...30).contains(days) else {
                throw .invalid("band '\(part.prefix(40))' must be <km 1-40075>:<days 1-30>")
            }
            guard km > (bands.last?.kmMax ?? 0) else { throw .invalid("bands must grow in km") }
            bands.append(CarrierService.DistanceBand(kmMax: km, transitDays: days))
        }
        return bands
    }

    /// `<sku>:<qty>,…`: 1 to 100 lines, each SKU once.
    public static func orderLines(_ value: String) throws(Rejection) -> [(sku: String, quantity: Int64)] {
        let parts = value.pieces(separatedBy: UInt8(ascii: ","))
        guard (1...100).contains(parts.count) else { throw .invalid("lines must list 1 to 100 <sku>:<qty> pairs") }
        var lines: [(sku: String, quantity: Int64)] = []
        lines.reserveCapacity(parts.count)
        for part in parts {
            guard let (skuText, quantityText) = part.halves(at: UInt8(ascii: ":"), last: true) else {
                throw .invalid("line '\(part.prefix(40))' must be <sku>:<qty>")
            }
            let sku = try identifier(skuText, "sku")
            guard !lines.contains(where: { $0.sku == sku }) else { throw .invalid("lines name \(sku) twice") }
            lines.append((sku, try quantity(quantityText)))
        }
        return lines
    }

    /// `<sku>:<qty>,…` as shipment lines.
    public static func skuQuantities(_ value: String) throws(Rejection) -> [Shipment.Line] {
        try orderLines(value).map { Shipment.Line(sku: $0.sku, quantity: $0.quantity) }
    }

    /// `<order>-S<n>` (a shipment) or `<order>-R<n>` (a return).
    public static func childID(_ value: String, kind: Character, _ name: String) throws(Rejection) -> ChildID {
        guard value.utf8.count <= identifierBytesMax + 6, let id = ChildID(value, kind: kind), (try? identifier(id.order, name)) != nil else {
            throw .invalid("\(name) '\(value.prefix(80))' must be <order>-\(kind)<n>")
        }
        return id
    }

    /// `R1,R2,…`: 1 to 100 distinct reservation ids.
    public static func reservationList(_ value: String) throws(Rejection) -> [ReservationID] {
        let parts = value.pieces(separatedBy: UInt8(ascii: ","))
        guard (1...100).contains(parts.count) else { throw .invalid("reservations must list 1 to 100 ids") }
        var ids: [ReservationID] = []
        for part in parts {
            let id: ReservationID = try numberedID(part)
            guard !ids.contains(id) else { throw .invalid("reservations name \(id) twice") }
            ids.append(id)
        }
        return ids
    }

    /// `<lat>,<lon>` in decimal degrees.
    public static func coordinate(_ value: String, _ name: String) throws(Rejection) -> Coordinate {
        let parts = value.pieces(separatedBy: UInt8(ascii: ","))
        guard parts.count == 2 else { throw .invalid("\(name) '\(value.prefix(40))' must be <lat>,<lon>") }
        return Coordinate(
            latitudeMicrodegrees: try degrees(parts[0], name + " latitude", limit: 90),
            longitudeMicrodegrees: try degrees(parts[1], name + " longitude", limit: 180))
    }

    /// `A,B,C` of ids (nodes, customers); empty for none. At most 256.
    public static func nodeList(_ value: String, _ name: String) throws(Rejection) -> [String] {
        guard !value.isEmpty else { return [] }
        let nodes = value.pieces(separatedBy: UInt8(ascii: ","))
        guard nodes.count <= 256 else { throw .invalid("\(name) lists more than 256 ids") }
        var checked: [String] = []
        for node in nodes { checked.append(try identifier(node, name)) }
        guard Set(checked).count == checked.count else { throw .invalid("\(name) names one id twice") }
        return checked
    }

    /// `R123`, `T7`: a numbered id of the expected kind.
    public static func numberedID<Kind>(_ value: String) throws(Rejection) -> NumberedID<Kind> {
        guard let id = NumberedID<Kind>(wire: value) else {
            throw .invalid("\(Kind.noun) id '\(value.prefix(80))' must look like \(Kind.prefix)123")
        }
        return id
    }

    public static func degrees(_ value: String, _ name: String, limit: Int64) throws(Rejection) -> Int32 {
        guard let microdegrees = Coordinate.parseMicrodegrees(value, limit: limit) else {
            throw .invalid("\(name) '\(value.prefix(80))' must be decimal degrees within ±\(limit), at most 6 decimals")
        }
        return microdegrees
    }

    // MARK: Accessors

    public func identifier(at index: Int, _ name: String) throws(Rejection) -> String {
        try Self.identifier(positional[index], name)
    }

    public func optionalPositional(at index: Int) -> String? {
        index < positional.count ? positional[index] : nil
    }

    public func required(_ key: String) throws(Rejection) -> String {
        guard let value = option(key) else { throw .invalid("\(commandName) needs \(key)=") }
        return value
    }
}
