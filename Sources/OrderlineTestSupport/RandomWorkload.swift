/// Random command mixes over a small network, for digest(live) == digest(replay)
/// checks: mostly valid commands, some that the core rejects, some clock moves.
public enum RandomWorkload {
    /// The manual clock's start (`TestScript.clockStart`): sale windows fall around it.
    static let manualClockStart: Int64 = TestScript.clockStart

    public enum Step: Sendable {
        case command([String])
        case advanceClock(seconds: Int64)
    }

    public static let nodes = ["WH-1", "WH-2", "ST-1", "ST-2"]

    /// A command's tokens as one inline command line, a token with a space quoted.
    public static func inline(_ tokens: [String]) -> String {
        tokens.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
    }

    public static func setup(skuCount: Int) -> [[String]] {
        var commands: [[String]] = [
            ["NODE.ADD", "WH-1", "kind=warehouse", "lat=40.7128", "lon=-74.006"],
            ["NODE.ADD", "WH-2", "kind=warehouse", "lat=34.0522", "lon=-118.2437", "capacity=5000"],
            ["NODE.ADD", "ST-1", "kind=store", "lat=41.8781", "lon=-87.6298", "pickup=yes"],
            ["NODE.ADD", "ST-2", "kind=store", "lat=29.7604", "lon=-95.3698", "cost=450"],
        ]
        commands.append(["CARRIER.SET", "GROUND", "standard", "base=500", "per_km=100", "per_kg=50", "bands=500:2,1500:3,5000:5"])
        commands.append(["CARRIER.SET", "AIR", "express", "base=1500", "per_km=300", "per_kg=100", "bands=1000:1,5000:2"])
        for index in 0..<skuCount {
            commands.append(["SKU.ADD", "SKU-\(index)", "price=\(100 + index * 7)", "weight=\(50 + index)"])
        }
        return commands
    }

