import OrderlineCore
import Testing

/// What a driver needs of a core value: the whole state and the sharded one both
/// decide, apply and say when the next hold expires.
protocol DrivenState {
    var nextExpiring: (id: ReservationID, expiresAt: Timestamp)? { get }
    func decisionContext(now: Timestamp, role: Role, quotas: OwnerQuotas) -> DecisionContext
    mutating func decide(_ command: Command, context: DecisionContext) -> Result<Decision, Rejection>
    mutating func apply(_ event: Event, at lsn: LSN)
}

extension OrderlineState: DrivenState {}
extension ShardedState: DrivenState {}

/// A core value driven the way the shell drives it: expiries first, then decide,
/// then apply, with ids and time as inputs.
struct Driver<State: DrivenState> {
    var state: State
    var now: Timestamp = 1_000
    var lsn: LSN = 0
    /// Every event applied, with its LSN: the log this run would have written.
    var logged: [ShardedState.Logged] = []

    @discardableResult
    mutating func run(_ line: String) -> String {
        while let next = state.nextExpiring, next.expiresAt <= now { apply(state.decide(.expireDue, context: context)) }
        let command: Command
        do {
            command = try CommandTable.parse(try InlineTokenizer.tokenize(line))
        } catch {
            return "-\(error)"
        }
        let outcome = state.decide(command, context: context)
        apply(outcome)
        switch outcome {
        case .success(let decision): return decision.reply.description
        case .failure(let rejection): return "-\(rejection)"
        }
    }

    private var context: DecisionContext {
        state.decisionContext(now: now, role: .admin, quotas: OwnerQuotas())
    }

    private mutating func apply(_ outcome: Result<Decision, Rejection>) {
        guard case .success(let decision) = outcome else { return }
        for event in decision.events {
            lsn += 1
            state.apply(event, at: lsn)
            logged.append((lsn, event))
        }
    }
}

typealias CoreDriver = Driver<OrderlineState>

extension Driver where State == OrderlineState {
    init() { state = OrderlineState() }

    static func withNetwork() -> CoreDriver {
        var driver = CoreDriver()
        for line in [
            "NODE.ADD WH kind=warehouse lat=40.7128 lon=-74.006",
            "NODE.ADD ST kind=store lat=41.8781 lon=-87.6298",
            "SKU.ADD HOT price=49999 weight=4200",
            "STOCK.SET WH HOT 5",
            "STOCK.SET ST HOT 3 safety=1",
        ] {
            #expect(driver.run(line) == "+OK" || driver.run(line).hasPrefix(":"))
        }
        return driver
    }
}

@Test func networkReservationsNeverOversell() {
    var core = CoreDriver.withNetwork()
    // Network ATP = 5 (WH) + 2 (ST: 3 on hand less 1 safety).
    #expect(core.run("RESERVE HOT 4") == "$R1")
    #expect(core.run("RESERVE HOT 3") == "$R2")
    #expect(core.run("RESERVE HOT 1") == "-SOLDOUT HOT available=0")
    #expect(core.state.inventory["HOT"]?.networkReserved == 7)
}

@Test func nodeReservationsRespectBothTheNodeAndTheNetwork() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 3 node=ST") == "-SOLDOUT HOT available=2")
    #expect(core.run("RESERVE HOT 6") == "$R1")
    // The store still has 2 ATP, but carts hold 6 of the network's 7.
    #expect(core.run("RESERVE HOT 2 node=ST") == "-SOLDOUT HOT available=1")
    #expect(core.run("RESERVE HOT 1 node=ST") == "$R2")
    #expect(core.run("RESERVE HOT 1") == "-SOLDOUT HOT available=0")
}

@Test func commitSellsAndReleaseGivesBack() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 2 node=WH") == "$R1")
    #expect(core.run("COMMIT R1") == "+OK")
    #expect(core.run("COMMIT R1") == "+OK")
    #expect(core.run("RELEASE R1") == "-CONFLICT reservation R1 is committed")
    #expect(core.state.inventory["HOT"]?.levels["WH"] == StockLevel(onHand: 3))
    #expect(core.run("RESERVE HOT 1") == "$R2")
    #expect(core.run("RELEASE R2") == "+OK")
    #expect(core.run("RELEASE R2") == "+OK")
    #expect(core.run("COMMIT R2") == "-CONFLICT reservation R2 holds network stock; an order converts it, COMMIT does not")
    #expect(core.run("RELEASE R9") == "-NOTFOUND reservation R9")
}

