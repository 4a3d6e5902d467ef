import OrderlineCore
import Testing

/// The network of `CoreDriver.withNetwork` (WH in New York: 5 HOT; ST in Chicago: 3
/// HOT, safety 1, pickup) with one carrier, and a second SKU.
func orderNetwork() -> CoreDriver {
    var core = CoreDriver.withNetwork()
    for line in [
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5",
        "SKU.ADD MUG price=1500 weight=400",
        "STOCK.SET ST MUG 10",
        "NODE.ADD ST kind=store lat=41.8781 lon=-87.6298 pickup=yes",
    ] {
        let reply = core.run(line)
        #expect(reply == "+OK" || reply.hasPrefix(":"), "\(line): \(reply)")
    }
    return core
}

let philadelphiaShipTo = "ship=39.9526,-75.1652"

@Test func anOrderIsRoutedAllocatedAndExplained() {
    var core = orderNetwork()
    let reply = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:2 \(philadelphiaShipTo)")
    #expect(reply.contains(#""status":"allocated""#), "\(reply)")
    #expect(reply.contains(#""allocations":[{"sku":"HOT","node":"WH","qty":2}]"#))
    #expect(reply.contains(#""total":99998"#))
    #expect(core.state.inventory["HOT"]?.levels["WH"] == StockLevel(onHand: 5, allocated: 2))
    #expect(core.run("STOCK.GET HOT WH").contains(#""atp":3"#))
    let explanation = core.run("ORDER.EXPLAIN O-1")
    #expect(explanation.contains(#""rule":"cost: WH has every line at the lowest cost""#), "\(explanation)")
    #expect(explanation.contains(#""node":"ST""#) && explanation.contains(#""node":"WH""#))
}

@Test func theOrderIDIsTheIdempotencyKey() {
    var core = orderNetwork()
    let first = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 \(philadelphiaShipTo)")
    let lsn = core.lsn
    #expect(core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 \(philadelphiaShipTo)") == first)
    #expect(core.lsn == lsn, "the same order again changes nothing")
    #expect(core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:2 \(philadelphiaShipTo)").hasPrefix("-CONFLICT order O-1 exists with other content"))
}

@Test func cancellingReleasesExactlyWhatWasHeld() {
    var core = orderNetwork()
    _ = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:2,MUG:3 \(philadelphiaShipTo)")
    let held = core.state.inventory.mapValues { $0.levels.mapValues(\.allocated) }
    #expect(held.values.flatMap(\.values).reduce(0, +) == 5)
    #expect(core.run(#"ORDER.CANCEL O-1 "reason=changed mind""#) == "+OK")
    #expect(core.state.inventory.values.flatMap { $0.levels.values.map(\.allocated) }.allSatisfy { $0 == 0 })
    #expect(core.run("ORDER.CANCEL O-1") == "+OK")
    #expect(core.run("ORDER.GET O-1").contains(#""status":"cancelled""#))
    #expect(core.run("ORDER.CANCEL O-9") == "-NOTFOUND order O-9")
}

@Test func whatCannotBePromisedIsBackordered() {
    var core = orderNetwork()
    // 5 at WH + 2 at ST (3 less safety 1): 7 in all.
    let reply = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:9 \(philadelphiaShipTo)")
    #expect(reply.contains(#""status":"backordered""#), "\(reply)")
    #expect(reply.contains(#""backordered":[{"sku":"HOT","node":null,"qty":2}]"#), "\(reply)")
    // Carts hold network stock: an order cannot take it.
    var carts = orderNetwork()
    #expect(carts.run("RESERVE HOT 6") == "$R1")
    let limited = carts.run("ORDER.CREATE O-2 channel=web customer=C-2 lines=HOT:3 \(philadelphiaShipTo)")
    #expect(limited.contains(#""allocations":[{"sku":"HOT","node":"WH","qty":1}]"#), "\(limited)")
    #expect(carts.state.checkInvariants())
}

