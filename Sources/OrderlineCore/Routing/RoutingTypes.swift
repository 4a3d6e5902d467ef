/// DOM rules, changed at run time (as logged events, once orders exist).
public struct RoutingRules: Hashable, Sendable {
    /// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
    public enum Strategy: String, Hashable, Sendable, CaseIterable { case cost, fastest, priority }

    public var strategy: Strategy = .cost
    public var allowSplit = true
    /// Added for every shipment after the first.
    public var splitPenaltyCents: Int64 = 500
    public var shipFromStore = true
    public var excludedNodes: Set<String> = []
    /// For `priority`: nodes in the order to try.
    public var priority: [String] = []
    /// Whether an order may be captured with units no node can promise (they wait as
    /// its backorder); when not, such an order is `SOLDOUT`.
    public var allowBackorder = true

    public init() {}
}

public struct RoutingLine: Hashable, Sendable {
    public var sku: String
    public var quantity: Int64
    public var weightGrams: Int64

    public init(sku: String, quantity: Int64, weightGrams: Int64) {
        self.sku = sku
        self.quantity = quantity
        self.weightGrams = weightGrams
    }
}

public struct RoutingRequest: Hashable, Sendable {
    public var lines: [RoutingLine]
    public var destination: Coordinate
    public var service: ServiceLevel
    /// BOPIS: the store the customer collects at (no carrier).
    public var pickupStore: String?

    /// Every line whole, as one shipment's lines.
    var shipmentLines: [Shipment.Line] { lines.map { Shipment.Line(sku: $0.sku, quantity: $0.quantity) } }

    public init(lines: [RoutingLine], destination: Coordinate, service: ServiceLevel = .standard, pickupStore: String? = nil) {
        self.lines = lines
        self.destination = destination
        self.service = service
        self.pickupStore = pickupStore
    }
}

/// A node as routing sees it: its ATP by SKU and the orders it can still take today.
public struct NodeStock: Sendable {
    public var node: Node
    public var atp: [String: Int64]
    /// nil: no daily limit.
    public var capacityLeft: Int64?

    public init(node: Node, atp: [String: Int64], capacityLeft: Int64? = nil) {
        self.node = node
        self.atp = atp
        self.capacityLeft = capacityLeft
    }
}

/// One node as the router weighed it.
public struct Candidate: Hashable, Sendable {
    public var node: String
    public var distanceKm: Int64
    public var quote: Quote?
    /// Handling plus carrier, for the whole order from this node.
    public var costCents: Int64?
    public var hasEveryLine = false
    public var excludedBecause: String?

    public init(node: String, distanceKm: Int64) {
        self.node = node
        self.distanceKm = distanceKm
    }
}

public struct PlannedShipment: Sendable {
    public var node: String
    /// The order's shipment lines as they are (the order takes them without a copy).
    public var lines: [Shipment.Line]
    /// nil for a pickup.
    public var quote: Quote?
    public var costCents: Int64
}

public struct RoutingPlan: Sendable {
    public var shipments: [PlannedShipment]
    public var backordered: [(sku: String, quantity: Int64)]
    public var candidates: [Candidate] = []
    public var rule = ""
    public var totalCostCents: Int64

    init(shipments: [PlannedShipment], backordered: [(sku: String, quantity: Int64)] = []) {
        self.shipments = shipments
        self.backordered = backordered
        totalCostCents = shipments.reduce(Int64(0)) { $0.adding(saturating: $1.costCents) }
    }
}

/// What `ORDER.EXPLAIN` shows, logged with the order: every candidate the router
/// weighed, the shipments it planned and the rule that decided. Kept as values (and
/// rendered as JSON only when asked): it is in every order event.
public struct RoutingDecision: Hashable, Sendable {
    public struct PlannedParcel: Hashable, Sendable {
        public var node: String
        public var costCents: Int64
        public var carrier: String?
        public var service: String?
    }

    public var rule: String
    public var strategy: RoutingRules.Strategy
    public var candidates: [Candidate]
    public var shipments: [PlannedParcel]
    public var totalCostCents: Int64

    public static let none = RoutingDecision(rule: "", strategy: .cost, candidates: [], shipments: [], totalCostCents: 0)

    init(rule: String, strategy: RoutingRules.Strategy, candidates: [Candidate], shipments: [PlannedParcel], totalCostCents: Int64) {
        self.rule = rule
        self.strategy = strategy
        self.candidates = candidates
        self.shipments = shipments
        self.totalCostCents = totalCostCents
    }

    init(_ plan: RoutingPlan, strategy: RoutingRules.Strategy) {
        self.init(
            rule: plan.rule, strategy: strategy, candidates: plan.candidates,
            shipments: plan.shipments.map {
                PlannedParcel(node: $0.node, costCents: $0.costCents, carrier: $0.quote?.carrier, service: $0.quote?.service)
            },
            totalCostCents: plan.totalCostCents)
    }
}
