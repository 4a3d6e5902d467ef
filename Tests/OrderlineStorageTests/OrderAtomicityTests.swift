import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// An order that converts three carts on three SKUs, stocked at three nodes, is one
/// decision: its events are one batch, and a batch is never split across WAL frames.
/// A crash at any byte of that frame recovers either the whole order or none of it:
/// never an order without its carts converted, never stock held by an order that was
/// not acknowledged.
@Test func anOrderAcrossSKUsAndNodesIsAllOrNothingAtEveryCrashPoint() async throws {
    let original = TemporaryDirectory()
    let engine = try await openEngine(original.path)
    for line in [
        "NODE.ADD WH kind=warehouse lat=40.7128 lon=-74.006", "NODE.ADD LA kind=warehouse lat=34.05 lon=-118.24",
        "NODE.ADD ST kind=store lat=41.8781 lon=-87.6298",
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5",
        "SKU.ADD A price=100", "SKU.ADD B price=200", "SKU.ADD C price=300",
        "STOCK.SET WH A 5", "STOCK.SET LA B 5", "STOCK.SET ST C 5",
        "RESERVE A 2", "RESERVE B 1", "RESERVE C 3",
    ] {
        let reply = await run(engine, line)
        #expect(!reply.hasPrefix("-"), "\(line): \(reply)")
    }
    let placed = await run(engine, "ORDER.CREATE O-1 channel=web customer=C-1 lines=A:2,B:1,C:3 ship=39.95,-75.16 reservations=R1,R2,R3")
    #expect(placed.contains(#""status":"allocated""#), "\(placed)")
    let acknowledged = await engine.stateForInspection
    #expect(Set(acknowledged.orders["O-1"]?.shipments.map(\.node) ?? []) == ["WH", "LA", "ST"], "three nodes")
    await engine.close()

    let segment = try #require(try segmentPaths(original.path).last)
    let bytes = read(segment)
    let lastFrame = try #require(frameOffsets(bytes).last)
    var outcomes: [Bool: Int] = [:]
    for cut in lastFrame...bytes.count {
        let directory = original.crashedWhileWritingTheLastFrame()
        write(Array(bytes[0..<cut]), to: try #require(try segmentPaths(directory.path).last))
        let state = try recover(directory.path).state
        #expect(state.checkInvariants(), "cut at \(cut)")
        let allocated = ["A", "B", "C"].reduce(Int64(0)) { total, sku in
            total + (state.inventory[sku]?.levels.values.reduce(0) { $0 + $1.allocated } ?? 0)
        }
        let carts = [1, 2, 3].map { state.reservations[ReservationID(UInt64($0))]?.status }
        if cut == bytes.count {
            #expect(state.digest == acknowledged.digest)
        }
        outcomes[state.orders["O-1"] != nil, default: 0] += 1
        if state.orders["O-1"] != nil {
            #expect(allocated == 6 && carts.allSatisfy { $0 == .converted }, "cut at \(cut): the whole order")
        } else {
            #expect(allocated == 0 && carts.allSatisfy { $0 == .held }, "cut at \(cut): none of it")
            #expect(["A", "B", "C"].allSatisfy { state.inventory[$0]?.networkReserved ?? 0 > 0 }, "cut at \(cut): the carts still hold")
        }
    }
    #expect(outcomes[true] == 1 && outcomes[false] == bytes.count - lastFrame, "only the whole frame recovers the order: \(outcomes)")
}
