import ArgumentParser
import Foundation
import NIOCore
import OrderlineProtocol

/// Durable order capture with 3 lines on 3 different SKUs, routed by the DOM over a
/// small network, then (with `--lifecycle`) every order picked, packed, shipped and
/// delivered. Checks at the end: every order allocated, then delivered, and the KPIs
/// count them with no oversell.
struct Orders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "ORDER.CREATE (3 lines, 3 SKUs, routed) from C connections, then optionally the whole lifecycle.")

    @OptionGroup var server: Target
    @OptionGroup var latency: LatencyFiles
    @Option(name: .customShort("c"), help: "Connections.") var connections = 50
    @Option(name: .customShort("P"), help: "Pipeline depth per connection.") var pipeline = 16
    @Option(help: "Orders in all.") var orders = 100_000
    @Option(help: "SKUs to draw the 3 lines from.") var skus = 300
    @Flag(help: "Stock each SKU at one warehouse only, so that most orders split into 3 shipments.") var split = false
    @Flag(help: "Then pick, pack, ship and deliver every shipment.") var lifecycle = false
    @Option(help: "Open loop at this many orders/s in all (spread over the connections) instead of as fast as replies come.")
    var rate: Int?
    @Option(help: "ORDER.CREATE's reply=: full (the order as JSON), status or id. With status or id the lifecycle cannot follow the shipments, so --lifecycle needs full.")
    var reply = "full"

    /// Ship-to addresses: New York, Los Angeles, Chicago, Houston, Seattle, Miami.
    static let destinations = ["40.7128,-74.006", "34.0522,-118.2437", "41.8781,-87.6298", "29.7604,-95.3698", "47.6062,-122.3321", "25.7617,-80.1918"]
    static let warehouses = [("LOAD-WH-EAST", "40.6084", "-75.4902"), ("LOAD-WH-CENTRAL", "35.1495", "-90.049"), ("LOAD-WH-WEST", "39.5296", "-119.8138")]

    func run() async throws {
        guard server.target == "orderline" else { throw ValidationError("orders runs against Orderline only") }
        guard ["full", "status", "id"].contains(reply) else { throw ValidationError("--reply is full, status or id") }
        guard reply == "full" || !lifecycle else { throw ValidationError("--lifecycle needs --reply full (the shipments come from the reply)") }
        let auth: [[String]] = server.token.map { [["AUTH", $0]] } ?? []
        let run = String(Int(Date().timeIntervalSince1970) % 1_000_000)
        let perConnection = orders / connections
        let total = perConnection * connections
        // Enough stock for every order, wherever it is routed.
        let units = total * 3 / skus * 3 + 100
        var setup: [[String]] = [
            ["FRAUD.SET", "amount_max=0", "orders_max=0", "distance_max=0"],
            ["CARRIER.SET", "LOADCO", "ground", "base=600", "per_km=110", "per_kg=40", "bands=800:2,2000:3,5000:5"],
        ]
        for (node, lat, lon) in Self.warehouses { setup.append(["NODE.ADD", node, "kind=warehouse", "lat=\(lat)", "lon=\(lon)", "capacity=0"]) }
        for index in 0..<skus {
            setup.append(["SKU.ADD", "LOAD-\(index)", "price=\(500 + index)", "weight=\(200 + index)"])
            for (slot, warehouse) in Self.warehouses.enumerated() where !split || index % Self.warehouses.count == slot {
                setup.append(["STOCK.SET", warehouse.0, "LOAD-\(index)", "\(units)"])
            }
        }
        let setupReplies = try await SimpleConnection(host: server.host, port: server.port).call(auth + setup)
        if let error = setupReplies.first(where: { if case .error = $0 { true } else { false } }) { throw LoadError("setup failed: \(error)") }

        let runner = PipelinedRunner(host: server.host, port: server.port)
        let ids = (0..<connections).map { connection in (0..<perConnection).map { "O\(run)-\(connection)-\($0)" } }
        let creates = ids.enumerated().map { connection, orderIDs in
            auth + orderIDs.enumerated().map { index, id -> [String] in
                let first = (connection * 7 + index * 3) % skus
                let lines = [first, (first + 1) % skus, (first + 2) % skus].map { "LOAD-\($0):1" }.joined(separator: ",")
                return ["ORDER.CREATE", id, "channel=web", "customer=LC-\(connection)-\(index % 50)", "lines=\(lines)",
                        "ship=\(Self.destinations[index % Self.destinations.count])", "payment=tok_visa_4242", "reply=\(reply)"]
            }
        }
        let interval = rate.map { TimeAmount.nanoseconds(Int64(1e9 * Double(connections) / Double(max(1, $0)))) }
        let placed = try await runner.run(connections: creates, pipelineDepth: pipeline, interval: interval)
        let name = "orders create c=\(connections) P=\(pipeline)\(split ? " split" : "")\(rate.map { " rate=\($0)/s" } ?? "") reply=\(reply)"
        report(name, operations: total, outcome: placed)
        try latency.write(name, target: server.target, outcome: placed)
        var failures: [String] = []
        var shipmentsPerOrder: [[Int]] = []
        var busy = 0
        for (connection, replies) in placed.replies.enumerated() {
            var counts: [Int] = []
            for (index, answer) in replies.dropFirst(auth.count).enumerated() {
                let text = answer.description
                // Refused by admission control (--max-waiting, --max-queue-ms): not placed.
                if text.hasPrefix("-LIMIT busy") {
                    busy += 1
                    counts.append(-1)
                    continue
                }
                let allocated = switch reply {
                case "id": text == "$\(ids[connection][index])"
                case "status": text == "$allocated"
                default: text.contains(#""status":"allocated""#)
                }
                if !allocated { failures.append("not allocated: \(text.prefix(120))") }
                counts.append(text.components(separatedBy: #""mode":"ship","lines""#).count - 1)
            }
            shipmentsPerOrder.append(counts)
        }
        let shipments = shipmentsPerOrder.joined().reduce(0) { $0 + max(0, $1) }
        let placedCount = total - busy
        print("orders=\(placedCount) busy=\(busy) shipments=\(shipments) (\(String(format: "%.2f", Double(shipments) / Double(max(1, placedCount)))) per order) not_allocated=\(failures.count)")

        if lifecycle {
            let steps = ["SHIPMENT.PICK", "SHIPMENT.PACK", "SHIPMENT.SHIP", "SHIPMENT.DELIVER"]
            let work = zip(ids, shipmentsPerOrder).map { orderIDs, counts in
                auth + zip(orderIDs, counts).filter { $0.1 >= 0 }.flatMap { id, count in
                    (1...max(1, count)).flatMap { shipment in steps.map { [$0, "\(id)-S\(shipment)"] } }
                }
            }
            let operations = work.reduce(0) { $0 + $1.count - auth.count }
            let outcome = try await runner.run(connections: work, pipelineDepth: pipeline)
            report("orders lifecycle (pick, pack, ship, deliver) c=\(connections) P=\(pipeline)", operations: operations, outcome: outcome)
            let errors = outcome.replies.joined().filter { if case .error = $0 { true } else { false } }
            if let error = errors.first { failures.append("\(errors.count) lifecycle errors, e.g. \(error)") }
        }

        let kpi = try await SimpleConnection(host: server.host, port: server.port).call(auth + [["KPI", "channel=web"]]).last?.description ?? ""
        print("KPI channel=web: \(kpi.prefix(400))")
        if !kpi.contains(#""oversell_count":0"#) { failures.append("oversell: \(kpi)") }
        // Other runs against the same server count too: at least this run's orders.
        func count(_ key: String) -> Int { Int(kpi.components(separatedBy: "\"\(key)\":").dropFirst().first?.prefix(while: \.isNumber) ?? "") ?? 0 }
        if count("orders") < placedCount { failures.append("KPI counts \(count("orders")) orders, fewer than \(placedCount)") }
        if lifecycle, count("delivered") < placedCount { failures.append("KPI counts \(count("delivered")) delivered, fewer than \(placedCount)") }
        if !failures.isEmpty {
            print("INVARIANTS FAILED: \(failures.prefix(3).joined(separator: "; "))")
            throw ExitCode(1)
        }
        print("invariants hold: every order allocated\(lifecycle ? " and delivered" : ""), no oversell")
    }
}
