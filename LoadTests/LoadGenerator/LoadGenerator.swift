import ArgumentParser
import Foundation
import Histogram
import NIOCore
import OrderlineProtocol

/// Load scenarios against a running server, speaking RESP. Every scenario checks the
/// invariants at the end and exits non-zero when one fails.
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderline-load",
        abstract: "Flash-sale and POS load against Orderline (or Redis + Lua), with invariant checks.",
        subcommands: [FlashSale.self, PointOfSale.self, Orders.self, Drill.self, Catalog.self, Failover.self, Feed.self, Report.self])
}

struct Target: ParsableArguments {
    @Option(help: "Server address (127.0.0.1 only in this project's tests).") var host = "127.0.0.1"
    @Option(help: "Server port.") var port = 7379
    @Option(help: "orderline | redis (Redis 7 with a Lua reservation script)") var target = "orderline"
    @Option(help: "A token to AUTH with first (Orderline with --auth).") var token: String?
}

func report(_ name: String, operations: Int, outcome: PipelinedRunner.Outcome) {
    let histogram = outcome.histogram
    // Replies refused by admission control (LIMIT busy) are not in the histogram.
    let recorded = Int(histogram.totalCount)
    print(String(
        format: "%@: %d ops in %.2f s = %.0f ops/s; latency us p50=%llu p99=%llu p99.9=%llu max=%llu%@",
        name, operations, outcome.seconds, Double(operations) / outcome.seconds,
        histogram.valueAtPercentile(50), histogram.valueAtPercentile(99), histogram.valueAtPercentile(99.9), histogram.max,
        recorded < operations ? " (of \(recorded) replies; LIMIT busy ones left out)" : ""))
}

struct FlashSale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash-sale",
        abstract: "C connections race to reserve H hot SKUs of S units each, N attempts in all.")

    @OptionGroup var server: Target
    @OptionGroup var latency: LatencyFiles
    @Option(name: .customShort("c"), help: "Connections.") var connections = 50
    @Option(name: .customShort("P"), help: "Pipeline depth per connection.") var pipeline = 1
    @Option(help: "Hot SKUs.") var skus = 5
    @Option(help: "Units of each hot SKU.") var stock = 1_000
    @Option(help: "Reservation attempts in all.") var attempts = 100_000
    @Flag(help: "Skip the setup (the SKUs exist with their stock).") var noSetup = false
    @Option(help: "Open loop at this many requests/s in all (spread over the connections) instead of as fast as replies come.")
    var rate: Int?

    func run() async throws {
        let runner = PipelinedRunner(host: server.host, port: server.port)
        let isRedis = server.target == "redis"
        let auth: [[String]] = server.token.map { [["AUTH", $0]] } ?? []
        let hot = (1...skus).map { "FLASH-\($0)" }
        var sha = ""
        if !noSetup {
            if isRedis {
                let script = """
                    local s = tonumber(redis.call('GET', KEYS[1]) or '0')
                    local q = tonumber(ARGV[1])
                    if s >= q then
                      redis.call('DECRBY', KEYS[1], q)
                      return 'R' .. redis.call('INCR', 'reservation:id')
                    end
                    return redis.error_reply('SOLDOUT ' .. KEYS[1] .. ' available=' .. s)
                    """
                var setup: [[String]] = [["FLUSHALL"], ["SCRIPT", "LOAD", script]]
                for sku in hot { setup.append(["SET", "stock:\(sku)", "\(stock)"]) }
                let replies = try await SimpleConnection(host: server.host, port: server.port).call(auth + setup)
                guard case .bulk(let loaded?) = replies[auth.count + 1] else { throw LoadError("SCRIPT LOAD failed: \(replies)") }
                sha = loaded
            } else {
                var setup: [[String]] = [["NODE.ADD", "FLASH-WH", "kind=warehouse", "lat=39.5296", "lon=-119.8138"]]
                for sku in hot {
                    setup.append(["SKU.ADD", sku, "price=49999", "weight=4200"])
                    setup.append(["STOCK.SET", "FLASH-WH", sku, "\(stock)"])
                }
                let replies = try await SimpleConnection(host: server.host, port: server.port).call(auth + setup)
                if let error = replies.first(where: { if case .error = $0 { true } else { false } }) { throw LoadError("setup failed: \(error)") }
            }
        }
        let perConnection = attempts / connections
        let requests: [[[String]]] = (0..<connections).map { connection in
            auth + (0..<perConnection).map { attempt in
                let sku = hot[(connection + attempt) % hot.count]
                return isRedis ? ["EVALSHA", sha, "1", "stock:\(sku)", "1"] : ["RESERVE", sku, "1", "ttl=3600"]
            }
        }
        let interval = rate.map { TimeAmount.nanoseconds(Int64(1e9 * Double(connections) / Double(max(1, $0)))) }
        let outcome = try await runner.run(connections: requests, pipelineDepth: pipeline, interval: interval)
        let name = "flash-sale \(server.target) c=\(connections) P=\(pipeline)\(rate.map { " rate=\($0)/s" } ?? "")"
        report(name, operations: perConnection * connections, outcome: outcome)
        try latency.write(name, target: server.target, outcome: outcome)

        // Invariants: successes == min(demand, stock), distinct ids, nothing left.
        let replies = outcome.replies.flatMap { $0.dropFirst(auth.count) }
        var ids = Set<String>()
        var soldOut = 0
        var busy = 0
        var other: [RESPValue] = []
        for reply in replies {
            switch reply {
            case .bulk(let id?): ids.insert(id)
            case .error(let message) where message.hasPrefix("SOLDOUT"): soldOut += 1
            // Admission control refused it (--max-waiting, --max-queue-ms): nothing taken.
            case .error(let message) where message.hasPrefix("LIMIT busy"): busy += 1
            default: other.append(reply)
            }
        }
        let successes = replies.count - soldOut - busy - other.count
        let admitted = perConnection * connections - busy
        let expected = min(admitted, skus * stock)
        print("successes=\(successes) distinct_ids=\(ids.count) soldout=\(soldOut) busy=\(busy) other=\(other.count) expected_successes=\(expected)")
        var failures: [String] = []
        if successes != expected { failures.append("successes \(successes) != \(expected)") }
        if ids.count != successes { failures.append("\(successes - ids.count) duplicate ids") }
        if !other.isEmpty { failures.append("unexpected replies, e.g. \(other[0])") }
        if admitted >= skus * stock {
            let checks = try await SimpleConnection(host: server.host, port: server.port).call(
                auth + hot.map { isRedis ? ["GET", "stock:\($0)"] : ["STOCK.GET", $0] })
            for (sku, reply) in zip(hot, checks.dropFirst(auth.count)) {
                let text = reply.description
                let empty = isRedis ? text == "$0" : text.contains("\"atp\":0,")
                if !empty { failures.append("\(sku) still has stock: \(text.prefix(80))") }
            }
        }
        if !failures.isEmpty {
            print("INVARIANTS FAILED: \(failures.joined(separator: "; "))")
            throw ExitCode(1)
        }
        print("invariants hold: no oversell, no duplicate ids, stock sold out exactly")
    }
}

