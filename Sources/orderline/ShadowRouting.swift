import Foundation
import OrderlineCore
import OrderlineStorage

/// `orderline replay <dir> --shadow-routing <rules> [--report <file.html>]`: every
/// order of the log planned again with other routing rules and/or rate card (the
/// `ROUTING.SET` and `CARRIER.SET` lines of the file, on top of the rules in force at
/// each order), against the inventory and capacity as they were when it was placed,
/// beside what was decided then. Reads the log only.
struct ShadowRouting {
    /// What one routing of an order came to.
    struct Outcome {
        var costCents: Int64 = 0
        var shipments = 0
        var promisedDay: Int64 = 0
        var backorderedUnits: Int64 = 0
        var nodes: [String] = []

        init(_ order: Order) {
            costCents = order.shipments.reduce(0) { $0 + $1.costCents }
            shipments = order.shipments.count
            promisedDay = CalendarDate.day(of: order.promisedAt) - CalendarDate.day(of: order.placedAt)
            backorderedUnits = order.backordered.reduce(0) { $0 + $1.quantity }
            nodes = order.shipments.map(\.node)
        }
    }

    struct Row {
        var order: String
        var lsn: LSN
        var actual: Outcome
        var shadow: Outcome
        var changed: Bool { actual.nodes != shadow.nodes || actual.costCents != shadow.costCents || actual.backorderedUnits != shadow.backorderedUnits }
    }

    var rows: [Row] = []
    /// Orders the other rules could not plan at all, with why.
    var failures: [(order: String, reason: String)] = []

    /// The changes a rules file holds: `ROUTING.SET` and `CARRIER.SET` lines (`#`
    /// comments and blank lines skipped), as in `Data/seed`.
    static func changes(inFile path: String) throws -> [Command] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var commands: [Command] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let command: Command
            do {
                command = try CommandTable.parse(try InlineTokenizer.tokenize(trimmed))
            } catch {
                throw ValidationFailure("\(path):\(number + 1): \(error)")
            }
            switch command {
            case .routingSet, .carrierSet: commands.append(command)
            default: throw ValidationFailure("\(path):\(number + 1): only ROUTING.SET and CARRIER.SET lines belong in a shadow-routing file")
            }
        }
        return commands
    }

    struct ValidationFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Replays the log from the oldest event the segments hold (to `until`), planning
    /// each placed order again on the state just before it.
    static func run(_ directory: DataDirectory, changes: [Command], until: LSN?) throws -> ShadowRouting {
        let start = try LogTimeline.start(of: directory)
        var state = OrderlineState()
        if start.lsn > 0 {
            var options = Recovery.Options(mode: .readOnly)
            options.untilLSN = start.lsn
            state = try Recovery.recover(directory, options: options).state
        }
        var result = ShadowRouting()
        try LogTimeline.scan(directory) { lsn, event, _ in
            if let until, lsn > until { return false }
            if case .orderPlaced(let order) = event {
                switch state.shadowRouted(order, changes: changes) {
                case .success(let shadow): result.rows.append(Row(order: order.id, lsn: lsn, actual: Outcome(order), shadow: Outcome(shadow)))
                case .failure(let rejection): result.failures.append((order.id, rejection.description))
                }
            }
            state.apply(event, at: lsn)
            return true
        }
        return result
    }

    // MARK: Totals

    struct Totals {
        var orders = 0
        var costCents: Int64 = 0
        var shipments = 0
        var splitOrders = 0
        var promisedDays: Int64 = 0
        var backorderedUnits: Int64 = 0
        var load: [String: Int] = [:]
    }

    func totals(_ side: KeyPath<Row, Outcome>) -> Totals {
        var totals = Totals()
        for row in rows {
            let outcome = row[keyPath: side]
            totals.orders += 1
            totals.costCents += outcome.costCents
            totals.shipments += outcome.shipments
            if outcome.shipments > 1 { totals.splitOrders += 1 }
            totals.promisedDays += outcome.promisedDay
            totals.backorderedUnits += outcome.backorderedUnits
            for node in outcome.nodes { totals.load[node, default: 0] += 1 }
        }
        return totals
    }

    /// The summary `replay --shadow-routing` prints: one `<measure> actual=… shadow=…` line each.
    var summary: String {
        let actual = totals(\.actual), shadow = totals(\.shadow)
        func per(_ value: Int64, _ orders: Int) -> String { orders == 0 ? "0" : String(format: "%.3f", Double(value) / Double(orders)) }
        var lines = [
            "shadow routing: \(rows.count) orders planned again, \(rows.filter(\.changed).count) differently, \(failures.count) could not be",
            "shipping_cost_cents actual=\(actual.costCents) shadow=\(shadow.costCents)",
            "shipments_per_order actual=\(per(Int64(actual.shipments), actual.orders)) shadow=\(per(Int64(shadow.shipments), shadow.orders))",
            "split_orders actual=\(actual.splitOrders) shadow=\(shadow.splitOrders)",
            "promised_days_mean actual=\(per(actual.promisedDays, actual.orders)) shadow=\(per(shadow.promisedDays, shadow.orders))",
            "backordered_units actual=\(actual.backorderedUnits) shadow=\(shadow.backorderedUnits)",
        ]
        for node in Set(actual.load.keys).union(shadow.load.keys).sorted() {
            lines.append("node_shipments node=\(node) actual=\(actual.load[node] ?? 0) shadow=\(shadow.load[node] ?? 0)")
        }
        for failure in failures.prefix(10) { lines.append("not planned: \(failure.order): \(failure.reason)") }
        return lines.joined(separator: "\n")
    }
}
