@testable import OrderlineCore
import Testing

// The numbers and names written to disk, as this test freezes them. If one of these
// fails, a change renumbered or renamed what old logs and snapshots hold: give the new
// case a new number or name instead (and see Tests/Fixtures for the old data this build
// must still read). docs/STORAGE.md shows the same tables.

@Test func eventTagsAreFrozen() {
    let frozen: [(Event.Tag, UInt8)] = [
        (.nodeUpserted, 1), (.skuUpserted, 2), (.stockSet, 3), (.stockAdjusted, 4), (.reservationCreated, 5),
        (.reservationReleased, 6), (.reservationCommitted, 7), (.reservationExpired, 8), (.idempotencyKeyRecorded, 9),
        (.transferShipped, 10), (.transferReceived, 11), (.routingRulesSet, 12), (.carrierServiceSet, 13), (.orderPlaced, 14),
        (.orderCancelled, 15), (.reservationConverted, 16), (.orderEdited, 17), (.orderHeld, 18), (.orderUnheld, 19),
        (.shipmentAdvanced, 20), (.returnOpened, 21), (.returnReceived, 22), (.fraudRulesSet, 23),
    ]
    #expect(frozen.count == Event.Tag.allCases.count)
    for (tag, number) in frozen { #expect(tag.rawValue == number, "\(tag)") }
    #expect(Event.codecVersion == 1)
}

@Test func snapshotRecordTagsAreFrozen() {
    let frozen: [(OrderlineState.RecordTag, UInt8)] = [
        (.node, 1), (.sku, 2), (.stockLevel, 3), (.networkReserved, 4), (.reservation, 5), (.counters, 6), (.endedReservations, 7),
        (.idempotencyRecord, 8), (.transfer, 9), (.routingRules, 10), (.carrierService, 11), (.order, 12), (.fraudRules, 13),
        (.customer, 14),
    ]
    #expect(frozen.count == OrderlineState.RecordTag.allCases.count)
    for (tag, number) in frozen { #expect(tag.rawValue == number, "\(tag)") }
    #expect(Reply.Tag.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
}

@Test func encodedEnumsAreFrozen() {
    #expect(Node.Kind.allCases.map(\.rawValue) == [0, 1, 2])
    #expect(Reservation.Status.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    #expect([Transfer.Status.inTransit, .received].map(\.rawValue) == [0, 1])
    #expect(Order.Channel.allCases.map(\.rawValue) == ["web", "mobile", "marketplace", "pos", "callcenter", "edi", "b2b"])
    #expect(Order.Status.allCases.map(\.rawValue) == [
        "on_hold", "rejected", "backordered", "allocated", "partially_shipped", "shipped", "delivered", "ready_for_pickup",
        "picked_up", "cancelled",
    ])
    #expect([Order.Payment.Status.authorized, .declined, .failed].map(\.rawValue) == ["authorized", "declined", "failed"])
    #expect(Order.Hold.Kind.allCases.map(\.rawValue) == ["amount", "velocity", "blocked_customer", "distance", "manual", "awaiting_return"])
    #expect(Shipment.Status.allCases.map(\.rawValue) == [
        "pending", "picked", "packed", "shipped", "delivered", "ready_for_pickup", "picked_up", "cancelled",
    ])
    #expect(OrderReturn.Status.allCases.map(\.rawValue) == ["open", "received", "refunded", "rejected"])
    #expect(OrderReturn.Condition.allCases.map(\.rawValue) == ["resellable", "damaged"])
    #expect(RoutingRules.Strategy.allCases.map(\.rawValue) == ["cost", "fastest", "priority"])
    #expect(ServiceLevel.allCases.map(\.rawValue) == ["standard", "express", "nextday"])
}
