@testable import OrderlineCore
import Testing

/// `OrderRequest.fingerprint` is written into every order on disk and compared with
/// each retry of the order: its text is frozen. Pinned here as literals, and against
/// the formula it was first written with, over every shape of request.
@Suite struct OrderRequestFingerprintTests {
    static let requests: [OrderRequest] = [
        OrderRequest(
            id: "O-1", channel: .web, customer: "C-1", lines: [("HOT", 2), ("MUG", 1)],
            destination: Coordinate(latitudeMicrodegrees: 40_712_800, longitudeMicrodegrees: -74_006_000),
            address: "1 Main St, Philadelphia", paymentToken: "tok_visa_4242"),
        OrderRequest(
            id: "O-2", channel: .pos, customer: "C-2", lines: [("TEE", 3)], destination: nil, pickupStore: "ST-1",
            service: .express, reservations: [ReservationID(7), ReservationID(12)]),
        OrderRequest(id: "O-3", channel: .marketplace, customer: "C-3", lines: [], destination: nil, paymentToken: "short"),
    ]

    @Test func theTextIsFrozen() {
        #expect(Self.requests[0].fingerprint == "web C-1 HOT:2,MUG:1 40.7128,-74.006 - standard - 1 Main St, Philadelphia tok_…4242")
        #expect(Self.requests[1].fingerprint == "pos C-2 TEE:3 - ST-1 express R7,R12  -")
    }

    @Test(arguments: requests) func itIsTheFormulaItWasFirstWrittenWith(request: OrderRequest) {
        let lineText = request.lines.map { "\($0.sku):\($0.quantity)" }.joined(separator: ",")
        let carts = request.reservations.isEmpty ? "-" : request.reservations.map(\.description).joined(separator: ",")
        let first = "\(request.channel.rawValue) \(request.customer) \(lineText) \(request.destination?.description ?? "-") "
            + "\(request.pickupStore ?? "-") \(request.service.rawValue) \(carts) \(request.address) "
            + "\(request.paymentToken.map(PaymentSimulator.mask) ?? "-")"
        #expect(request.fingerprint == first)
    }
}
