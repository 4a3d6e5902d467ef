import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")

/// The same seeded workload, one request at a time with a manual clock, to a server
/// with one shard and to one with four: the same reply to every request, the same
/// digest, the same `INFO orders`.
@Test(arguments: [UInt64(3), 4])
func oneShardAndFourShardsAnswerAlike(seed: UInt64) throws {
    let servers = try [1, 4].map { shards in
        try ServerProcess(data: TemporaryDirectory().path, arguments: ["--clock", "manual", "--shards", "\(shards)"])
    }
    let clients = try servers.map { try $0.client() }
    func send(_ tokens: [String]) throws {
        let replies = try clients.map { try $0.readReplyAfterSending(tokens)?.description ?? "(closed)" }
        #expect(replies[0] == replies[1], "seed \(seed): \(tokens.joined(separator: " "))")
    }
    for command in RandomWorkload.setup(skuCount: 10) { try send(command) }
    var generator = SeededGenerator(seed: seed)
    for step in RandomWorkload.steps(count: 600, skuCount: 10, orderHeavy: seed % 2 == 0, generator: &generator) {
        switch step {
        case .command(let tokens): try send(tokens)
        case .advanceClock(let seconds): try send(["CLOCK.ADVANCE", "\(seconds)"])
        }
    }
    try send(["DIGEST"])
    try send(["INFO", "orders"])
    let shards = try clients[1].call("INFO", "shards")
    #expect(shards.contains("shards:4\r\n") && shards.contains("shard_loops:1\r\n") && shards.contains("shard_3:skus="), "\(shards)")
    for server in servers { #expect(server.stop() == 0) }
}

/// Many pipelining clients on four shards: flash-sale reservations on a hot SKU, and
/// 3-line orders whose lines sit on three shards. Afterwards the live digest is what
/// `orderline replay` computes with 1 and with 8 shards, every (SKU, node) allocates
/// exactly what the orders hold, and nothing was oversold.
@Test(.timeLimit(.minutes(5)))
func concurrentCrossShardOrdersReplayToTheLiveDigest() throws {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--shards", "4"])
    let four = ShardMap(shardCount: 4)
    var skus: [String] = []
    for candidate in (0..<100).map({ "SKU-\($0)" }) where !skus.contains(where: { four.shard(of: $0) == four.shard(of: candidate) }) {
        skus.append(candidate)
    }
    let hot = skus[3]
    let setup = try server.client()
    for tokens in [
        ["NODE.ADD", "EAST", "kind=warehouse", "lat=40.6", "lon=-75.5"], ["NODE.ADD", "WEST", "kind=warehouse", "lat=39.5", "lon=-119.8"],
        ["CARRIER.SET", "GROUND", "standard", "base=500", "per_km=100", "per_kg=50", "bands=1000:2,3000:3,5000:5"],
    ] + skus.flatMap({ [["SKU.ADD", $0, "price=100"], ["STOCK.SET", "EAST", $0, "400"], ["STOCK.SET", "WEST", $0, "300"]] }) {
        #expect(try setup.readReplyAfterSending(tokens).map { if case .error = $0 { false } else { true } } == true, "\(tokens)")
    }
    let port = server.port
    let (lines, stockHot) = ("\(skus[0]):1,\(skus[1]):2,\(skus[2]):1", Int64(700))
    let counts = runOnThreads(8) { index -> (reserved: Int, ordered: Int) in
        guard let client = try? RESPTestClient(port: port) else { return (0, 0) }
        var reserved = 0
        var ordered = 0
        for batch in 0..<30 {
            // A pipeline of 8: reservations of the hot SKU and orders across shards.
            var requests: [[String]] = []
            for slot in 0..<8 {
                requests.append(slot % 2 == 0
                    ? ["RESERVE", hot, "1"]
                    : ["ORDER.CREATE", "O-\(index)-\(batch)-\(slot)", "channel=web", "customer=C-\(index)", "lines=\(lines)", "ship=39.95,-75.16"])
            }
            for request in requests { try? client.send(request) }
            for request in requests {
                guard case .bulk(let reply?)? = try? client.readReply() else { continue }
                if request[0] == "RESERVE" { reserved += 1 } else if reply.contains(#""status":"allocated""#) { ordered += 1 }
            }
        }
        return (reserved, ordered)
    }
    let reserved = counts.reduce(0) { $0 + $1.reserved }
    let ordered = counts.reduce(0) { $0 + $1.ordered }
    #expect(reserved == Int(stockHot), "the hot SKU sells out exactly")
    #expect(ordered > 100)
    let live = try setup.call("DIGEST")
    let info = try setup.call("INFO", "shards")
    #expect(info.contains("cross_shard_order_events:"), "\(info)")
    #expect(!info.contains("cross_shard_order_events:0\r\n"), "\(info)")
    let kpi = try setup.call("KPI")
    #expect(kpi.contains(#""oversell_count":0"#), "\(kpi)")
    #expect(server.stop() == 0)

    for shards in ["1", "8"] {
        let replay = try runProcess(orderline, ["replay", directory.path, "--digest", "--shards", shards])
        #expect(replay.status == 0, "\(replay.standardError)")
        #expect(live == "$" + (replay.standardOutput.split(separator: "\n").last.map(String.init) ?? ""), "replay with \(shards) shard(s)")
    }
    let state = try Recovery.recover(DataDirectory(path: directory.path), options: .init(mode: .readOnly)).state
    #expect(state.checkInvariants())
    var held: [String: Int64] = [:]
    for order in state.orders.values {
        for unit in order.allocations { held["\(unit.sku)@\(unit.node)", default: 0] += unit.quantity }
    }
    for (sku, item) in state.inventory {
        for (node, level) in item.levels {
            #expect(level.allocated == held["\(sku)@\(node)", default: 0], "\(sku) at \(node)")
        }
    }
}
