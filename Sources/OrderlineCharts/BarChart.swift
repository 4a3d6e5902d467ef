/// A grouped bar chart as SVG: one group per category, one bar per series in each
/// (each series a class and a colour of its own), a y axis with ticks from zero, both
/// axes labelled, a legend.
public struct BarChart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var categories: [String]
    /// Each series' name and its value per category.
    public var series: [(name: String, values: [Double])]

    public init(title: String, xLabel: String, yLabel: String, categories: [String], series: [(name: String, values: [Double])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.categories = categories
        self.series = series
    }

    public var svg: String {
        // Long category names (node ids) are written at a slant, below a taller margin.
        let slanted = categories.count > 4 && categories.contains { $0.count > 4 }
        let width = 760.0, height = slanted ? 370.0 : 320.0, left = 70.0, right = 20.0, top = 56.0, bottom = slanted ? 110.0 : 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let yStep = SVG.niceStep((series.flatMap(\.values).max() ?? 0) / 4)
        let yMax = yStep * 4
        let group = plotWidth / Double(max(categories.count, 1))
        let bar = min(group * 0.76 / Double(max(series.count, 1)), 40)
        func y(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }
        let n = SVG.number
        var parts = Frame.opening(title: title, width: width, height: height)
        parts += Frame.yGrid(step: yStep, left: left, right: width - right, y: y)
        parts += Frame.axes(left: left, top: top, right: width - right, bottom: top + plotHeight)
        for (index, category) in categories.enumerated() {
            let center = left + group * (Double(index) + 0.5)
            let first = center - bar * Double(series.count) / 2
            for (offset, entry) in series.enumerated() {
                let value = index < entry.values.count ? entry.values[index] : 0
                let x = first + Double(offset) * bar
                parts.append("<rect class=\"\(SVG.className(entry.name))\" x=\"\(n(x))\" y=\"\(n(y(value)))\" width=\"\(n(bar - 2))\" height=\"\(n(top + plotHeight - y(value)))\" fill=\"\(SVG.color(offset))\"><title>\(SVG.escaped(category)) \(SVG.escaped(entry.name)): \(SVG.label(value))</title></rect>")
            }
            let labelY = top + plotHeight + 16
            parts.append(slanted
                ? "<text x=\"\(n(center))\" y=\"\(n(labelY))\" text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-35 \(n(center)) \(n(labelY)))\">\(SVG.escaped(category))</text>"
                : "<text x=\"\(n(center))\" y=\"\(n(labelY))\" text-anchor=\"middle\" font-size=\"11\">\(SVG.escaped(category))</text>")
        }
        parts += Frame.labels(x: xLabel, y: yLabel, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, height: height)
        parts += Frame.legend(series.map(\.name), right: width - right)
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
