/// One node's part of an order: its own lifecycle, its own parcel and label. The
/// order's status summarises its shipments.
///
/// A shipment to a customer: pending → picked → packed → shipped → delivered.
/// A pickup (BOPIS): pending → picked → packed → ready_for_pickup → picked_up.
/// Any of them is cancelled with the order until it leaves the node.
public struct Shipment: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Status: String, Hashable, Sendable, CaseIterable {
        case pending, picked, packed, shipped, delivered
        case readyForPickup = "ready_for_pickup"
        case pickedUp = "picked_up"
        case cancelled

        /// Still at the node: its units are allocated there.
        public var holdsStock: Bool { self == .pending || self == .picked || self == .packed || self == .readyForPickup }
        /// Left the node: its units came off the node's on hand.
        public var leftNode: Bool { self == .shipped || self == .delivered || self == .pickedUp }
        /// In the customer's hands: what may be returned.
        public var reachedCustomer: Bool { self == .delivered || self == .pickedUp }
    }

    public struct Line: Hashable, Sendable {
        public var sku: String
        public var quantity: Int64

        public init(sku: String, quantity: Int64) {
            self.sku = sku
            self.quantity = quantity
        }
    }

    /// 1, 2, …: the shipment's id is `<order>-S<number>`.
    public var number: Int
    public var node: String
    public var lines: [Line]
    public var isPickup: Bool
    /// What routing chose (nil for a pickup); `SHIPMENT.SHIP` may book another service.
    public var carrier: String?
    public var service: String?
    public var costCents: Int64
    public var transitDays: Int
    /// When routing made it: a node's daily capacity counts the shipments made that day.
    public var createdAt: Timestamp
    public var status: Status = .pending
    public var tracking = ""
    public var label = ""
    public var capturedCents: Int64 = 0
    public var updatedAt: Timestamp
    /// When it reached the customer (delivered) or the pickup shelf (ready): the
    /// promise is kept or broken then, and the order's cycle ends with its last one.
    public var arrivedAt: Timestamp?

    /// Takes a share of its node's capacity on `day` (the day it was made).
    /// Whether the derived state (its node's work queue and daily count, which
    /// `OrderlineState.trackShipment` keeps) holds this shipment as it holds `other`.
    func isTracked(like other: Shipment) -> Bool {
        node == other.node && number == other.number && createdAt == other.createdAt
            && status.isInWorkQueue == other.status.isInWorkQueue && (status == .cancelled) == (other.status == .cancelled)
    }

    func countsToward(day: Int64) -> Bool { status != .cancelled && CalendarDate.day(of: createdAt) == day }

    /// The next status each command leads to, from the statuses it may start from.
    public static func transition(_ command: Transition, isPickup: Bool) -> (from: Status, to: Status)? {
        switch (command, isPickup) {
        case (.pick, _): (.pending, .picked)
        case (.pack, _): (.picked, .packed)
        case (.ship, false): (.packed, .shipped)
        case (.deliver, false): (.shipped, .delivered)
        case (.ready, true): (.packed, .readyForPickup)
        case (.pickedUp, true): (.readyForPickup, .pickedUp)
        case (.ship, true), (.deliver, true), (.ready, false), (.pickedUp, false): nil
        }
    }

    public enum Transition: String, Hashable, Sendable, CaseIterable {
        case pick = "SHIPMENT.PICK", pack = "SHIPMENT.PACK", ship = "SHIPMENT.SHIP", deliver = "SHIPMENT.DELIVER"
        case ready = "SHIPMENT.READY", pickedUp = "SHIPMENT.PICKEDUP"
    }
}

/// `<order>-S<n>` (a shipment) or `<order>-R<n>` (a return): an order's child, found
/// through its order without another index.
public struct ChildID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var order: String
    public var number: Int
    public var kind: Character

    public init(order: String, number: Int, kind: Character) {
        self.order = order
        self.number = number
        self.kind = kind
    }

    /// Parses the text after the last `-S` (or `-R`): digits, at least 1.
    public init?(_ text: String, kind: Character) {
        let marker = UInt8(ascii: kind.unicodeScalars.first!)
        // Read in place: a step's id was copied into an array to be parsed.
        let parts: (order: String, number: Int)? = text.withUTF8Bytes { bytes in
            guard let dash = bytes.indices.dropLast().last(where: { bytes[$0] == UInt8(ascii: "-") && bytes[$0 + 1] == marker }),
                  dash > 0, dash + 2 < bytes.count
            else { return nil }
            var number = 0
            for byte in bytes[(dash + 2)...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
                // Past the largest number, it only grows: stop before it could overflow.
                guard number <= 10_000 else { return nil }
            }
            guard number >= 1 else { return nil }
            return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<dash]), as: UTF8.self), number)
        }
        guard let parts else { return nil }
        self.init(order: parts.order, number: parts.number, kind: kind)
    }

    public var description: String { "\(order)-\(kind)\(number)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.order, lhs.number) < (rhs.order, rhs.number) }
}
