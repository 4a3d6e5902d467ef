import Foundation
import OrderlineCharts

/// The HTML report of `replay --shadow-routing … --report <file>`: the totals, three
/// charts (inline SVG, drawn here: the binary serves no scripts and needs no network)
/// and the orders routed differently. Well-formed XHTML, so that an XML parser can
/// check it.
enum ShadowRoutingReport {
    static func html(_ shadow: ShadowRouting, source: String, rules: String) -> String {
        let actual = shadow.totals(\.actual), planned = shadow.totals(\.shadow)
        let nodes = Set(actual.load.keys).union(planned.load.keys).sorted()
        let dayMax = Int(shadow.rows.map { max($0.actual.promisedDay, $0.shadow.promisedDay) }.max() ?? 0)
        func count(_ side: KeyPath<ShadowRouting.Row, ShadowRouting.Outcome>, _ matches: (ShadowRouting.Outcome) -> Bool) -> Double {
            Double(shadow.rows.filter { matches($0[keyPath: side]) }.count)
        }
        let shipmentBuckets = ["0", "1", "2", "3+"]
        func bucket(_ outcome: ShadowRouting.Outcome) -> String { outcome.shipments >= 3 ? "3+" : String(outcome.shipments) }
        let charts = [
            BarChart(
                title: "Shipments per node", xLabel: "node", yLabel: "shipments", categories: nodes,
                series: [("actual", nodes.map { Double(actual.load[$0] ?? 0) }), ("shadow", nodes.map { Double(planned.load[$0] ?? 0) })]),
            BarChart(
                title: "Promised delivery", xLabel: "days after the order", yLabel: "orders", categories: (0...max(dayMax, 1)).map(String.init),
                series: [
                    ("actual", (0...max(dayMax, 1)).map { day in count(\.actual) { $0.promisedDay == day } }),
                    ("shadow", (0...max(dayMax, 1)).map { day in count(\.shadow) { $0.promisedDay == day } }),
                ]),
            BarChart(
                title: "Shipments per order", xLabel: "shipments (0: all backordered)", yLabel: "orders", categories: shipmentBuckets,
                series: [
                    ("actual", shipmentBuckets.map { name in count(\.actual) { bucket($0) == name } }),
                    ("shadow", shipmentBuckets.map { name in count(\.shadow) { bucket($0) == name } }),
                ]),
        ]
        func cents(_ value: Int64) -> String { String(format: "%.2f", Double(value) / 100) }
        func mean(_ value: Int64, _ orders: Int) -> String { orders == 0 ? "–" : String(format: "%.2f", Double(value) / Double(orders)) }
        func change(_ before: Double, _ after: Double) -> String {
            before == 0 ? "–" : String(format: "%+.1f %%", (after - before) / before * 100)
        }
        var body = """
            <h1>Shadow routing</h1>
            <p>The orders of <code>\(SVG.escaped(source))</code> planned again with <code>\(SVG.escaped(rules))</code>, each against the \
            inventory and capacity as they were when it was placed. \(shadow.rows.count) orders, \
            \(shadow.rows.filter(\.changed).count) routed differently, \(shadow.failures.count) could not be planned.</p>
            <table>
            <tr><th>measure</th><th>actual</th><th>shadow</th><th>change</th></tr>
            <tr><td>shipping cost</td><td>\(cents(actual.costCents))</td><td>\(cents(planned.costCents))</td><td>\(change(Double(actual.costCents), Double(planned.costCents)))</td></tr>
            <tr><td>shipments per order</td><td>\(mean(Int64(actual.shipments), actual.orders))</td><td>\(mean(Int64(planned.shipments), planned.orders))</td><td>\(change(Double(actual.shipments), Double(planned.shipments)))</td></tr>
            <tr><td>split orders</td><td>\(actual.splitOrders)</td><td>\(planned.splitOrders)</td><td>\(change(Double(actual.splitOrders), Double(planned.splitOrders)))</td></tr>
            <tr><td>promised days (mean)</td><td>\(mean(actual.promisedDays, actual.orders))</td><td>\(mean(planned.promisedDays, planned.orders))</td><td>\(change(Double(actual.promisedDays), Double(planned.promisedDays)))</td></tr>
            <tr><td>backordered units</td><td>\(actual.backorderedUnits)</td><td>\(planned.backorderedUnits)</td><td>\(change(Double(actual.backorderedUnits), Double(planned.backorderedUnits)))</td></tr>
            </table>

            """
        for chart in charts { body += chart.svg + "\n" }
        let changed = shadow.rows.filter(\.changed)
        body += "<h2>Orders routed differently\(changed.count > rowsMax ? " (the first \(rowsMax) of \(changed.count))" : "")</h2>\n"
        body += "<table>\n<tr><th>order</th><th>LSN</th><th>actual nodes</th><th>shadow nodes</th><th>actual cost</th><th>shadow cost</th>"
            + "<th>actual days</th><th>shadow days</th><th>actual backordered</th><th>shadow backordered</th></tr>\n"
        for row in changed.prefix(rowsMax) {
            body += "<tr><td>\(SVG.escaped(row.order))</td><td>\(row.lsn)</td><td>\(SVG.escaped(row.actual.nodes.joined(separator: " ")))</td>"
                + "<td>\(SVG.escaped(row.shadow.nodes.joined(separator: " ")))</td><td>\(cents(row.actual.costCents))</td><td>\(cents(row.shadow.costCents))</td>"
                + "<td>\(row.actual.promisedDay)</td><td>\(row.shadow.promisedDay)</td><td>\(row.actual.backorderedUnits)</td><td>\(row.shadow.backorderedUnits)</td></tr>\n"
        }
        body += "</table>\n"
        if !shadow.failures.isEmpty {
            body += "<h2>Not planned</h2>\n<ul>\n" + shadow.failures.prefix(rowsMax).map { "<li>\(SVG.escaped($0.order)): \(SVG.escaped($0.reason))</li>" }.joined(separator: "\n") + "\n</ul>\n"
        }
        return ReportPage.html(title: "Orderline shadow routing", body: body)
    }

    static let rowsMax = 1_000
}