@Test func stockChangesCannotStrandHeldUnits() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 3 node=WH") == "$R1")
    #expect(core.run("STOCK.SET WH HOT 2") == "-CONFLICT on_hand=2 is below the 3 units committed for HOT at WH")
    #expect(core.run("STOCK.ADJUST WH HOT -3") == "-CONFLICT on_hand=2 is below the 3 units committed for HOT at WH")
    #expect(core.run("RESERVE HOT 4") == "$R2")
    // Carts hold 4; ATP is WH 2 + ST 2 = 4: dropping ST below safety would strand one.
    #expect(core.run("STOCK.ADJUST ST HOT -1") == "-CONFLICT network reservations hold 4 of HOT; the change would leave 3")
    #expect(core.run("STOCK.SET WH HOT 9 expect=4") == "-CONFLICT expect=4 but on_hand=5 for HOT at WH")
    #expect(core.run("STOCK.SET WH HOT 9 expect=5") == ":6")
}

@Test func expiryIsAnEventAtTheExpiryTimeInOrder() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("RESERVE HOT 2 ttl=60") == "$R1")
    #expect(core.run("RESERVE HOT 2 ttl=30") == "$R2")
    #expect(core.run("RESERVE HOT 3 ttl=30") == "$R3")
    #expect(core.run("RESERVE HOT 1") == "-SOLDOUT HOT available=0")
    let lsnBefore = core.lsn
    core.now += 30
    #expect(core.run("RESERVE HOT 5") == "$R4")
    // R2 and R3 expired, in expiry-then-id order, before R4 was decided.
    #expect(core.lsn == lsnBefore + 3)
    #expect(core.state.reservations[ReservationID(2)]?.status == .expired)
    #expect(core.state.reservations[ReservationID(3)]?.status == .expired)
    #expect(core.state.reservations[ReservationID(1)]?.status == .held)
    #expect(core.run("RESERVATION.GET R2") == "$" + #"{"id":"R2","sku":"HOT","qty":2,"node":null,"status":"expired","created_at":1000,"expires_at":1030}"#)
}

@Test func transfersMoveStockThroughTransit() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("STOCK.TRANSFER WH ST HOT 6") == "-SOLDOUT HOT available=5")
    #expect(core.run("RESERVE HOT 6") == "$R1")
    // Carts hold 6 of the network's 7: moving 2 into transit would strand one.
    #expect(core.run("STOCK.TRANSFER WH ST HOT 2") == "-CONFLICT network reservations hold 6 of HOT; the change would leave 5")
    #expect(core.run("RELEASE R1") == "+OK")
    #expect(core.run("STOCK.TRANSFER WH ST HOT 2 idem=move-1") == "$T1")
    #expect(core.run("STOCK.TRANSFER WH ST HOT 2 idem=move-1") == "$T1")
    #expect(core.state.inventory["HOT"]?.levels["WH"] == StockLevel(onHand: 3))
    #expect(core.state.inventory["HOT"]?.levels["ST"] == StockLevel(onHand: 3, safety: 1, inTransit: 2))
    #expect(core.run("TRANSFER.RECEIVE T1") == "+OK")
    #expect(core.run("TRANSFER.RECEIVE T1") == "+OK")
    #expect(core.state.inventory["HOT"]?.levels["ST"] == StockLevel(onHand: 5, safety: 1))
    #expect(core.run("TRANSFER.GET T1") == "$" + #"{"id":"T1","from":"WH","to":"ST","sku":"HOT","qty":2,"status":"received","shipped_at":1000}"#)
    #expect(core.run("TRANSFER.RECEIVE T9") == "-NOTFOUND transfer T9")
    #expect(core.run("STOCK.TRANSFER WH WH HOT 1") == "-INVALID a transfer needs two different nodes")
    // What arrives must fit under the cap of 10^9 on hand: before, a receipt pushed on
    // hand past it, and after that even a decrease failed.
    #expect(core.run("STOCK.SET ST HOT 999999999") == ":999999998")
    #expect(core.run("STOCK.TRANSFER WH ST HOT 2") == "-INVALID on_hand and in_transit of HOT at ST would exceed 1000000000")
    #expect(core.run("STOCK.TRANSFER WH ST HOT 1") == "$T2")
    #expect(core.run("STOCK.ADJUST ST HOT 1") == ":999999999")
    #expect(core.run("TRANSFER.RECEIVE T2") == "-CONFLICT receiving 1 would put on_hand of HOT at ST past 1000000000")
    #expect(core.run("STOCK.ADJUST ST HOT -1") == ":999999998")
    #expect(core.run("TRANSFER.RECEIVE T2") == "+OK")
}

