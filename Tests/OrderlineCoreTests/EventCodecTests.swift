import OrderlineCore
import OrderlineTestSupport
import Testing

let sampleEvents: [Event] = [
    .nodeUpserted(Node(
        id: "WH-RENO", kind: .warehouse,
        location: Coordinate(latitudeMicrodegrees: 39_529_600, longitudeMicrodegrees: -119_813_800),
        ships: true, offersPickup: false, acceptsReturns: true, capacityPerDay: 40_000, handlingCostCents: 250)),
    .skuUpserted(SKU(id: "SKU-1", priceCents: 1999, weightGrams: 350, name: "Mug \"ceramic\" ☕")),
    .stockSet(node: "WH-RENO", sku: "SKU-1", onHand: 1_000_000_000, safety: 3),
    .stockAdjusted(node: "WH-RENO", sku: "SKU-1", delta: -1_000_000_000, reason: "shrink"),
    .reservationCreated(Reservation(
        id: ReservationID(UInt64.max), sku: "SKU-1", quantity: 2, node: nil, createdAt: 1_767_225_600, expiresAt: 1_767_226_500)),
    .reservationCreated(Reservation(
        id: ReservationID(7), sku: "SKU-1", quantity: 1, node: "ST-1", createdAt: -5, expiresAt: Int64.max)),
    .reservationReleased(ReservationID(1)),
    .reservationCommitted(ReservationID(2)),
    .reservationExpired(ReservationID(3), at: 1_767_226_500),
]

@Test(arguments: sampleEvents)
func everyEventRoundTrips(event: Event) throws {
    #expect(try Event(decoding: event.encoded) == event)
}

@Test(arguments: sampleEvents)
func everyTruncationIsAnErrorNotACrash(event: Event) {
    let bytes = event.encoded
    for length in 0..<bytes.count {
        #expect(throws: DecodingError.self) { try Event(decoding: Array(bytes[0..<length])) }
    }
}

@Test func unknownTagIsAClearError() {
    #expect(throws: DecodingError("unknown event tag 200 at offset 0")) { try Event(decoding: [200, 1, 2]) }
}

@Test func randomBytesNeverCrashTheDecoder() {
    for seed in UInt64(1)...300 {
        var generator = SeededGenerator(seed: seed)
        let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Either outcome is fine; trapping is not.
        _ = try? Event(decoding: bytes)
    }
}
