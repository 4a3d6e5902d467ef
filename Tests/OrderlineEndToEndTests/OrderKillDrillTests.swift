import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// kill -9 of the real server while clients turn carts into 3-line orders whose lines
/// sit at three nodes. After each restart: every acknowledged order is there; every
/// order in the state has its carts converted and holds exactly its own allocations;
/// no cart is converted without its order; nothing else holds stock.
@Test(.timeLimit(.minutes(5)))
func everyAcknowledgedOrderSurvivesKillDashNineAndNothingElseHoldsStock() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    var acknowledged: [String] = []
    for round in 1...3 {
        let server = try ServerProcess(data: data)
        let setup = try server.client()
        if round == 1 {
            for line in [
                ["NODE.ADD", "EAST", "kind=warehouse", "lat=40.6", "lon=-75.5"], ["NODE.ADD", "MID", "kind=warehouse", "lat=35.1", "lon=-90.0"],
                ["NODE.ADD", "WEST", "kind=warehouse", "lat=39.5", "lon=-119.8"],
                ["CARRIER.SET", "GROUND", "standard", "base=500", "per_km=100", "per_kg=50", "bands=1000:2,3000:3,5000:5"],
                ["SKU.ADD", "A", "price=100"], ["SKU.ADD", "B", "price=200"], ["SKU.ADD", "C", "price=300"],
                ["STOCK.SET", "EAST", "A", "100000"], ["STOCK.SET", "MID", "B", "100000"], ["STOCK.SET", "WEST", "C", "100000"],
            ] {
                #expect(try setup.readReplyAfterSending(line).map { if case .error = $0 { false } else { true } } == true, "\(line)")
            }
        }
        for id in acknowledged { #expect(try setup.call("ORDER.GET", id).contains(#""status":"allocated""#), "round \(round): \(id) lost") }
        acknowledged += acknowledgedUntilKilled(server, clients: 6, attempts: 300, killAt: 40 * round) { client, index, attempt in
            guard case .bulk(let first?) = try? client.readReplyAfterSending(["RESERVE", "A", "1"]),
                  case .bulk(let second?) = try? client.readReplyAfterSending(["RESERVE", "B", "1"])
            else { return nil }
            let id = "O\(round)-\(index)-\(attempt)"
            guard case .bulk(let order?) = try? client.readReplyAfterSending([
                "ORDER.CREATE", id, "channel=web", "customer=C-\(index)", "lines=A:1,B:1,C:1", "ship=39.95,-75.16",
                "reservations=\(first),\(second)",
            ]) else { return nil }
            return order.contains(#""status":"allocated""#) ? [id] : []
        }

        // Read the directory as recovery sees it (the server is dead).
        let state = try Recovery.recover(DataDirectory(path: data), options: Recovery.Options(mode: .repair)).state
        #expect(state.checkInvariants())
        for id in acknowledged { #expect(state.orders[id] != nil, "round \(round): \(id) lost") }
        var ordersAllocated: [String: Int64] = [:]
        var carts = Set<ReservationID>()
        for order in state.orders.values {
            for reservation in order.reservations {
                carts.insert(reservation)
                #expect(state.reservations[reservation]?.status == .converted, "\(order.id): cart \(reservation) not converted")
            }
            for unit in order.allocations { ordersAllocated[unit.sku, default: 0] += unit.quantity }
        }
        for reservation in state.reservations.values where reservation.status == .converted {
            #expect(carts.contains(reservation.id), "cart \(reservation.id) converted without its order")
        }
        for sku in ["A", "B", "C"] {
            let allocated = state.inventory[sku]?.levels.values.reduce(0) { $0 + $1.allocated } ?? 0
            #expect(allocated == ordersAllocated[sku, default: 0], "round \(round) \(sku): allocated \(allocated) but orders hold \(ordersAllocated[sku, default: 0])")
        }
    }
    #expect(acknowledged.count > 100)
}