    /// `orderHeavy`: half of the steps drive orders through their lifecycle (capture
    /// with payment or a declined token, pickups, every shipment step in and out of
    /// order, holds, fraud rules, edits, cancels, returns with exchanges, KPIs).
    public static func steps(count: Int, skuCount: Int, orderHeavy: Bool = false, generator: inout SeededGenerator) -> [Step] {
        var steps: [Step] = []
        var reservationsSeen = 1
        var lifecycle = LifecycleMemory()
        for _ in 0..<count {
            let sku = "SKU-\(Int.random(in: 0..<skuCount, using: &generator))"
            let node = nodes.randomElement(using: &generator)!
            let someReservation = "R\(Int.random(in: 1...reservationsSeen + 2, using: &generator))"
            if orderHeavy, Bool.random(using: &generator) {
                steps.append(.command(lifecycleCommand(sku: sku, skuCount: skuCount, memory: &lifecycle, generator: &generator)))
                continue
            }
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<15: steps.append(.command(["STOCK.SET", node, sku, "\(Int.random(in: 0...50, using: &generator))"]))
            case 15..<25: steps.append(.command(["STOCK.ADJUST", node, sku, "\(Int.random(in: -5...20, using: &generator))", "reason=cycle count"]))
            case 25..<45:
                reservationsSeen += 1
                var reserve = ["RESERVE", sku, "\(Int.random(in: 1...4, using: &generator))", "ttl=\(Int.random(in: 1...120, using: &generator))", "idem=k\(Int.random(in: 1...40, using: &generator))"]
                if Bool.random(using: &generator) { reserve.append("customer=C-\(Int.random(in: 1...5, using: &generator))") }
                steps.append(.command(reserve))
            case 45..<60:
                reservationsSeen += 1
                steps.append(.command(["RESERVE", sku, "\(Int.random(in: 1...3, using: &generator))", "node=\(node)", "ttl=\(Int.random(in: 1...300, using: &generator))"]))
            case 60..<70: steps.append(.command(["RELEASE", someReservation]))
            case 70..<80: steps.append(.command(["COMMIT", someReservation]))
            case 80..<85: steps.append(.command(["STOCK.SET", node, sku, "\(Int.random(in: 0...40, using: &generator))", "safety=\(Int.random(in: 0...3, using: &generator))"]))
            case 85..<87: steps.append(.command(["RESERVE", "NOPE", "1"]))
            case 87..<89: steps.append(.command(["STOCK.TRANSFER", node, nodes.randomElement(using: &generator)!, sku, "\(Int.random(in: 1...3, using: &generator))"]))
            case 89:
                switch Int.random(in: 0..<3, using: &generator) {
                case 0:
                    steps.append(.command(["TRANSFER.RECEIVE", "T\(Int.random(in: 1...5, using: &generator))"]))
                case 1:
                    // A flash sale's terms come and go: a limit per customer, a window.
                    let start = manualClockStart + Int64.random(in: -3_600...7_200, using: &generator)
                    steps.append(.command([
                        "SKU.ADD", sku, "price=\(100 + Int.random(in: 0...50, using: &generator))", "limit=\(Int.random(in: 1...6, using: &generator))",
                        "sale_start=\(start)", "sale_end=\(start + Int64.random(in: 60...20_000, using: &generator))",
                    ]))
                default:
                    let strategy = ["cost", "fastest", "priority"].randomElement(using: &generator)!
                    steps.append(.command(["ROUTING.SET", "strategy=\(strategy)", "split=\(Bool.random(using: &generator) ? "yes" : "no")", "exclude=\(node)"]))
                }
            case 90..<92: steps.append(.command(["STOCK.GET", sku]))
            case 92..<94:
                let order = "O-\(Int.random(in: 1...30, using: &generator))"
                let other = "SKU-\(Int.random(in: 0..<skuCount, using: &generator))"
                let lines = other == sku ? "\(sku):1" : "\(sku):\(Int.random(in: 1...3, using: &generator)),\(other):1"
                var create = ["ORDER.CREATE", order, "channel=web", "customer=C-\(Int.random(in: 1...5, using: &generator))", "lines=\(lines)", "ship=39.9526,-75.1652"]
                if Int.random(in: 0..<3, using: &generator) == 0 { create.append("reservations=\(someReservation)") }
                steps.append(.command(create))
            case 94: steps.append(.command(["ORDER.CANCEL", "O-\(Int.random(in: 1...30, using: &generator))"]))
            default: steps.append(.advanceClock(seconds: Int64.random(in: 1...90, using: &generator)))
            }
        }
        return steps
    }

    /// What the generator remembers so that shipments mostly take their next step.
    struct LifecycleMemory {
        var isPickup: [String: Bool] = [:]
        var nextStep: [String: Int] = [:]
    }

    private static func lifecycleCommand(sku: String, skuCount: Int, memory: inout LifecycleMemory, generator: inout SeededGenerator) -> [String] {
        let order = "O-\(Int.random(in: 1...10, using: &generator))"
        let shipment = "\(order)-S\(Int.random(in: 0..<5, using: &generator) == 0 ? 2 : 1)"
        let returned = "\(order)-R\(Int.random(in: 1...2, using: &generator))"
        switch Int.random(in: 0..<100, using: &generator) {
        case 0..<25:
            let other = "SKU-\(Int.random(in: 0..<skuCount, using: &generator))"
            let lines = other == sku ? "\(sku):1" : "\(sku):\(Int.random(in: 1...3, using: &generator)),\(other):1"
            let channel = ["web", "mobile", "marketplace", "callcenter"].randomElement(using: &generator)!
            var create = ["ORDER.CREATE", order, "channel=\(channel)", "customer=C-\(Int.random(in: 1...6, using: &generator))", "lines=\(lines)"]
            let pickup = memory.isPickup[order] ?? (Int.random(in: 0..<4, using: &generator) == 0)
            if memory.isPickup[order] == nil { memory.isPickup[order] = pickup }
            if pickup {
                create += ["mode=pickup", "store=ST-1"]
            } else {
                create.append(["ship=39.9526,-75.1652", "ship=34.05,-118.24", "ship=47.6062,-122.3321"].randomElement(using: &generator)!)
            }
            create.append(["payment=tok_visa_4242", "payment=tok_visa_4242", "payment=tok_decline", "payment=tok_fail", "service=express", ""]
                .randomElement(using: &generator)!)
            create.removeAll(where: \.isEmpty)
            return create
        case 25..<65:
            let path = memory.isPickup[order] == true
                ? ["SHIPMENT.PICK", "SHIPMENT.PACK", "SHIPMENT.READY", "SHIPMENT.PICKEDUP"]
                : ["SHIPMENT.PICK", "SHIPMENT.PACK", "SHIPMENT.SHIP", "SHIPMENT.DELIVER"]
            // Mostly the next step of the shipment's path, sometimes any step.
            guard Int.random(in: 0..<5, using: &generator) > 0 else {
                return [(path + ["SHIPMENT.SHIP", "SHIPMENT.READY"]).randomElement(using: &generator)!, shipment]
            }
            let next = memory.nextStep[shipment, default: 0]
            memory.nextStep[shipment] = next + 1
            return [path[next % path.count], shipment]
        case 65..<67: return ["ORDER.CANCEL", order]
        case 67..<69: return ["ORDER.HOLD", order, "reason=review"]
        case 69..<77: return ["ORDER.UNHOLD", order]
        case 77:
            return ["FRAUD.SET", "amount_max=\([0, 0, 2_000].randomElement(using: &generator)!)", "orders_max=\(Int.random(in: 0...3, using: &generator))",
                    "distance_max=\([0, 1_000].randomElement(using: &generator)!)"]
        case 78..<82: return ["ORDER.EDIT", order, "lines=\(sku):\(Int.random(in: 1...2, using: &generator))"]
        case 82..<90:
            var open = ["RETURN.OPEN", order, "lines=\(sku):1"]
            if Bool.random(using: &generator) { open.append("node=\(nodes.randomElement(using: &generator)!)") }
            if Int.random(in: 0..<4, using: &generator) == 0 { open.append("exchange=SKU-\(Int.random(in: 0..<skuCount, using: &generator)):1") }
            return open
        case 90..<96: return ["RETURN.RECEIVE", returned, "condition=\(Bool.random(using: &generator) ? "resellable" : "damaged")"]
        case 96..<98: return ["KPI"]
        default: return ["NODE.ADD", "WH-1", "kind=warehouse", "lat=40.7128", "lon=-74.006", "capacity=\(Int.random(in: 0...4, using: &generator))"]
        }
    }
}
