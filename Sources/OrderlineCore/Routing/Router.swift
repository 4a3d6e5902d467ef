/// Distributed order management: which node ships which lines of an order.
///
/// Pure and deterministic: it sees the order, the nodes with their stock and
/// capacity, the rate card and the rules, and returns a plan with every candidate it
/// weighed and the rule that decided (`ORDER.EXPLAIN` shows it). Ties are broken by
/// cost, then transit days, then node id, the same way on every run.
public enum Router {
    public static func plan(
        _ request: RoutingRequest, stock: [NodeStock], rateCard: RateCard, rules: RoutingRules
    ) -> RoutingPlan {
        if let store = request.pickupStore {
            return pickup(request, at: store, stock: stock)
        }
        let totalGrams = request.lines.reduce(Int64(0)) { $0.adding(saturating: $1.weightGrams.multiplied(saturating: $1.quantity)) }
        var candidates: [Candidate] = []
        var eligible: [NodeStock] = []
        candidates.reserveCapacity(stock.count)
        eligible.reserveCapacity(stock.count)
        for entry in stock.sorted(by: { $0.node.id < $1.node.id }) {
            var candidate = Candidate(node: entry.node.id, distanceKm: GreatCircle.distanceKm(from: entry.node.location, to: request.destination))
            if let reason = exclusion(of: entry, rules: rules) {
                candidate.excludedBecause = reason
            } else if let quote = quote(rateCard, km: candidate.distanceKm, grams: totalGrams, request: request, rules: rules) {
                candidate.quote = quote
                candidate.costCents = entry.node.handlingCostCents.adding(saturating: quote.costCents)
                candidate.hasEveryLine = request.lines.allSatisfy { entry.atp[$0.sku, default: 0] >= $0.quantity }
                eligible.append(entry)
            } else {
                // A first run without a rate card: say what is missing, not that it is too far.
                candidate.excludedBecause = rateCard.services.isEmpty
                    ? "no carrier services are configured: CARRIER.SET"
                    : "no carrier service reaches it within \(request.service.transitDaysMax) days"
            }
            candidates.append(candidate)
        }

        let single = bestSingleNode(candidates, rules: rules)
        var distances: [String: Int64] = Dictionary(minimumCapacity: candidates.count)
        for candidate in candidates { distances[candidate.node] = candidate.distanceKm }
        let split = rules.allowSplit && !(single.map { splitCannotBeat($0, eligible: eligible, distances: distances, rateCard: rateCard, request: request, rules: rules) } ?? false)
            ? greedySplit(request, eligible: eligible, distances: distances, rateCard: rateCard, rules: rules) : nil
        var plan: RoutingPlan
        switch (single, split) {
        case (let single?, let split?) where split.backordered.isEmpty && split.shipments.count > 1
            && split.totalCostCents < single.costCents ?? .max:
            plan = split
            plan.rule = "split: \(split.shipments.count) shipments cost \(split.totalCostCents) cents, "
                + "less than \(single.costCents ?? 0) from \(single.node) alone (split penalty included)"
        case (let single?, _):
            plan = RoutingPlan(shipments: [PlannedShipment(
                node: single.node, lines: request.shipmentLines, quote: single.quote, costCents: single.costCents ?? 0)])
            plan.rule = rules.strategy == .priority && rules.priority.contains(single.node)
                ? "priority: \(single.node) is the first node in the priority list that has every line"
                : "\(rules.strategy.rawValue): \(single.node) has every line at the lowest \(rules.strategy == .fastest ? "transit time" : "cost")"
        case (nil, let split?):
            plan = split
            plan.rule = split.backordered.isEmpty
                ? "split: no single node has every line"
                : "partly backordered: the network does not hold every unit"
        case (nil, nil):
            plan = RoutingPlan(shipments: [], backordered: request.lines.map { ($0.sku, $0.quantity) })
            plan.rule = rules.allowSplit ? "backordered: no node can ship any line" : "backordered: split=no and no single node has every line"
        }
        plan.candidates = candidates
        return plan
    }

    // MARK: Steps

    private static func exclusion(of entry: NodeStock, rules: RoutingRules) -> String? {
        if rules.excludedNodes.contains(entry.node.id) { return "excluded by the routing rules" }
        if !entry.node.ships { return "does not ship" }
        if entry.node.kind == .store && !rules.shipFromStore { return "ship-from-store is off" }
        if let capacity = entry.capacityLeft, capacity <= 0 { return "no capacity left today" }
        return nil
    }

    private static func quote(_ rateCard: RateCard, km: Int64, grams: Int64, request: RoutingRequest, rules: RoutingRules) -> Quote? {
        rules.strategy == .fastest
            ? rateCard.fastest(km: km, grams: grams, transitDaysMax: request.service.transitDaysMax)
            : rateCard.cheapest(km: km, grams: grams, transitDaysMax: request.service.transitDaysMax)
    }

    private static func bestSingleNode(_ candidates: [Candidate], rules: RoutingRules) -> Candidate? {
        let able = candidates.lazy.filter { $0.hasEveryLine && $0.excludedBecause == nil }
        if rules.strategy == .priority, let first = rules.priority.lazy.compactMap({ id in able.first { $0.node == id } }).first {
            return first
        }
        return able.min { lhs, rhs in
            let left = (lhs.costCents ?? .max, lhs.quote?.transitDays ?? .max)
            let right = (rhs.costCents ?? .max, rhs.quote?.transitDays ?? .max)
            if rules.strategy == .fastest {
                return (left.1, left.0, lhs.node) < (right.1, right.0, rhs.node)
            }
            return (left.0, left.1, lhs.node) < (right.0, right.1, rhs.node)
        }
    }

