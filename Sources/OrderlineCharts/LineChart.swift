import Foundation

/// A line chart as SVG: one polyline per series (each a class and a colour of its
/// own), a y axis from zero with ticks, both axes labelled, a legend. The x axis is
/// linear, or a percentile axis that gives each tail its room (90, 99, 99.9 … equally
/// far apart, as HdrHistogram's plots do).
public struct LineChart {
    public enum XAxis {
        case linear
        /// x is a percentile in 0 ..< 100.
        case percentile
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xAxis: XAxis
    public var series: [(name: String, points: [(x: Double, y: Double)])]

    public init(title: String, xLabel: String, yLabel: String, xAxis: XAxis = .linear, series: [(name: String, points: [(x: Double, y: Double)])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xAxis = xAxis
        self.series = series
    }

    /// Where a percentile sits on the percentile axis: the nines it has.
    private static func nines(_ percentile: Double) -> Double {
        log10(1 / max(1 - min(percentile, 99.9999) / 100, 1e-6))
    }

    public var svg: String {
        let width = 760.0, height = 320.0, left = 70.0, right = 20.0, top = 56.0, bottom = 60.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let points = series.flatMap(\.points)
        let percentiles = xAxis == .percentile
        func place(_ value: Double) -> Double { percentiles ? Self.nines(value) : value }
        let xs = points.map { place($0.x) }
        let xMin = xAxis == .percentile ? 0 : (xs.min() ?? 0)
        let xMax = max(xs.max() ?? 1, xMin + (xAxis == .percentile ? 2 : 1))
        let yStep = SVG.niceStep((points.map(\.y).max() ?? 0) / 4)
        func x(_ value: Double) -> Double { left + (place(value) - xMin) / (xMax - xMin) * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - value / (yStep * 4) * plotHeight }
        let n = SVG.number
        var parts = Frame.opening(title: title, width: width, height: height)
        parts += Frame.yGrid(step: yStep, left: left, right: width - right, y: y)
        let xTicks: [(value: Double, label: String)]
        switch xAxis {
        case .percentile:
            xTicks = [(0, "0"), (90, "90"), (99, "99"), (99.9, "99.9"), (99.99, "99.99"), (99.999, "99.999"), (99.9999, "99.9999")]
                .filter { Self.nines($0.0) <= xMax + 1e-9 }
        case .linear:
            let step = SVG.niceStep((xMax - xMin) / 6)
            xTicks = stride(from: (xMin / step).rounded(.up) * step, through: xMax, by: step).map { ($0, SVG.label($0)) }
        }
        for tick in xTicks {
            parts.append("<line x1=\"\(n(x(tick.value)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(x(tick.value)))\" y2=\"\(n(top + plotHeight + 5))\" stroke=\"#1d2430\"/>")
            parts.append("<text x=\"\(n(x(tick.value)))\" y=\"\(n(top + plotHeight + 18))\" text-anchor=\"middle\" font-size=\"11\">\(tick.label)</text>")
        }
        parts += Frame.axes(left: left, top: top, right: width - right, bottom: top + plotHeight)
        for (index, entry) in series.enumerated() {
            let path = entry.points.map { "\(n(x($0.x))),\(n(y($0.y)))" }.joined(separator: " ")
            parts.append("<polyline class=\"\(SVG.className(entry.name))\" fill=\"none\" stroke=\"\(SVG.color(index))\" stroke-width=\"2\" points=\"\(path)\"><title>\(SVG.escaped(entry.name))</title></polyline>")
        }
        parts += Frame.labels(x: xLabel, y: yLabel, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, height: height)
        parts += Frame.legend(series.map(\.name), right: width - right)
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
