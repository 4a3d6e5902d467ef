/// The stock of one SKU at one node.
///
/// Conservation: `onHand = atp + reserved + allocated + safety held back`, where
/// `reserved + allocated` (the committed units) never exceed `onHand`, and no
/// counter is ever negative. `inTransit` units are on their way here and not yet
/// on hand.
public struct StockLevel: Hashable, Sendable {
    public var onHand: Int64 = 0
    public var safety: Int64 = 0
    public var reserved: Int64 = 0
    public var allocated: Int64 = 0
    public var inTransit: Int64 = 0

    public init(onHand: Int64 = 0, safety: Int64 = 0, reserved: Int64 = 0, allocated: Int64 = 0, inTransit: Int64 = 0) {
        self.onHand = onHand
        self.safety = safety
        self.reserved = reserved
        self.allocated = allocated
        self.inTransit = inTransit
    }

    /// Units promised to reservations and orders.
    public var committed: Int64 { reserved + allocated }

    /// Available to promise at this node: on hand less what is committed and the
    /// safety stock, never below zero.
    public var atp: Int64 { max(0, onHand - committed - safety) }

    public var isConsistent: Bool {
        onHand >= 0 && safety >= 0 && reserved >= 0 && allocated >= 0 && inTransit >= 0 && committed <= onHand
    }
}

/// All stock of one SKU across the network, plus the network reservations (flash-sale
/// carts) that hold units without naming a node.
public struct SKUInventory: Hashable, Sendable {
    public var levels = NodeStockLevels()
    public var networkReserved: Int64 = 0

    public init() {}

    public var nodesATP: Int64 { levels.values.reduce(0) { $0 + $1.atp } }

    /// What a new network reservation may take: the nodes' ATP less what carts hold.
    public var networkATP: Int64 { max(0, nodesATP - networkReserved) }

    /// The level at `node` after `STOCK.SET` (safety left out keeps its value), or why
    /// it is refused: `expect` not met, or what `checkChange` refuses. Also what
    /// `orderline import --all-or-nothing` checks a file's rows with before it sends any.
    public func levelAfterSet(
        at node: String, sku: String, onHand: Int64, safety: Int64?, expectedOnHand: Int64?
    ) throws(Rejection) -> StockLevel {
        let current = levels[node] ?? StockLevel()
        if let expectedOnHand, expectedOnHand != current.onHand {
            throw .conflict("expect=\(expectedOnHand) but on_hand=\(current.onHand) for \(sku) at \(node)")
        }
        var level = current
        level.onHand = onHand
        level.safety = safety ?? current.safety
        try checkChange(at: node, sku: sku, to: level)
        return level
    }

    /// Refuses a stock level at `node` that would leave on hand out of range, below
    /// what is committed there, or the nodes' ATP below what network reservations hold
    /// (`STOCK.SET`, `STOCK.ADJUST`, `STOCK.TRANSFER`).
    public func checkChange(at node: String, sku: String, to level: StockLevel) throws(Rejection) {
        guard level.onHand >= 0 else { throw .conflict("on_hand of \(sku) at \(node) would go below 0 (to \(level.onHand))") }
        guard level.onHand <= Arguments.quantityMax else {
            throw .invalid("on_hand of \(sku) at \(node) would exceed \(Arguments.quantityMax)")
        }
        guard level.onHand >= level.committed else {
            throw .conflict("on_hand=\(level.onHand) is below the \(level.committed) units committed for \(sku) at \(node)")
        }
        let otherNodesATP = nodesATP - (levels[node]?.atp ?? 0)
        guard otherNodesATP + level.atp >= networkReserved else {
            throw .conflict("network reservations hold \(networkReserved) of \(sku); the change would leave \(otherNodesATP + level.atp)")
        }
    }
}
