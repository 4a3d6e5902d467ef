/// The order lifecycle's commands after capture: holds, edits, shipments, returns,
/// invoices, KPIs and fraud rules (PROTOCOL.md, Orders to Returns and analytics).
extension CommandTable {
    static let lifecycleSpecs: [CommandSpec] = [
        CommandSpec("ORDER.STATUS", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .orderStatus(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("ORDER.EDIT", positional: 1...1, options: ["ship", "address", "lines"], writes: true) { arguments throws(Rejection) in
            let edit = OrderEdit(
                id: try arguments.identifier(at: 0, "order"),
                destination: try arguments.option("ship").map { v throws(Rejection) in try Arguments.coordinate(v, "ship") },
                address: try arguments.option("address").map { v throws(Rejection) in try Arguments.text(v, "address") },
                lines: try arguments.option("lines").map { v throws(Rejection) in try Arguments.skuQuantities(v) })
            guard edit.destination != nil || edit.address != nil || edit.lines != nil else {
                throw .invalid("ORDER.EDIT needs ship=, address= or lines=")
            }
            return .orderEdit(edit)
        },
        CommandSpec("ORDER.ALLOCATE", positional: 1...1, writes: true) { arguments throws(Rejection) in
            .orderAllocate(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("ORDER.HOLD", positional: 1...1, options: ["reason"], writes: true) { arguments throws(Rejection) in
            .orderHold(try arguments.identifier(at: 0, "order"), reason: try Arguments.text(try arguments.required("reason"), "reason"))
        },
        CommandSpec("ORDER.UNHOLD", positional: 1...1, writes: true) { arguments throws(Rejection) in
            .orderUnhold(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("INVOICE.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .invoiceGet(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("SHIPMENT.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .shipmentGet(try Arguments.childID(arguments.positional[0], kind: "S", "shipment"))
        },
        CommandSpec("SHIPMENT.LIST", positional: 0...0, options: ["node", "status", "limit"], writes: false) { arguments throws(Rejection) in
            var status: Shipment.Status?
            if let text = arguments.option("status") {
                guard let known = Shipment.Status(rawValue: text.lowercased()), known.isInWorkQueue else {
                    throw .invalid("status '\(text.prefix(40))' must be one of \(Shipment.Status.allCases.filter(\.isInWorkQueue).map(\.rawValue).joined(separator: ", "))")
                }
                status = known
            }
            return .shipmentList(
                node: try Arguments.identifier(try arguments.required("node"), "node"), status: status,
                limit: Int(try arguments.option("limit").map { v throws(Rejection) in
                    try Arguments.integer(v, "limit", in: 1...Int64(OrderlineState.orderListLimitMax))
                } ?? 100))
        },
    ] + Shipment.Transition.allCases.map { transition in
        CommandSpec(
            transition.rawValue, positional: 1...1, options: transition == .ship ? ["carrier", "service", "tracking"] : [], writes: true
        ) { arguments throws(Rejection) in
            .shipmentAdvance(
                try Arguments.childID(arguments.positional[0], kind: "S", "shipment"), transition,
                booking: ShipmentBooking(
                    carrier: try arguments.option("carrier").map { v throws(Rejection) in try Arguments.identifier(v, "carrier") },
                    service: try arguments.option("service").map { v throws(Rejection) in try Arguments.identifier(v, "service") },
                    tracking: try arguments.option("tracking").map { v throws(Rejection) in try Arguments.identifier(v, "tracking") }))
        }
    } + [
        CommandSpec("RETURN.OPEN", positional: 1...1, options: ["lines", "node", "reason", "exchange"], writes: true) { arguments throws(Rejection) in
            .returnOpen(ReturnRequest(
                order: try arguments.identifier(at: 0, "order"),
                lines: try Arguments.skuQuantities(try arguments.required("lines")),
                node: try arguments.option("node").map { v throws(Rejection) in try Arguments.identifier(v, "node") },
                reason: try arguments.option("reason").map { v throws(Rejection) in try Arguments.text(v, "reason") } ?? "",
                exchange: try arguments.option("exchange").map { v throws(Rejection) in try Arguments.skuQuantities(v) } ?? []))
        },
        CommandSpec("RETURN.RECEIVE", positional: 1...1, options: ["condition"], writes: true) { arguments throws(Rejection) in
            let text = arguments.option("condition") ?? "resellable"
            guard let condition = OrderReturn.Condition(rawValue: text.lowercased()) else {
                throw .invalid("condition '\(text.prefix(40))' must be resellable or damaged")
            }
            return .returnReceive(try Arguments.childID(arguments.positional[0], kind: "R", "return"), condition)
        },
        CommandSpec("RETURN.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .returnGet(try Arguments.childID(arguments.positional[0], kind: "R", "return"))
        },
        CommandSpec("KPI", positional: 0...0, options: ["channel", "from", "to"], writes: false) { arguments throws(Rejection) in
            var channel: Order.Channel?
            if let text = arguments.option("channel") {
                guard let known = Order.Channel(rawValue: text.lowercased()) else { throw .invalid("channel '\(text.prefix(40))' is unknown") }
                channel = known
            }
            let from = try arguments.option("from").map { v throws(Rejection) in try Arguments.integer(v, "from", in: 0...Arguments.timestampMax) }
            let to = try arguments.option("to").map { v throws(Rejection) in try Arguments.integer(v, "to", in: 1...Arguments.timestampMax) }
            if let from, let to, from >= to { throw .invalid("from=\(from) must be before to=\(to)") }
            return .kpi(channel: channel, from: from, to: to)
        },
        CommandSpec("FRAUD.GET", positional: 0...0, writes: false) { _ throws(Rejection) in .fraudGet },
        CommandSpec(
            "FRAUD.SET", positional: 0...0, options: ["amount_max", "orders_max", "window", "block", "unblock", "distance_max"], writes: true
        ) { arguments throws(Rejection) in
            var update = FraudRulesUpdate()
            update.amountMaxCents = try arguments.option("amount_max").map { v throws(Rejection) in
                try Arguments.integer(v, "amount_max", in: 0...Arguments.moneyMax)
            }
            update.ordersMax = try arguments.option("orders_max").map { v throws(Rejection) in
                try Arguments.integer(v, "orders_max", in: 0...Int64(CustomerHistory.placementsMax))
            }
            update.windowSeconds = try arguments.option("window").map { v throws(Rejection) in
                try Arguments.integer(v, "window", in: 1...Arguments.ttlSecondsMax * 30)
            }
            update.distanceMaxKm = try arguments.option("distance_max").map { v throws(Rejection) in
                try Arguments.integer(v, "distance_max", in: 0...40_000)
            }
            update.block = try arguments.option("block").map { v throws(Rejection) in try Arguments.nodeList(v, "block") } ?? []
            update.unblock = try arguments.option("unblock").map { v throws(Rejection) in try Arguments.nodeList(v, "unblock") } ?? []
            guard update != FraudRulesUpdate() else { throw .invalid("FRAUD.SET needs at least one key=value") }
            return .fraudSet(update)
        },
    ]
}

extension Shipment.Status {
    /// Statuses a node still has work in (or a parcel on its way): `SHIPMENT.LIST`.
    public var isInWorkQueue: Bool { self != .delivered && self != .pickedUp && self != .cancelled }
}
