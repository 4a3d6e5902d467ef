/// A place that holds stock: a warehouse, a store or a drop-shipper.
public struct Node: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Kind: UInt8, Sendable, CaseIterable {
        case warehouse = 0, store = 1, dropship = 2

        public var name: String {
            switch self {
            case .warehouse: "warehouse"
            case .store: "store"
            case .dropship: "dropship"
            }
        }

        public init?(name: some StringProtocol) {
            guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = kind
        }
    }

    public var id: String
    public var kind: Kind
    public var location: Coordinate
    public var ships: Bool
    public var offersPickup: Bool
    public var acceptsReturns: Bool
    /// Orders per day the node can fulfil; 0 means no limit.
    public var capacityPerDay: Int64
    public var handlingCostCents: Int64

    public init(
        id: String, kind: Kind, location: Coordinate, ships: Bool = true, offersPickup: Bool = false,
        acceptsReturns: Bool = true, capacityPerDay: Int64 = 0, handlingCostCents: Int64 = 0
    ) {
        self.id = id
        self.kind = kind
        self.location = location
        self.ships = ships
        self.offersPickup = offersPickup
        self.acceptsReturns = acceptsReturns
        self.capacityPerDay = capacityPerDay
        self.handlingCostCents = handlingCostCents
    }
}

/// A point on Earth in whole microdegrees, so that state and its digest never depend
/// on floating-point formatting.
public struct Coordinate: Hashable, Sendable, CustomStringConvertible {
    public var latitudeMicrodegrees: Int32
    public var longitudeMicrodegrees: Int32

    public init(latitudeMicrodegrees: Int32, longitudeMicrodegrees: Int32) {
        self.latitudeMicrodegrees = latitudeMicrodegrees
        self.longitudeMicrodegrees = longitudeMicrodegrees
    }

    public var description: String {
        "\(Self.format(latitudeMicrodegrees)),\(Self.format(longitudeMicrodegrees))"
    }

    /// Decimal degrees with six places, trailing zeros dropped: `48.8566`, `-0.1`.
    /// Written into every order's fingerprint on disk, so its text never changes; made
    /// from bytes, not Characters (110 ns a call against 170 ns: one alternating run of a
    /// temporary probe loop in orderline-walbench, release, stop 22).
    public static func format(_ microdegrees: Int32) -> String {
        let magnitude = Int64(microdegrees).magnitude
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12)
        if microdegrees < 0 { bytes.append(UInt8(ascii: "-")) }
        bytes.appendDecimal(magnitude / 1_000_000)
        var fraction = magnitude % 1_000_000
        if fraction > 0 {
            var digits = 6
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            bytes.append(UInt8(ascii: "."))
            bytes.appendDecimal(fraction, minimumDigits: digits)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses decimal degrees (`-33.8688`) exactly, without going through `Double`.
    /// Returns nil for malformed text, more than six decimals or a value beyond `limit`.
    public static func parseMicrodegrees(_ text: some StringProtocol, limit: Int64) -> Int32? {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") || utf8.first == UInt8(ascii: "+") {
            negative = utf8.first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenDigit = false
        var seenPoint = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                if seenPoint { return nil }
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            seenDigit = true
            let digit = Int64(byte - UInt8(ascii: "0"))
            if seenPoint {
                fractionDigits += 1
                if fractionDigits > 6 { return nil }
                fraction = fraction * 10 + digit
            } else {
                whole = whole * 10 + digit
                if whole > 1000 { return nil }
            }
        }
        guard seenDigit else { return nil }
        for _ in fractionDigits..<6 { fraction *= 10 }
        let value = whole * 1_000_000 + fraction
        guard value <= limit * 1_000_000 else { return nil }
        return Int32(negative ? -value : value)
    }
}