@Test func pickupOrdersAllocateAtTheChosenStore() {
    var core = orderNetwork()
    let reply = core.run("ORDER.CREATE O-1 channel=pos customer=C-9 lines=MUG:2 mode=pickup store=ST")
    #expect(reply.contains(#""allocations":[{"sku":"MUG","node":"ST","qty":2}]"#), "\(reply)")
    #expect(reply.contains(#""mode":"pickup","store":"ST""#))
    #expect(core.run("ORDER.CREATE O-2 channel=web customer=C-9 lines=MUG:1 mode=pickup store=WH") == "-INVALID store=WH does not offer pickup")
}

@Test func ordersAreListedByFilter() {
    var core = orderNetwork()
    _ = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 \(philadelphiaShipTo)")
    _ = core.run("ORDER.CREATE O-2 channel=mobile customer=C-2 lines=MUG:1 \(philadelphiaShipTo)")
    _ = core.run("ORDER.CREATE O-3 channel=web customer=C-1 lines=MUG:1 \(philadelphiaShipTo)")
    _ = core.run("ORDER.CANCEL O-3")
    #expect(core.run("ORDER.LIST customer=C-1").components(separatedBy: #""channel":"#).count - 1 == 2)
    #expect(core.run("ORDER.LIST channel=mobile").contains(#""id":"O-2""#))
    #expect(core.run("ORDER.LIST status=cancelled").components(separatedBy: #""channel":"#).count - 1 == 1)
    #expect(core.run("ORDER.LIST limit=1").components(separatedBy: #""channel":"#).count - 1 == 1)
}

@Test(arguments: [
    ("ORDER.CREATE O-1 channel=web customer=C lines=HOT:1", "-INVALID ORDER.CREATE needs ship=<lat>,<lon> (or mode=pickup store=<node>)"),
    ("ORDER.CREATE O-1 channel=fax customer=C lines=HOT:1 ship=1,2", "-INVALID channel 'fax' must be one of web, mobile, marketplace, pos, callcenter, edi, b2b"),
    ("ORDER.CREATE O-1 channel=web customer=C lines=HOT:1,HOT:2 ship=1,2", "-INVALID lines name HOT twice"),
    ("ORDER.CREATE O-1 channel=web customer=C lines=HOT ship=1,2", "-INVALID line 'HOT' must be <sku>:<qty>"),
    ("ORDER.CREATE O-1 channel=web customer=C lines=NOPE:1 ship=1,2", "-NOTFOUND sku NOPE"),
    ("ORDER.CREATE O-1 channel=web customer=C lines=HOT:1 mode=pickup", "-INVALID store= goes with mode=pickup, and mode=pickup needs store="),
    ("ORDER.CREATE O-1 channel=web customer=C lines=HOT:1 ship=91,2", "-INVALID ship latitude '91' must be decimal degrees within ±90, at most 6 decimals"),
])
func badOrdersAreRejectedClearly(line: String, expected: String) {
    var core = orderNetwork()
    #expect(core.run(line) == expected)
}

@Test func rolesScopeOrders() {
    var core = orderNetwork()
    _ = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 \(philadelphiaShipTo)")
    let create = Command.orderCreate(OrderRequest(id: "O-2", channel: .mobile, customer: "C-1", lines: [("HOT", 1)], destination: nil))
    #expect(core.state.authorize(create, as: .channel("web"))?.code == .noPermission)
    #expect(core.state.authorize(create, as: .channel("mobile")) == nil)
    #expect(core.state.authorize(.orderGet("O-1"), as: .customer("C-1")) == nil)
    // Another customer's order answers as if it did not exist: NOPERM would reveal it.
    #expect(core.state.authorize(.orderGet("O-1"), as: .customer("C-2")) == .notFound("order O-1"))
    #expect(core.state.authorize(.orderGet("O-1"), as: .channel("mobile")) == .notFound("order O-1"))
    #expect(core.state.authorize(.shipmentGet(ChildID(order: "O-1", number: 1, kind: "S")), as: .customer("C-2")) == .notFound("shipment O-1-S1"))
    #expect(core.run("ORDER.CREATE O-1-R1-X channel=web customer=C-1 lines=HOT:1") == "-INVALID order id O-1-R1-X is kept for the exchange of return O-1-R1")
    #expect(core.state.authorize(.orderList(status: nil, customer: nil, channel: nil, limit: 10), as: .customer("C-1"))?.code == .noPermission)
    #expect(core.state.authorize(.orderList(status: nil, customer: "C-1", channel: nil, limit: 10), as: .customer("C-1")) == nil)
    #expect(core.state.authorize(.orderCancel("O-1"), as: .customer("C-1"))?.code == .noPermission)
    #expect(core.state.authorize(.orderCancel("O-1"), as: .viewer)?.code == .noPermission)
    #expect(core.state.authorize(.orderGet("O-1"), as: .viewer) == nil)
}

