@testable import OrderlineCore
import Testing

/// A held cart keeps the catalogue's copy of its SKU's name, not one of its own: a
/// name over 15 bytes is a heap object, and a copy per cart was half of what a held
/// cart cost in memory. Checked by where the names' bytes live, for a reservation that
/// is created and one loaded from a snapshot.
@Test func cartsShareTheirSKUsName() {
    let name = "SKU-000000000123-LONG"
    var state = OrderlineState()
    state.apply(.skuUpserted(SKU(id: name, priceCents: 100)), at: 1)
    state.apply(.stockSet(node: "WH", sku: name, onHand: 10, safety: 0), at: 2)
    func storage(_ text: String) -> UnsafeRawPointer? {
        text.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
    }
    let catalogue = storage(state.skus.keys.first!)
    // A name built apart, as a decoded command or event brings it.
    func separateCopy() -> String { String(decoding: Array(name.utf8), as: UTF8.self) }
    #expect(storage(separateCopy()) != catalogue)

    let created = Reservation(id: ReservationID(1), sku: separateCopy(), quantity: 1, node: nil, createdAt: 0, expiresAt: 60)
    state.apply(.reservationCreated(created), at: 3)
    #expect(storage(state.reservations[ReservationID(1)]!.sku) == catalogue)

    let loaded = Reservation(id: ReservationID(2), sku: separateCopy(), quantity: 1, node: nil, createdAt: 0, expiresAt: 60)
    state.load(reservation: loaded)
    #expect(storage(state.reservations[ReservationID(2)]!.sku) == catalogue)
    #expect(state.reservations[ReservationID(2)]!.sku == name)
}
