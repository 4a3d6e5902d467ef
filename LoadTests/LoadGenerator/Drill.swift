import ArgumentParser
import Foundation
import OrderlineProtocol

/// The kill -9 drill: runs `orderline serve` as a child, reserves under load from many
/// connections, kills the server with SIGKILL at a random moment, restarts it and
/// checks that every acknowledged reservation is held and that no counter went wrong.
/// With `--orders`, the load is 3-line orders at three warehouses, and the check is
/// that every acknowledged order is there and each SKU's allocated units are exactly
/// one per order the server holds (none held by an order it lost). Repeats K times on
/// the same data directory.
struct Drill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "kill -9 the server under load, restart, check every acknowledged reservation.")

    @Option(help: "The orderline executable.") var server = ".build/release/orderline"
    @Option(help: "Data directory (created; must not be in use).") var data = "/tmp/orderline-drill"
    @Option(help: "Kill/restart rounds.") var rounds = 5
    @Option(name: .customShort("c"), help: "Connections.") var connections = 16
    @Option(name: .customShort("P"), help: "Pipeline depth.") var pipeline = 8
    @Option(help: "Random seed for the kill moments (printed, so a failure can be replayed).") var seed: UInt64 = 1
    @Option(help: "Port for the child server (127.0.0.1).") var port = 7410
    @Flag(help: "Orders (3 lines at 3 warehouses) instead of reservations.") var orders = false

    static let orderSKUs = ["DRILL-A", "DRILL-B", "DRILL-C"]

    func run() async throws {
        var generator = SplitMix(seed: seed)
        print("drill: seed \(seed), \(rounds) rounds, \(connections) connections, pipeline \(pipeline)")
        var acknowledged = Set<String>()
        for round in 1...rounds {
            let child = try startServer()
            if round == 1 {
                var setup = [
                    ["NODE.ADD", "DRILL-WH", "kind=warehouse", "lat=1", "lon=2"], ["SKU.ADD", "DRILL", "price=1"],
                    ["STOCK.SET", "DRILL-WH", "DRILL", "1000000000"],
                    ["CARRIER.SET", "DRILLCO", "ground", "base=500", "per_km=100", "per_kg=50", "bands=2000:2,5000:4"],
                    ["FRAUD.SET", "amount_max=0", "orders_max=0", "distance_max=0"],
                ]
                for (index, sku) in Self.orderSKUs.enumerated() {
                    setup += [
                        ["NODE.ADD", "DRILL-\(index)", "kind=warehouse", "lat=\(35 + index * 3)", "lon=\(-80 - index * 15)"],
                        ["SKU.ADD", sku, "price=\(100 * (index + 1))"], ["STOCK.SET", "DRILL-\(index)", sku, "1000000000"],
                    ]
                }
                _ = try await SimpleConnection(host: "127.0.0.1", port: port).call(setup)
            }
            try await check(acknowledged, round: round)
            let requests = (0..<connections).map { connection in
                (0..<(orders ? 20_000 : 100_000)).map { index in
                    orders
                        ? ["ORDER.CREATE", "D\(round)-\(connection)-\(index)", "channel=web", "customer=DC-\(connection)",
                           "lines=DRILL-A:1,DRILL-B:1,DRILL-C:1", "ship=38.9,-77.0"]
                        : ["RESERVE", "DRILL", "1", "ttl=86400"]
                }
            }
            // The clock starts once the requests are built (orders take a while to build).
            let killAfter = Double(generator.next() % 1_500 + 200) / 1_000
            let pid = child.processIdentifier
            let killer = Task {
                try? await Task.sleep(for: .seconds(killAfter))
                kill(pid, SIGKILL)
            }
            let outcome = try? await PipelinedRunner(host: "127.0.0.1", port: port).run(connections: requests, pipelineDepth: pipeline, tolerateClose: true)
            _ = await killer.value
            child.waitUntilExit()
            var acknowledgedNow = 0
            for (connection, replies) in (outcome?.replies ?? []).enumerated() {
                for (index, reply) in replies.enumerated() {
                    guard case .bulk(let text?) = reply else { continue }
                    if orders {
                        guard text.contains(#""status":"allocated""#) else { continue }
                        acknowledged.insert("D\(round)-\(connection)-\(index)")
                    } else {
                        acknowledged.insert(text)
                    }
                    acknowledgedNow += 1
                }
            }
            print("round \(round): killed after \(killAfter) s; \(acknowledgedNow) \(orders ? "orders" : "reservations") acknowledged before the kill")
        }
        let child = try startServer()
        try await check(acknowledged, round: rounds + 1)
        kill(child.processIdentifier, SIGTERM)
        child.waitUntilExit()
        guard child.terminationStatus == 0 else { throw LoadError("the server exited \(child.terminationStatus) on SIGTERM") }
        print("drill passed: \(acknowledged.count) acknowledged \(orders ? "orders all there" : "reservations all held") after \(rounds) kills")
    }

    private func startServer() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = ["serve", "--data", data, "--port", String(port)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("ready") else { throw LoadError("the server did not start") }
        return process
    }

    private func check(_ acknowledged: Set<String>, round: Int) async throws {
        if orders { return try await checkOrders(acknowledged, round: round) }
        let ids = acknowledged.sorted()
        let replies = try await SimpleConnection(host: "127.0.0.1", port: port).call(
            ids.map { ["RESERVATION.GET", $0] } + [["STOCK.GET", "DRILL"]])
        let lost = zip(ids, replies).filter { !$0.1.description.contains("\"status\":\"held\"") }.map(\.0)
        guard lost.isEmpty else { throw LoadError("round \(round): \(lost.count) acknowledged reservations lost, e.g. \(lost[0])") }
        let stock = replies.last?.description ?? ""
        func field(_ name: String) -> Int {
            stock.components(separatedBy: "\"\(name)\":").dropFirst().first.flatMap { Int($0.prefix(while: \.isNumber)) } ?? -1
        }
        // Conservation: what carts hold plus what is still available is all the stock.
        guard field("network_reserved") >= acknowledged.count, field("atp") + field("network_reserved") == 1_000_000_000 else {
            throw LoadError("round \(round): stock does not add up: \(stock.prefix(200))")
        }
    }
}

