/// Fraud screening at capture, changed at run time with `FRAUD.SET` (a logged event).
/// A rule that fires puts the order on hold with a typed reason; 0 (or empty)
/// switches a rule off. Pure: it sees the order, the customer's history and the time.
public struct FraudRules: Hashable, Sendable {
    /// Orders above this total (cents) wait for review.
    public var amountMaxCents: Int64 = 0
    /// More than this many orders by one customer within `windowSeconds`.
    public var ordersMax: Int64 = 0
    public var windowSeconds: Int64 = 3_600
    public var blockedCustomers: Set<String> = []
    /// A ship-to further than this from the customer's usual address (the first one
    /// they shipped to).
    public var distanceMaxKm: Int64 = 0

    public init() {}

    func holds(for order: Order, history: CustomerHistory?, now: Timestamp) -> [Order.Hold] {
        var holds: [Order.Hold] = []
        if blockedCustomers.contains(order.customer) {
            holds.append(Order.Hold(kind: .blockedCustomer, reason: "customer \(order.customer) is blocked"))
        }
        if amountMaxCents > 0, order.totalCents > amountMaxCents {
            holds.append(Order.Hold(kind: .amount, reason: "total \(order.totalCents) is above \(amountMaxCents)"))
        }
        if ordersMax > 0, let history {
            let recent = Int64(history.placements.filter { $0 > now - windowSeconds }.count)
            if recent >= ordersMax {
                holds.append(Order.Hold(
                    kind: .velocity, reason: "\(recent + 1) orders by \(order.customer) within \(windowSeconds) s (at most \(ordersMax))"))
            }
        }
        if distanceMaxKm > 0, let usual = history?.usualDestination, let destination = order.destination, order.pickupStore == nil {
            let km = GreatCircle.distanceKm(from: usual, to: destination)
            if km > distanceMaxKm {
                holds.append(Order.Hold(kind: .distance, reason: "ship-to is \(km) km from the usual address (at most \(distanceMaxKm))"))
            }
        }
        return holds
    }
}

/// What fraud screening remembers of a customer: where they usually ship to and
/// when they last ordered. Part of the state (and of snapshots).
public struct CustomerHistory: Hashable, Sendable {
    /// The ship-to of their first shipped order.
    public var usualDestination: Coordinate?
    /// Their latest placement times, oldest first; at most `placementsMax`.
    public var placements: [Timestamp] = []
    public static let placementsMax = 64

    mutating func record(_ order: Order) {
        if usualDestination == nil, order.pickupStore == nil { usualDestination = order.destination }
        placements.append(order.placedAt)
        if placements.count > Self.placementsMax { placements.removeFirst(placements.count - Self.placementsMax) }
    }
}

/// `FRAUD.SET`: the rules it names; nil keeps the current value.
public struct FraudRulesUpdate: Hashable, Sendable {
    public var amountMaxCents: Int64?
    public var ordersMax: Int64?
    public var windowSeconds: Int64?
    public var block: [String] = []
    public var unblock: [String] = []
    public var distanceMaxKm: Int64?

    public init() {}

    func applied(to rules: FraudRules) -> FraudRules {
        var updated = rules
        if let amountMaxCents { updated.amountMaxCents = amountMaxCents }
        if let ordersMax { updated.ordersMax = ordersMax }
        if let windowSeconds { updated.windowSeconds = windowSeconds }
        if let distanceMaxKm { updated.distanceMaxKm = distanceMaxKm }
        updated.blockedCustomers.formUnion(block)
        updated.blockedCustomers.subtract(unblock)
        return updated
    }
}

extension FraudRules {
    var json: JSONObject {
        var object = JSONObject()
        object.add("amount_max", amountMaxCents)
        object.add("orders_max", ordersMax)
        object.add("window", windowSeconds)
        object.add("blocked", blockedCustomers.sorted())
        object.add("distance_max_km", distanceMaxKm)
        return object
    }

    func encode(into writer: inout BinaryWriter) {
        writer.writeVarInt(amountMaxCents)
        writer.writeVarInt(ordersMax)
        writer.writeVarInt(windowSeconds)
        writer.writeVarUInt(UInt64(blockedCustomers.count))
        for customer in blockedCustomers.sorted() { writer.write(customer) }
        writer.writeVarInt(distanceMaxKm)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> FraudRules {
        var rules = FraudRules()
        rules.amountMaxCents = try reader.readVarInt()
        rules.ordersMax = try reader.readVarInt()
        rules.windowSeconds = try reader.readVarInt()
        for _ in 0..<(try reader.readCount("blocked customer")) { rules.blockedCustomers.insert(try reader.readString()) }
        rules.distanceMaxKm = try reader.readVarInt()
        return rules
    }
}

extension CustomerHistory {
    func encode(into writer: inout BinaryWriter) {
        writer.write(usualDestination != nil)
        if let usualDestination {
            writer.writeVarInt(Int64(usualDestination.latitudeMicrodegrees))
            writer.writeVarInt(Int64(usualDestination.longitudeMicrodegrees))
        }
        writer.writeVarUInt(UInt64(placements.count))
        for placement in placements { writer.writeVarInt(placement) }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> CustomerHistory {
        var history = CustomerHistory()
        if try reader.readBool() { history.usualDestination = try reader.readCoordinate() }
        for _ in 0..<(try reader.readCount("placement")) { history.placements.append(try reader.readVarInt()) }
        return history
    }
}
