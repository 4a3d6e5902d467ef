import OrderlineCore
import Testing

private func node(_ id: String, _ kind: Node.Kind, _ latitude: Int32, _ longitude: Int32, handling: Int64, pickup: Bool = false) -> Node {
    Node(
        id: id, kind: kind, location: Coordinate(latitudeMicrodegrees: latitude, longitudeMicrodegrees: longitude),
        ships: true, offersPickup: pickup, handlingCostCents: handling)
}

private let east = node("WH-EAST", .warehouse, 40_712_800, -74_006_000, handling: 200)      // New York
private let west = node("WH-WEST", .warehouse, 34_052_200, -118_243_700, handling: 200)     // Los Angeles
private let chicago = node("ST-CHI", .store, 41_878_100, -87_629_800, handling: 400, pickup: true)
private let manhattan = node("ST-NYC", .store, 40_758_000, -73_978_700, handling: 400, pickup: true)
private let philadelphia = Coordinate(latitudeMicrodegrees: 39_952_600, longitudeMicrodegrees: -75_165_200)

private let rateCard = RateCard(services: [
    CarrierService(carrier: "ground", name: "standard", baseCents: 500, perKmMillicents: 100, perKgCents: 50,
                   bands: [.init(kmMax: 500, transitDays: 2), .init(kmMax: 1_500, transitDays: 3), .init(kmMax: 5_000, transitDays: 5)]),
    CarrierService(carrier: "air", name: "express", baseCents: 1_500, perKmMillicents: 300, perKgCents: 100,
                   bands: [.init(kmMax: 1_000, transitDays: 1), .init(kmMax: 5_000, transitDays: 2)]),
])

private func request(_ lines: [(String, Int64)], service: ServiceLevel = .standard, pickup: String? = nil) -> RoutingRequest {
    RoutingRequest(lines: lines.map { RoutingLine(sku: $0.0, quantity: $0.1, weightGrams: 1_000) }, destination: philadelphia, service: service, pickupStore: pickup)
}

private func nodes(_ plan: RoutingPlan) -> [String] { plan.shipments.map(\.node) }

@Test func greatCircleDistancesAreRight() {
    #expect(GreatCircle.distanceKm(from: east.location, to: west.location) == 3_936)
    #expect(GreatCircle.distanceKm(from: east.location, to: philadelphia) == 130)
    #expect(GreatCircle.distanceKm(from: east.location, to: east.location) == 0)
}

@Test func theNearestNodeWithStockWins() {
    let plan = Router.plan(request([("A", 1)]), stock: [
        NodeStock(node: west, atp: ["A": 5]), NodeStock(node: east, atp: ["A": 5]),
    ], rateCard: rateCard, rules: RoutingRules())
    #expect(nodes(plan) == ["WH-EAST"])
    #expect(plan.shipments.first?.quote?.carrier == "ground")
    // handling 200 + base 500 + 130 km × 0.1 c + 1 kg × 50
    #expect(plan.totalCostCents == 763)
    #expect(plan.rule == "cost: WH-EAST has every line at the lowest cost")
    #expect(plan.candidates.map(\.node) == ["WH-EAST", "WH-WEST"])
}

@Test func aSplitHappensWhenUnavoidable() {
    let plan = Router.plan(request([("A", 1), ("B", 1)]), stock: [
        NodeStock(node: east, atp: ["A": 5]), NodeStock(node: west, atp: ["B": 5]),
    ], rateCard: rateCard, rules: RoutingRules())
    #expect(Set(nodes(plan)) == ["WH-EAST", "WH-WEST"])
    #expect(plan.backordered.isEmpty)
    #expect(plan.rule == "split: no single node has every line")
}

@Test func oneNodeBeatsASplitThatCostsMore() {
    let plan = Router.plan(request([("A", 1), ("B", 1)]), stock: [
        NodeStock(node: west, atp: ["A": 5, "B": 5]), NodeStock(node: east, atp: ["A": 5]), NodeStock(node: chicago, atp: ["B": 5]),
    ], rateCard: rateCard, rules: RoutingRules())
    #expect(nodes(plan) == ["WH-WEST"])
    #expect(plan.candidates.first { $0.node == "WH-WEST" }?.hasEveryLine == true)
}

@Test func aSplitWinsWhenItIsCheaper() {
    let perKmHeavy = RateCard(services: [CarrierService(
        carrier: "ground", name: "standard", baseCents: 500, perKmMillicents: 2_000, perKgCents: 50,
        bands: [.init(kmMax: 5_000, transitDays: 4)])])
    let plan = Router.plan(request([("A", 1), ("B", 1)]), stock: [
        NodeStock(node: west, atp: ["A": 5, "B": 5]), NodeStock(node: east, atp: ["A": 5]), NodeStock(node: manhattan, atp: ["B": 5]),
    ], rateCard: perKmHeavy, rules: RoutingRules())
    #expect(nodes(plan) == ["WH-EAST", "ST-NYC"])
    #expect(plan.rule.hasPrefix("split: 2 shipments cost"))
    var noSplit = RoutingRules()
    noSplit.allowSplit = false
    #expect(nodes(Router.plan(request([("A", 1), ("B", 1)]), stock: [
        NodeStock(node: west, atp: ["A": 5, "B": 5]), NodeStock(node: east, atp: ["A": 5]), NodeStock(node: manhattan, atp: ["B": 5]),
    ], rateCard: perKmHeavy, rules: noSplit)) == ["WH-WEST"])
}

