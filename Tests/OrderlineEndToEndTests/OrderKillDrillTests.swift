import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// kill -9 of the real server while clients turn carts into 3-line orders whose lines
/// sit at three nodes and on three shards (`--shards 4`, then 8, then 4 again). After
/// each restart: every acknowledged order is there; every order in the state has its
/// carts converted and holds exactly its own allocations; no cart is converted
/// without its order; nothing else holds stock; replay into 1 and 8 shards agrees.
@Test(.timeLimit(.minutes(5)))
func everyAcknowledgedOrderSurvivesKillDashNineAndNothingElseHoldsStock() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    var acknowledged: [String] = []
    // Three SKUs on three different shards of four.
    let four = ShardMap(shardCount: 4)
    var skus: [String] = []
    for candidate in (0..<100).map({ "SKU-\($0)" }) where !skus.contains(where: { four.shard(of: $0) == four.shard(of: candidate) }) {
        skus.append(candidate)
        if skus.count == 3 { break }
    }
    let (a, b, c) = (skus[0], skus[1], skus[2])
    for round in 1...3 {
        let server = try ServerProcess(data: data, arguments: ["--shards", round == 2 ? "8" : "4"])
        let setup = try server.client()
        if round == 1 {
            for line in [
                ["NODE.ADD", "EAST", "kind=warehouse", "lat=40.6", "lon=-75.5"], ["NODE.ADD", "MID", "kind=warehouse", "lat=35.1", "lon=-90.0"],
                ["NODE.ADD", "WEST", "kind=warehouse", "lat=39.5", "lon=-119.8"],
                ["CARRIER.SET", "GROUND", "standard", "base=500", "per_km=100", "per_kg=50", "bands=1000:2,3000:3,5000:5"],
                ["SKU.ADD", a, "price=100"], ["SKU.ADD", b, "price=200"], ["SKU.ADD", c, "price=300"],
                ["STOCK.SET", "EAST", a, "100000"], ["STOCK.SET", "MID", b, "100000"], ["STOCK.SET", "WEST", c, "100000"],
            ] {
                #expect(try setup.readReplyAfterSending(line).map { if case .error = $0 { false } else { true } } == true, "\(line)")
            }
        }
        for id in acknowledged { #expect(try setup.call("ORDER.GET", id).contains(#""status":"allocated""#), "round \(round): \(id) lost") }
        acknowledged += acknowledgedUntilKilled(server, clients: 6, attempts: 300, killAt: 40 * round) { client, index, attempt in
            guard case .bulk(let first?) = try? client.readReplyAfterSending(["RESERVE", a, "1"]),
                  case .bulk(let second?) = try? client.readReplyAfterSending(["RESERVE", b, "1"])
            else { return nil }
            let id = "O\(round)-\(index)-\(attempt)"
            guard case .bulk(let order?) = try? client.readReplyAfterSending([
                "ORDER.CREATE", id, "channel=web", "customer=C-\(index)", "lines=\(a):1,\(b):1,\(c):1", "ship=39.95,-75.16",
                "reservations=\(first),\(second)",
            ]) else { return nil }
            return order.contains(#""status":"allocated""#) ? [id] : []
        }

        // Read the directory as recovery sees it (the server is dead).
        let state = try Recovery.recover(DataDirectory(path: data), options: Recovery.Options(mode: .repair)).state
        #expect(state.checkInvariants())
        var sharded = Recovery.Options(mode: .readOnly)
        sharded.shardCount = 8
        #expect(try Recovery.recover(DataDirectory(path: data), options: sharded, as: ShardedState.self).state.digest == state.digest)
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
        for sku in skus {
            let allocated = state.inventory[sku]?.levels.values.reduce(0) { $0 + $1.allocated } ?? 0
            #expect(allocated == ordersAllocated[sku, default: 0], "round \(round) \(sku): allocated \(allocated) but orders hold \(ordersAllocated[sku, default: 0])")
        }
    }
    #expect(acknowledged.count > 100)
}
