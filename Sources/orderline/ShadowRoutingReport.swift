import Foundation

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
                actual: nodes.map { Double(actual.load[$0] ?? 0) }, shadow: nodes.map { Double(planned.load[$0] ?? 0) }),
            BarChart(
                title: "Promised delivery", xLabel: "days after the order", yLabel: "orders", categories: (0...max(dayMax, 1)).map(String.init),
                actual: (0...max(dayMax, 1)).map { day in count(\.actual) { $0.promisedDay == day } },
                shadow: (0...max(dayMax, 1)).map { day in count(\.shadow) { $0.promisedDay == day } }),
            BarChart(
                title: "Shipments per order", xLabel: "shipments (0: all backordered)", yLabel: "orders", categories: shipmentBuckets,
                actual: shipmentBuckets.map { name in count(\.actual) { bucket($0) == name } },
                shadow: shipmentBuckets.map { name in count(\.shadow) { bucket($0) == name } }),
        ]
        func cents(_ value: Int64) -> String { String(format: "%.2f", Double(value) / 100) }
        func mean(_ value: Int64, _ orders: Int) -> String { orders == 0 ? "–" : String(format: "%.2f", Double(value) / Double(orders)) }
        func change(_ before: Double, _ after: Double) -> String {
            before == 0 ? "–" : String(format: "%+.1f %%", (after - before) / before * 100)
        }
        var body = """
            <h1>Shadow routing</h1>
            <p>The orders of <code>\(escaped(source))</code> planned again with <code>\(escaped(rules))</code>, each against the \
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
            body += "<tr><td>\(escaped(row.order))</td><td>\(row.lsn)</td><td>\(escaped(row.actual.nodes.joined(separator: " ")))</td>"
                + "<td>\(escaped(row.shadow.nodes.joined(separator: " ")))</td><td>\(cents(row.actual.costCents))</td><td>\(cents(row.shadow.costCents))</td>"
                + "<td>\(row.actual.promisedDay)</td><td>\(row.shadow.promisedDay)</td><td>\(row.actual.backorderedUnits)</td><td>\(row.shadow.backorderedUnits)</td></tr>\n"
        }
        body += "</table>\n"
        if !shadow.failures.isEmpty {
            body += "<h2>Not planned</h2>\n<ul>\n" + shadow.failures.prefix(rowsMax).map { "<li>\(escaped($0.order)): \(escaped($0.reason))</li>" }.joined(separator: "\n") + "\n</ul>\n"
        }
        return """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
            <head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>Orderline shadow routing</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d2430; }
            table { border-collapse: collapse; margin: 1rem 0; }
            th, td { border-bottom: 1px solid #d8dde6; padding: 0.3rem 0.8rem; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            svg { display: block; margin: 1.5rem 0; max-width: 100%; height: auto; }
            </style></head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static let rowsMax = 1_000

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// A grouped bar chart of two series (what was decided, and the shadow plan) as SVG:
/// one group per category, a y axis with ticks, both axes labelled, a legend.
struct BarChart {
    var title: String
    var xLabel: String
    var yLabel: String
    var categories: [String]
    var actual: [Double]
    var shadow: [Double]

    static let series = [("actual", "#4c72b0"), ("shadow", "#dd8452")]

    var svg: String {
        // Long category names (node ids) are written at a slant, below a taller margin.
        let slanted = categories.count > 4 && categories.contains { $0.count > 4 }
        let width = 760.0, height = slanted ? 370.0 : 320.0, left = 70.0, right = 20.0, top = 40.0, bottom = slanted ? 110.0 : 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let yStep = niceStep(max(actual.max() ?? 0, shadow.max() ?? 0) / 4)
        let yMax = yStep * 4
        let group = plotWidth / Double(max(categories.count, 1))
        let bar = min(group * 0.38, 40)
        func y(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var parts: [String] = []
        parts.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(ShadowRoutingReport.escaped(title))\">")
        parts.append("<title>\(ShadowRoutingReport.escaped(title))</title>")
        parts.append("<text x=\"\(number(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\">\(ShadowRoutingReport.escaped(title))</text>")
        for tick in 0...4 {
            let value = yMax * Double(tick) / 4
            parts.append("<line x1=\"\(number(left))\" y1=\"\(number(y(value)))\" x2=\"\(number(width - right))\" y2=\"\(number(y(value)))\" stroke=\"#e3e7ee\"/>")
            parts.append("<text x=\"\(number(left - 8))\" y=\"\(number(y(value) + 4))\" text-anchor=\"end\" font-size=\"11\">\(value == value.rounded() ? String(Int(value)) : number(value))</text>")
        }
        parts.append("<line class=\"axis\" x1=\"\(number(left))\" y1=\"\(number(top + plotHeight))\" x2=\"\(number(width - right))\" y2=\"\(number(top + plotHeight))\" stroke=\"#1d2430\"/>")
        parts.append("<line class=\"axis\" x1=\"\(number(left))\" y1=\"\(number(top))\" x2=\"\(number(left))\" y2=\"\(number(top + plotHeight))\" stroke=\"#1d2430\"/>")
        for (index, category) in categories.enumerated() {
            let center = left + group * (Double(index) + 0.5)
            for (offset, (name, color)) in Self.series.enumerated() {
                let value = (offset == 0 ? actual : shadow)[index]
                let x = center - bar + Double(offset) * bar
                parts.append("<rect class=\"\(name)\" x=\"\(number(x))\" y=\"\(number(y(value)))\" width=\"\(number(bar - 2))\" height=\"\(number(top + plotHeight - y(value)))\" fill=\"\(color)\"><title>\(ShadowRoutingReport.escaped(category)) \(name): \(number(value))</title></rect>")
            }
            let labelY = top + plotHeight + 16
            parts.append(slanted
                ? "<text x=\"\(number(center))\" y=\"\(number(labelY))\" text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-35 \(number(center)) \(number(labelY)))\">\(ShadowRoutingReport.escaped(category))</text>"
                : "<text x=\"\(number(center))\" y=\"\(number(labelY))\" text-anchor=\"middle\" font-size=\"11\">\(ShadowRoutingReport.escaped(category))</text>")
        }
        parts.append("<text class=\"x-label\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 14))\" text-anchor=\"middle\" font-size=\"12\">\(ShadowRoutingReport.escaped(xLabel))</text>")
        parts.append("<text class=\"y-label\" x=\"16\" y=\"\(number(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(number(top + plotHeight / 2)))\">\(ShadowRoutingReport.escaped(yLabel))</text>")
        for (offset, (name, color)) in Self.series.enumerated() {
            let x = width - right - 160 + Double(offset) * 80
            parts.append("<rect x=\"\(number(x))\" y=\"30\" width=\"12\" height=\"12\" fill=\"\(color)\"/><text x=\"\(number(x + 16))\" y=\"40\" font-size=\"12\">\(name)</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// The tick step: 1, 2 or 5 times a power of ten, at least `value`, and whole for
    /// counts (1 for nothing).
    private func niceStep(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }
}