struct PointOfSale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pos",
        abstract: "T terminals, each at its own store: reserve, then commit (2 of 3) or void (1 of 3).")

    @OptionGroup var server: Target
    @OptionGroup var latency: LatencyFiles
    @Option(help: "Terminals (one store each).") var terminals = 20
    @Option(help: "Sales attempted per terminal.") var sales = 500

    func run() async throws {
        guard server.target == "orderline" else { throw ValidationError("pos runs against Orderline only") }
        let auth: [[String]] = server.token.map { [["AUTH", $0]] } ?? []
        let units = sales * 2
        var setup: [[String]] = [["SKU.ADD", "POS-ITEM", "price=1299", "weight=300"]]
        for terminal in 0..<terminals {
            setup.append(["NODE.ADD", "POS-ST-\(terminal)", "kind=store", "lat=40.\(terminal)", "lon=-73.9"])
            setup.append(["STOCK.SET", "POS-ST-\(terminal)", "POS-ITEM", "\(units)"])
        }
        _ = try await SimpleConnection(host: server.host, port: server.port).call(auth + setup)
        // Each terminal pipelines nothing: it waits for the reservation id before
        // committing or voiding it, as a till does. Ids are learned from replies, so
        // the run is reserve-all then settle-all per terminal, in two phases.
        let runner = PipelinedRunner(host: server.host, port: server.port)
        let reserve = try await runner.run(
            connections: (0..<terminals).map { terminal in
                auth + (0..<sales).map { _ in ["RESERVE", "POS-ITEM", "1", "node=POS-ST-\(terminal)", "ttl=600"] }
            }, pipelineDepth: 1)
        report("pos reserve, \(terminals) terminals", operations: terminals * sales, outcome: reserve)
        try latency.write("pos reserve, \(terminals) terminals", target: server.target, outcome: reserve)
        var committed = 0
        let settle = try await runner.run(
            connections: reserve.replies.map { replies in
                auth + replies.dropFirst(auth.count).enumerated().compactMap { index, reply -> [String]? in
                    guard case .bulk(let id?) = reply else { return nil }
                    if index % 3 == 2 { return ["RELEASE", id] }
                    committed += 1
                    return ["COMMIT", id]
                }
            }, pipelineDepth: 1)
        report("pos commit/void, \(terminals) terminals", operations: terminals * sales, outcome: settle)
        let checks = try await SimpleConnection(host: server.host, port: server.port).call(auth + [["STOCK.GET", "POS-ITEM"]])
        let text = checks.last?.description ?? ""
        let onHand = text.components(separatedBy: "\"on_hand\":").dropFirst().compactMap { Int($0.prefix(while: \.isNumber)) }.reduce(0, +)
        let reserved = text.components(separatedBy: "\"reserved\":").dropFirst().compactMap { Int($0.prefix(while: \.isNumber)) }.reduce(0, +)
        print("committed=\(committed) on_hand=\(onHand) (expected \(terminals * units - committed)) reserved=\(reserved) (expected 0)")
        guard onHand == terminals * units - committed, reserved == 0 else {
            print("INVARIANTS FAILED")
            throw ExitCode(1)
        }
        print("invariants hold: every sale took one unit, every void gave it back")
    }
}