@Test func routingRulesAreSetAsLoggedEvents() throws {
    var core = CoreDriver.withNetwork()
    #expect(core.run("ROUTING.GET") == "$" + #"{"strategy":"cost","split":true,"split_penalty":500,"ship_from_store":true,"exclude":[],"priority":[],"backorder":true}"#)
    let lsn = core.lsn
    #expect(core.run("ROUTING.SET strategy=fastest split=no exclude=ST priority=WH,ST") == "+OK")
    #expect(core.lsn == lsn + 1)
    #expect(core.run("ROUTING.SET split=no") == "+OK")
    #expect(core.lsn == lsn + 1, "no change, no event")
    #expect(core.run("ROUTING.GET") == "$" + #"{"strategy":"fastest","split":false,"split_penalty":500,"ship_from_store":true,"exclude":["ST"],"priority":["WH","ST"],"backorder":true}"#)
    #expect(core.run("ROUTING.SET strategy=cheapest") == "-INVALID strategy 'cheapest' must be cost, fastest or priority")
    #expect(core.run("ROUTING.SET exclude=NOPE") == "-NOTFOUND node NOPE")
    #expect(core.run("ROUTING.SET priority=WH,WH") == "-INVALID priority names one id twice")
    #expect(core.run("ROUTING.SET") == "-INVALID ROUTING.SET needs at least one key=value")
    #expect(core.run("ROUTING.SET exclude=") == "+OK")
    let restored = try OrderlineState.decodeCanonical(core.state.canonicalEncoding())
    #expect(restored.routingRules == core.state.routingRules)
    #expect(restored.digest == core.state.digest)
}

@Test func carrierServicesFormTheRateCard() throws {
    var core = CoreDriver.withNetwork()
    #expect(core.run("CARRIER.SET ZED ground base=650 per_km=120 per_kg=45 bands=300:1,800:2") == "+OK")
    #expect(core.run("CARRIER.SET ACME express base=1400 per_km=350 per_kg=90 bands=1200:1") == "+OK")
    let lsn = core.lsn
    #expect(core.run("CARRIER.SET ACME express base=1400 per_km=350 per_kg=90 bands=1200:1") == "+OK")
    #expect(core.lsn == lsn, "unchanged, nothing logged")
    #expect(core.run("CARRIER.SET ZED ground base=700 per_km=120 per_kg=45 bands=300:1,800:2") == "+OK")
    #expect(core.state.rateCard.services.map { "\($0.carrier)/\($0.name)/\($0.baseCents)" } == ["ACME/express/1400", "ZED/ground/700"])
    #expect(core.run("CARRIER.LIST") == "$" + #"[{"carrier":"ACME","service":"express","base":1400,"per_km_millicents":350,"per_kg":90,"bands":[{"km_max":1200,"days":1}]},{"carrier":"ZED","service":"ground","base":700,"per_km_millicents":120,"per_kg":45,"bands":[{"km_max":300,"days":1},{"km_max":800,"days":2}]}]"#)
    #expect(core.run("CARRIER.SET ZED ground base=1 per_km=1 per_kg=1 bands=800:2,300:1") == "-INVALID bands must grow in km")
    #expect(core.run("CARRIER.SET ZED ground base=1 per_km=1 per_kg=1 bands=50000:2") == "-INVALID band '50000:2' must be <km 1-40075>:<days 1-30>")
    #expect(core.run("CARRIER.SET ZED ground base=1 per_km=1 per_kg=1") == "-INVALID CARRIER.SET needs bands=")
    let restored = try OrderlineState.decodeCanonical(core.state.canonicalEncoding())
    #expect(restored.rateCard == core.state.rateCard)
    #expect(restored.digest == core.state.digest)
}

@Test func unchangedUpsertsLogNothing() {
    var core = CoreDriver.withNetwork()
    let lsn = core.lsn
    #expect(core.run("NODE.ADD WH kind=warehouse lat=40.7128 lon=-74.006") == "+OK")
    #expect(core.run("STOCK.SET WH HOT 5") == ":5")
    #expect(core.lsn == lsn)
}

@Test func readsReplyWithJSON() {
    var core = CoreDriver.withNetwork()
    #expect(core.run("STOCK.GET HOT ST") == "$" + #"{"sku":"HOT","atp":2,"network_reserved":0,"nodes":[{"node":"ST","on_hand":3,"reserved":0,"allocated":0,"safety":1,"in_transit":0,"atp":2}]}"#)
    #expect(core.run("NODE.GET ST") == "$" + #"{"id":"ST","kind":"store","lat":41.8781,"lon":-87.6298,"ship":true,"pickup":true,"returns":true,"capacity":0,"cost":0}"#)
    #expect(core.run("SKU.GET NOPE") == "-NOTFOUND sku NOPE")
}
