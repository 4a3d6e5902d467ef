import ArgumentParser
import Foundation
import OrderlineCore

/// The core alone, no network and no disk: how long one flash-sale `RESERVE`, one
/// `ORDER.CREATE` (3 lines, routed over 3 warehouses) and one shipment step take to
/// parse, decide, apply and encode. Shows where a request's CPU time goes before the
/// server adds its own.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core", abstract: "Per-command cost of the pure core: parse, decide, apply, encode (RESERVE, ORDER.CREATE and SHIPMENT.*).")

    @Option(help: "Orders to place.") var orders = 100_000
    @Option(help: "SKUs the lines are drawn from.") var skus = 300
    @Option(help: "Network reservations to make first, over 1,000 SKUs (redis-benchmark's RESERVE mix).") var reservations = 1_000_000
    @Option(help: "Shards of the state (0: the whole, unsharded OrderlineState, to compare with).") var shards = 1
    @Option(help: "ORDER.CREATE's reply= (id, status or full).") var reply = "full"

    func run() throws {
        var whole = OrderlineState()
        var state = ShardedState(shardCount: max(1, shards))
        var lsn: LSN = 0
        var clock = Timings()
        func execute(_ tokens: [String], now: Timestamp, timed: Bool) -> Reply? {
            let start = DispatchTime.now().uptimeNanoseconds
            guard let command = try? CommandTable.parse(tokens) else { return nil }
            let parsed = DispatchTime.now().uptimeNanoseconds
            let outcome = shards == 0
                ? whole.decide(command, context: whole.decisionContext(now: now)) : state.decide(command, context: state.decisionContext(now: now))
            guard case .success(let decision) = outcome else { return nil }
            let decided = DispatchTime.now().uptimeNanoseconds
            var writer = BinaryWriter(capacity: 1_024)
            for event in decision.events { event.encode(into: &writer) }
            let encoded = DispatchTime.now().uptimeNanoseconds
            for event in decision.events {
                lsn += 1
                if shards == 0 { whole.apply(event, at: lsn) } else { state.apply(event, at: lsn) }
            }
            let applied = DispatchTime.now().uptimeNanoseconds
            if timed { clock.add(parse: parsed - start, decide: decided - parsed, encode: encoded - decided, apply: applied - encoded, bytes: writer.bytes.count) }
            return decision.reply
        }
        var setup: [[String]] = [["CARRIER.SET", "LOADCO", "ground", "base=600", "per_km=110", "per_kg=40", "bands=800:2,2000:3,5000:5"]]
        let warehouses = [("WH-EAST", "40.6084", "-75.4902"), ("WH-CENTRAL", "35.1495", "-90.049"), ("WH-WEST", "39.5296", "-119.8138")]
        for (node, lat, lon) in warehouses { setup.append(["NODE.ADD", node, "kind=warehouse", "lat=\(lat)", "lon=\(lon)"]) }
        for index in 0..<skus {
            setup.append(["SKU.ADD", "S-\(index)", "price=\(500 + index)", "weight=\(200 + index)"])
            for (node, _, _) in warehouses { setup.append(["STOCK.SET", node, "S-\(index)", "1000000"]) }
        }
        for index in 0..<1_000 {
            setup.append(["SKU.ADD", String(format: "SKU-%012d", index), "price=1"])
            setup.append(["STOCK.SET", "WH-EAST", String(format: "SKU-%012d", index), "1000000000"])
        }
        for tokens in setup { _ = execute(tokens, now: 1_000, timed: false) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<reservations {
            _ = execute(["RESERVE", String(format: "SKU-%012d", Int.random(in: 0..<1_000, using: &generator)), "1"], now: 1_500, timed: true)
        }
        print(shards == 0 ? "the whole state (unsharded)" : "\(shards) shard(s)")
        clock.print("RESERVE", count: reservations)
        clock = Timings()
        let destinations = ["40.7128,-74.006", "34.0522,-118.2437", "41.8781,-87.6298", "29.7604,-95.3698"]
        for index in 0..<orders {
            let first = index * 3 % skus
            let lines = [first, (first + 1) % skus, (first + 2) % skus].map { "S-\($0):1" }.joined(separator: ",")
            _ = execute(
                ["ORDER.CREATE", "O-\(index)", "channel=web", "customer=C-\(index % 1_000)", "lines=\(lines)",
                 "ship=\(destinations[index % destinations.count])", "payment=tok_visa_4242", "reply=\(reply)"], now: 2_000, timed: true)
        }
        clock.print("ORDER.CREATE reply=\(reply)", count: orders)
        clock = Timings()
        for index in 0..<orders {
            for step in ["SHIPMENT.PICK", "SHIPMENT.PACK", "SHIPMENT.SHIP", "SHIPMENT.DELIVER"] {
                _ = execute([step, "O-\(index)-S1"], now: 3_000, timed: true)
            }
        }
        clock.print("SHIPMENT.* step", count: orders * 4)
    }
}

private struct Timings {
    var parse: UInt64 = 0, decide: UInt64 = 0, encode: UInt64 = 0, apply: UInt64 = 0, bytes = 0

    mutating func add(parse: UInt64, decide: UInt64, encode: UInt64, apply: UInt64, bytes: Int) {
        self.parse += parse
        self.decide += decide
        self.encode += encode
        self.apply += apply
        self.bytes += bytes
    }

    func print(_ name: String, count: Int) {
        let total = parse + decide + encode + apply
        Swift.print(String(
            format: "%@: %.1f µs each (%.0f/s on one core): parse %.1f, decide %.1f, encode %.1f, apply %.1f; %d event bytes each",
            name, Double(total) / Double(count) / 1_000, Double(count) / (Double(total) / 1e9), Double(parse) / Double(count) / 1_000,
            Double(decide) / Double(count) / 1_000, Double(encode) / Double(count) / 1_000, Double(apply) / Double(count) / 1_000,
            bytes / max(1, count)))
    }
}