@Test func splitNoBackordersWhatNoSingleNodeCanShip() {
    var rules = RoutingRules()
    rules.allowSplit = false
    let plan = Router.plan(request([("A", 1), ("B", 1)]), stock: [
        NodeStock(node: east, atp: ["A": 5]), NodeStock(node: west, atp: ["B": 5]),
    ], rateCard: rateCard, rules: rules)
    #expect(plan.shipments.isEmpty)
    #expect(plan.backordered.map(\.sku) == ["A", "B"])
    #expect(plan.rule == "backordered: split=no and no single node has every line")
}

@Test func pickupHappensAtTheChosenStoreOnly() {
    let stock = [NodeStock(node: east, atp: ["A": 5]), NodeStock(node: chicago, atp: ["A": 1])]
    let plan = Router.plan(request([("A", 1)], pickup: "ST-CHI"), stock: stock, rateCard: rateCard, rules: RoutingRules())
    #expect(nodes(plan) == ["ST-CHI"])
    #expect(plan.shipments.first?.quote == nil)
    #expect(plan.rule == "pickup: the customer chose ST-CHI")
    let short = Router.plan(request([("A", 2)], pickup: "ST-CHI"), stock: stock, rateCard: rateCard, rules: RoutingRules())
    #expect(short.shipments.isEmpty && short.backordered.count == 1)
    #expect(Router.plan(request([("A", 1)], pickup: "WH-EAST"), stock: stock, rateCard: rateCard, rules: RoutingRules()).rule
        == "pickup: WH-EAST is not a pickup store")
}

@Test func shipFromStoreOffExcludesStores() {
    var rules = RoutingRules()
    rules.shipFromStore = false
    let plan = Router.plan(request([("A", 1)]), stock: [
        NodeStock(node: manhattan, atp: ["A": 5]), NodeStock(node: west, atp: ["A": 5]),
    ], rateCard: rateCard, rules: rules)
    #expect(nodes(plan) == ["WH-WEST"])
    #expect(plan.candidates.first { $0.node == "ST-NYC" }?.excludedBecause == "ship-from-store is off")
}

@Test func exhaustedCapacityAndExclusionsMoveToTheNextNode() {
    let stock = [NodeStock(node: east, atp: ["A": 5], capacityLeft: 0), NodeStock(node: west, atp: ["A": 5], capacityLeft: 10)]
    let plan = Router.plan(request([("A", 1)]), stock: stock, rateCard: rateCard, rules: RoutingRules())
    #expect(nodes(plan) == ["WH-WEST"])
    #expect(plan.candidates.first { $0.node == "WH-EAST" }?.excludedBecause == "no capacity left today")
    var rules = RoutingRules()
    rules.excludedNodes = ["WH-WEST"]
    let none = Router.plan(request([("A", 1)]), stock: stock, rateCard: rateCard, rules: rules)
    #expect(none.shipments.isEmpty)
    #expect(none.rule == "backordered: no node can ship any line")
}

@Test func tiesAreBrokenByNodeIDEveryTime() {
    let twinA = node("WH-A", .warehouse, 40_712_800, -74_006_000, handling: 200)
    let twinB = node("WH-B", .warehouse, 40_712_800, -74_006_000, handling: 200)
    for stock in [[NodeStock(node: twinB, atp: ["A": 1]), NodeStock(node: twinA, atp: ["A": 1])],
                  [NodeStock(node: twinA, atp: ["A": 1]), NodeStock(node: twinB, atp: ["A": 1])]] {
        #expect(nodes(Router.plan(request([("A", 1)]), stock: stock, rateCard: rateCard, rules: RoutingRules())) == ["WH-A"])
    }
}

@Test func fastestAndPriorityStrategiesAndServiceLevels() {
    let stock = [NodeStock(node: east, atp: ["A": 5]), NodeStock(node: west, atp: ["A": 5])]
    var fastest = RoutingRules()
    fastest.strategy = .fastest
    let quick = Router.plan(request([("A", 1)]), stock: stock, rateCard: rateCard, rules: fastest)
    #expect(quick.shipments.first?.quote?.carrier == "air")
    #expect(quick.shipments.first?.quote?.transitDays == 1)
    var priority = RoutingRules()
    priority.strategy = .priority
    priority.priority = ["WH-WEST", "WH-EAST"]
    let preferred = Router.plan(request([("A", 1)]), stock: stock, rateCard: rateCard, rules: priority)
    #expect(nodes(preferred) == ["WH-WEST"])
    #expect(preferred.rule == "priority: WH-WEST is the first node in the priority list that has every line")
    // Next day reaches New York's warehouse (130 km by air) but not Los Angeles.
    let nextDay = Router.plan(request([("A", 1)], service: .nextday), stock: stock, rateCard: rateCard, rules: RoutingRules())
    #expect(nodes(nextDay) == ["WH-EAST"])
    #expect(nextDay.candidates.first { $0.node == "WH-WEST" }?.excludedBecause == "no carrier service reaches it within 1 days")
    // A first run without a rate card is told what is missing, not that the nodes are too far.
    let noCarriers = Router.plan(request([("A", 1)]), stock: stock, rateCard: RateCard(), rules: RoutingRules())
    #expect(noCarriers.shipments.isEmpty)
    #expect(noCarriers.candidates.allSatisfy { $0.excludedBecause == "no carrier services are configured: CARRIER.SET" })
}

@Test func whatTheNetworkLacksIsBackorderedAndTheRestShipped() {
    let plan = Router.plan(request([("A", 10)]), stock: [
        NodeStock(node: east, atp: ["A": 4]), NodeStock(node: west, atp: ["A": 3]),
    ], rateCard: rateCard, rules: RoutingRules())
    #expect(plan.shipments.map { $0.lines.map(\.quantity).reduce(0, +) }.reduce(0, +) == 7)
    #expect(plan.backordered.first?.quantity == 3)
    #expect(plan.rule == "partly backordered: the network does not hold every unit")
}