extension Drill {
    private func checkOrders(_ acknowledged: Set<String>, round: Int) async throws {
        let ids = acknowledged.sorted()
        let replies = try await SimpleConnection(host: "127.0.0.1", port: port).call(
            ids.map { ["ORDER.STATUS", $0] } + [["INFO", "orders"]] + Self.orderSKUs.map { ["STOCK.GET", $0] })
        let lost = zip(ids, replies).filter { !$0.1.description.contains("\"status\":\"allocated\"") }.map(\.0)
        guard lost.isEmpty else { throw LoadError("round \(round): \(lost.count) acknowledged orders lost, e.g. \(lost[0])") }
        let info = replies[ids.count].description
        let held = info.components(separatedBy: "orders:").dropFirst().first.flatMap { Int($0.prefix(while: \.isNumber)) } ?? -1
        guard held >= acknowledged.count else { throw LoadError("round \(round): the server holds \(held) orders, fewer than acknowledged") }
        // Every order holds one unit of each SKU: allocated units = orders held, exactly.
        for (sku, reply) in zip(Self.orderSKUs, replies.suffix(Self.orderSKUs.count)) {
            let allocated = reply.description.components(separatedBy: "\"allocated\":").dropFirst()
                .compactMap { Int($0.prefix(while: \.isNumber)) }.reduce(0, +)
            guard allocated == held else { throw LoadError("round \(round): \(sku) has \(allocated) allocated for \(held) orders") }
        }
    }
}

/// SplitMix64, for reproducible kill moments.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