@Test func aCartIsConvertedIntoTheOrder() {
    var core = orderNetwork()
    #expect(core.run("RESERVE HOT 6 ttl=600") == "$R1")
    // The cart holds 6 of the network's 7: without it an order gets 1 unit at most.
    #expect(core.run("ORDER.CREATE O-0 channel=web customer=C-0 lines=HOT:2 \(philadelphiaShipTo)").contains(#""backordered":[{"sku":"HOT","node":null,"qty":1}]"#))
    _ = core.run("ORDER.CANCEL O-0")
    #expect(core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:2 reservations=R1 \(philadelphiaShipTo)")
        == "-CONFLICT reservations hold more HOT than the order's lines (2)")
    let reply = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:6 reservations=R1 \(philadelphiaShipTo)")
    #expect(reply.contains(#""status":"allocated""#), "\(reply)")
    #expect(reply.contains(#""reservations":["R1"]"#))
    #expect(core.state.reservations[ReservationID(1)]?.status == .converted)
    #expect(core.state.inventory["HOT"]?.networkReserved == 0)
    #expect(core.state.inventory["HOT"]?.levels.values.map(\.allocated).reduce(0, +) == 6)
    #expect(core.state.checkInvariants())
    // A retry is the same order; the cart cannot be used twice.
    #expect(core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:6 reservations=R1 \(philadelphiaShipTo)") == reply)
    #expect(core.run("ORDER.CREATE O-2 channel=web customer=C-1 lines=HOT:1 reservations=R1 \(philadelphiaShipTo)") == "-CONFLICT reservation R1 is converted")
    #expect(core.run("RELEASE R1") == "-CONFLICT reservation R1 is converted")
    #expect(core.run("ORDER.CREATE O-3 channel=web customer=C-1 lines=HOT:1 reservations=R9 \(philadelphiaShipTo)") == "-NOTFOUND reservation R9")
}

@Test func paymentIsAuthorisedAtCaptureAndADeclineHoldsNothing() {
    var core = orderNetwork()
    let paid = core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=MUG:2 payment=tok_4242424242 \(philadelphiaShipTo)")
    #expect(paid.contains(#""payment":{"token":"tok_…4242","status":"authorized","amount":3000,"captured":0,"refunded":0,"reason":""}"#), "\(paid)")
    #expect(core.run("RESERVE HOT 2") == "$R1")
    let declined = core.run("ORDER.CREATE O-2 channel=web customer=C-1 lines=HOT:2 reservations=R1 payment=tok_decline \(philadelphiaShipTo)")
    #expect(declined.contains(#""status":"rejected""#) && declined.contains(#""allocations":[]"#), "\(declined)")
    #expect(declined.contains(#""reason":"declined by the issuer""#))
    #expect(core.state.reservations[ReservationID(1)]?.status == .held, "the cart stays a cart")
    #expect(core.state.inventory["HOT"]?.levels.values.map(\.allocated).reduce(0, +) == 0)
    #expect(core.run("ORDER.CREATE O-3 channel=web customer=C-1 lines=MUG:1 payment=tok_fail \(philadelphiaShipTo)").contains(#""reason":"payment gateway unavailable""#))
    #expect(core.run("ORDER.CANCEL O-2") == "+OK")
    #expect(core.run("ORDER.GET O-2").contains(#""status":"rejected""#))
    #expect(core.run("ORDER.LIST status=rejected").components(separatedBy: #""channel":"#).count - 1 == 2)
    // The retry of a rejected order is the same rejected order.
    #expect(core.run("ORDER.CREATE O-2 channel=web customer=C-1 lines=HOT:2 reservations=R1 payment=tok_decline \(philadelphiaShipTo)") == declined)
}
