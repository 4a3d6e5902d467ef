import OrderlineCore
import OrderlineTestSupport
import Testing

/// `Event.typeNames` holds every event's name, as `EVENTS.READ … TYPES` checks them.
@Test(arguments: sampleEvents)
func everyEventsNameIsAKnownType(event: Event) {
    #expect(Event.typeNames.contains(event.name))
}

/// The state's time is the newest time stamped into the events applied (apply reads
/// `stampedTime`, as `restore --before` and `replay --find` do), and an order's
/// events name it.
@Test func stampedTimesAndOrderIDsAreWhatApplyAndTheFeedRead() {
    let events: [Event] = [
        .nodeUpserted(Node(id: "WH", kind: .warehouse, location: Coordinate(latitudeMicrodegrees: 1, longitudeMicrodegrees: 2))),
        .skuUpserted(SKU(id: "HOT", priceCents: 100)),
        .stockSet(node: "WH", sku: "HOT", onHand: 100, safety: 0),
        .reservationCreated(Reservation(id: ReservationID(1), sku: "HOT", quantity: 1, node: nil, createdAt: 1_000, expiresAt: 2_000)),
        .reservationCreated(Reservation(id: ReservationID(2), sku: "HOT", quantity: 1, node: nil, createdAt: 1_500, expiresAt: 2_500)),
        .stockSet(node: "WH", sku: "HOT", onHand: 90, safety: 0),
        .reservationExpired(ReservationID(1), at: 2_000),
        .reservationReleased(ReservationID(2)),
    ]
    var state = OrderlineState()
    var newest: Timestamp = 0
    for (index, event) in events.enumerated() {
        state.apply(event, at: LSN(index + 1))
        if let time = event.stampedTime { newest = max(newest, time) }
        #expect(state.timeLast == newest, "after \(event.name)")
    }
    #expect(state.timeLast == 2_000)
    #expect(Event.typeNames.count == 23)
    #expect(Event.orderCancelled("O-1", at: 5).orderID == "O-1")
    #expect(Event.reservationReleased(ReservationID(1)).orderID == nil)
}