    /// A split is at least two parcels, each costing at least the cheapest empty
    /// parcel from an eligible node, plus the split penalty: when the best single node
    /// costs no more, no split can be chosen and is not worked out.
    private static func splitCannotBeat(
        _ single: Candidate, eligible: [NodeStock], distances: [String: Int64], rateCard: RateCard, request: RoutingRequest,
        rules: RoutingRules
    ) -> Bool {
        guard let singleCost = single.costCents else { return false }
        var cheapestParcel = Int64.max
        for entry in eligible {
            guard let km = distances[entry.node.id], let empty = quote(rateCard, km: km, grams: 0, request: request, rules: rules) else { continue }
            cheapestParcel = min(cheapestParcel, entry.node.handlingCostCents.adding(saturating: empty.costCents))
        }
        return singleCost <= cheapestParcel.multiplied(saturating: 2).adding(saturating: rules.splitPenaltyCents)
    }

    /// Line by line, unit by unit where needed: each piece goes to the node where it
    /// adds the least cost (a new shipment costs its handling, its carrier and, after
    /// the first, the split penalty).
    private static func greedySplit(
        _ request: RoutingRequest, eligible: [NodeStock], distances: [String: Int64], rateCard: RateCard, rules: RoutingRules
    ) -> RoutingPlan? {
        var atp = Dictionary(uniqueKeysWithValues: eligible.map { ($0.node.id, $0.atp) })
        var grams: [String: Int64] = [:]
        var lines: [String: [Shipment.Line]] = [:]
        var order: [String] = []
        var backordered: [(sku: String, quantity: Int64)] = []
        let nodes = Dictionary(uniqueKeysWithValues: eligible.map { ($0.node.id, $0.node) })

        func shipmentCost(_ node: Node, grams: Int64) -> (cost: Int64, quote: Quote)? {
            // Distances were measured once, for the candidates.
            guard let km = distances[node.id], let quote = quote(rateCard, km: km, grams: grams, request: request, rules: rules) else {
                return nil
            }
            return (node.handlingCostCents.adding(saturating: quote.costCents), quote)
        }

        for line in request.lines {
            var remaining = line.quantity
            while remaining > 0 {
                var best: (node: String, marginal: Int64, quantity: Int64)?
                for node in eligible.map(\.node) {
                    let available = atp[node.id]?[line.sku, default: 0] ?? 0
                    guard available > 0 else { continue }
                    let quantity = min(available, remaining)
                    let before = grams[node.id].flatMap { shipmentCost(node, grams: $0)?.cost }
                    let added = quantity.multiplied(saturating: line.weightGrams)
                    guard let after = shipmentCost(node, grams: (grams[node.id] ?? 0).adding(saturating: added))?.cost else { continue }
                    let marginal = after.adding(saturating: -(before ?? 0))
                        .adding(saturating: before == nil && !order.isEmpty ? rules.splitPenaltyCents : 0)
                    // Per unit, so that a node able to take the whole line is not
                    // passed over for a cheaper one that takes a single unit.
                    let candidate = (node: node.id, marginal: marginal, quantity: quantity)
                    if let current = best {
                        let left = (candidate.marginal.multiplied(saturating: current.quantity), candidate.node)
                        let right = (current.marginal.multiplied(saturating: candidate.quantity), current.node)
                        if left < right { best = candidate }
                    } else {
                        best = candidate
                    }
                }
                guard let chosen = best else {
                    backordered.append((line.sku, remaining))
                    break
                }
                if lines[chosen.node] == nil { order.append(chosen.node) }
                lines[chosen.node, default: []].append(Shipment.Line(sku: line.sku, quantity: chosen.quantity))
                grams[chosen.node, default: 0] = (grams[chosen.node] ?? 0).adding(saturating: chosen.quantity.multiplied(saturating: line.weightGrams))
                atp[chosen.node]?[line.sku, default: 0] -= chosen.quantity
                remaining -= chosen.quantity
            }
        }
        guard !order.isEmpty else { return nil }
        var shipments: [PlannedShipment] = []
        for id in order {
            guard let node = nodes[id], let shipment = shipmentCost(node, grams: grams[id] ?? 0) else { continue }
            shipments.append(PlannedShipment(node: id, lines: lines[id] ?? [], quote: shipment.quote, costCents: shipment.cost))
        }
        var plan = RoutingPlan(shipments: shipments, backordered: backordered)
        plan.totalCostCents = plan.totalCostCents.adding(saturating: rules.splitPenaltyCents.multiplied(saturating: Int64(max(0, shipments.count - 1))))
        return plan
    }

    private static func pickup(_ request: RoutingRequest, at store: String, stock: [NodeStock]) -> RoutingPlan {
        var plan = RoutingPlan(shipments: [], backordered: [])
        guard let entry = stock.first(where: { $0.node.id == store }), entry.node.offersPickup else {
            plan.backordered = request.lines.map { ($0.sku, $0.quantity) }
            plan.rule = "pickup: \(store) is not a pickup store"
            return plan
        }
        var candidate = Candidate(node: store, distanceKm: 0)
        candidate.hasEveryLine = request.lines.allSatisfy { entry.atp[$0.sku, default: 0] >= $0.quantity }
        candidate.costCents = entry.node.handlingCostCents
        plan.candidates = [candidate]
        if candidate.hasEveryLine {
            plan.shipments = [PlannedShipment(node: store, lines: request.shipmentLines, quote: nil, costCents: entry.node.handlingCostCents)]
            plan.rule = "pickup: the customer chose \(store)"
        } else {
            plan.backordered = request.lines.map { ($0.sku, $0.quantity) }
            plan.rule = "pickup: \(store) does not have every line"
        }
        return plan
    }
}
