import OrderlineCore
import Testing

@Test func idempotentRetriesReturnTheFirstReplyAndChangeNothing() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 2 idem=cart-1") == "$R1")
    let lsn = core.lsn
    #expect(core.run("RESERVE HOT 2 idem=cart-1") == "$R1")
    #expect(core.lsn == lsn)
    #expect(core.state.inventory["HOT"]?.networkReserved == 2)
    #expect(core.run("RESERVE HOT 3 idem=cart-1") == "-CONFLICT idempotency key 'cart-1' was used for another command: RESERVE HOT 2 node= ttl=900")
    #expect(core.run("RESERVE HOT 1 node=WH idem=scan-1") == "$R2")
    #expect(core.run("COMMIT R2 idem=sale-1") == "+OK")
    #expect(core.run("COMMIT R2 idem=sale-1") == "+OK")
    #expect(core.state.inventory["HOT"]?.levels["WH"]?.onHand == 4)
    // Rejections are not remembered: a retry is decided again.
    #expect(core.run("RESERVE HOT 99 idem=big") == "-SOLDOUT HOT available=4")
    #expect(core.run("RESERVE HOT 1 idem=big") == "$R3")
}

@Test func idempotencyKeysLeaveTheWindowDeterministically() throws {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 1 idem=k1 ttl=10") == "$R1")
    core.now += OrderlineState.idempotencyWindowSeconds
    // The window has passed: the key is free again, and the next record drops it.
    #expect(core.run("RESERVE HOT 1 idem=k1 ttl=10") == "$R2")
    #expect(core.state.idempotencyOrder.count == 1)
    let restored = try OrderlineState.decodeCanonical(core.state.canonicalEncoding())
    #expect(restored.digest == core.state.digest)
    #expect(restored.idempotencyKeys["k1"]?.reply == .bulk("R2"))
}

/// Every core command against every role: allowed, or NOPERM.
@Test func roleMatrix() {
    var core = CoreDriver.withNetwork()
    core.run("RESERVE HOT 1 node=ST")  // R1 at the store, no owner
    core.run("RESERVE HOT 1")  // R2, a network cart, no owner
    let commands: [(String, Command)] = [
        ("NODE.ADD", .nodeAdd(NodeUpdate(id: "X", kind: .store, location: Coordinate(latitudeMicrodegrees: 0, longitudeMicrodegrees: 0)))),
        ("NODE.GET", .nodeGet("ST")), ("NODE.LIST", .nodeList), ("SKU.ADD", .skuAdd(SKU(id: "X", priceCents: 1))),
        ("SKU.GET", .skuGet("HOT")), ("STOCK.SET", .stockSet(node: "ST", sku: "HOT", onHand: 9, safety: nil, expectedOnHand: nil)),
        ("STOCK.ADJUST", .stockAdjust(node: "ST", sku: "HOT", delta: 1, reason: "")), ("STOCK.GET", .stockGet(sku: "HOT", node: nil)),
        ("RESERVE@ST", .reserve(sku: "HOT", quantity: 1, node: "ST", ttlSeconds: 60, idempotencyKey: nil)),
        ("RESERVE@net", .reserve(sku: "HOT", quantity: 1, node: nil, ttlSeconds: 60, idempotencyKey: nil)),
        ("RELEASE R1", .release(ReservationID(1))), ("COMMIT R1", .commit(ReservationID(1), idempotencyKey: nil)),
        ("RESERVATION.GET R1", .reservationGet(ReservationID(1))), ("RELEASE R2", .release(ReservationID(2))),
        ("RESERVATION.GET R2", .reservationGet(ReservationID(2))),
        ("ROUTING.GET", .routingGet), ("ROUTING.SET", .routingSet(RoutingRulesUpdate())),
        ("CARRIER.LIST", .carrierList),
        ("CARRIER.SET", .carrierSet(CarrierService(carrier: "C", name: "s", baseCents: 1, perKmMillicents: 1, perKgCents: 1, bands: []))),
    ]
    let allowed: [Role: Set<String>] = [
        .admin: Set(commands.map(\.0)),
        .ops: Set(commands.map(\.0)),
        .viewer: ["NODE.GET", "NODE.LIST", "SKU.GET", "STOCK.GET", "RESERVATION.GET R1", "RESERVATION.GET R2", "ROUTING.GET", "CARRIER.LIST"],
        .pos(node: "ST"): ["NODE.GET", "NODE.LIST", "SKU.GET", "STOCK.GET", "RESERVE@ST", "RELEASE R1", "COMMIT R1", "RESERVATION.GET R1"],
        .pos(node: "WH"): ["NODE.GET", "NODE.LIST", "SKU.GET", "STOCK.GET"],
        .channel("web"): ["SKU.GET", "STOCK.GET", "RESERVE@net"],
        .customer("C-1"): [],
    ]
    for (role, expected) in allowed {
        for (name, command) in commands {
            let rejection = core.state.authorize(command, as: role)
            #expect((rejection == nil) == expected.contains(name), "\(role) \(name): \(rejection?.description ?? "allowed")")
            if let rejection { #expect(rejection.code == .noPermission) }
        }
    }
}

@Test func aChannelSeesOnlyItsOwnReservations() {
    var state = CoreDriver.withNetwork().state
    let context = DecisionContext(now: 1_000, nextReservationID: ReservationID(1), role: .channel("web"))
    guard case .success(let decision) = state.decide(.reserve(sku: "HOT", quantity: 1, node: nil, ttlSeconds: 60, idempotencyKey: nil), context: context) else {
        Issue.record("reserve failed")
        return
    }
    for event in decision.events { state.apply(event, at: state.lsn + 1) }
    #expect(state.reservations[ReservationID(1)]?.owner == "channel:web")
    #expect(state.authorize(.release(ReservationID(1)), as: .channel("web")) == nil)
    #expect(state.authorize(.release(ReservationID(1)), as: .channel("mobile"))?.code == .noPermission)
    #expect(Role("pos:ST-1") == .pos(node: "ST-1"))
    #expect(Role("pos:") == nil)
    #expect(Role("root") == nil)
}

@Test func idempotencyKeysAreScopedToTheirRole() {
    var state = CoreDriver.withNetwork().state
    func reserve(_ role: Role, key: String) -> Reply? {
        let command = Command.reserve(sku: "HOT", quantity: 1, node: nil, ttlSeconds: 60, idempotencyKey: key)
        guard case .success(let decision) = state.decide(command, context: state.decisionContext(now: 1_000, role: role)) else { return nil }
        for event in decision.events { state.apply(event, at: state.lsn + 1) }
        return decision.reply
    }
    #expect(reserve(.channel("web"), key: "cart-1") == .bulk("R1"))
    #expect(reserve(.channel("app"), key: "cart-1") == .bulk("R2"), "another channel's key space")
    #expect(reserve(.channel("web"), key: "cart-1") == .bulk("R1"))
    #expect(state.timeLast == 1_000)
}
