/// A return (RMA) of units an order shipped: opened by the customer or a store,
/// received at a node (a store: BORIS, buy online, return in store), refunded
/// through the payment gateway. Resellable units go back on that node's shelf.
public struct OrderReturn: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Status: String, Hashable, Sendable, CaseIterable {
        case open, received, refunded, rejected

        var wasReceived: Bool { self == .received || self == .refunded }
    }

    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Condition: String, Hashable, Sendable, CaseIterable { case resellable, damaged }

    /// 1, 2, …: the return's id is `<order>-R<number>`.
    public var number: Int
    /// Where the units are brought back.
    public var node: String
    public var lines: [Shipment.Line]
    public var reason: String
    public var status: Status = .open
    public var condition: Condition?
    public var refundCents: Int64 = 0
    /// The linked order an exchange created, and what its lines are worth: that much of
    /// the returned value is not refunded (the exchange was paid with it).
    public var exchangeOrder: String?
    public var exchangeCents: Int64 = 0
    public var openedAt: Timestamp
    public var receivedAt: Timestamp?
}
