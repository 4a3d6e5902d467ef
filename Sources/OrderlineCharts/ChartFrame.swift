import Foundation

/// The parts every chart has: the opening with its title, the axes, their labels and
/// the legend.
enum Frame {
    static func opening(title: String, width: Double, height: Double) -> [String] {
        [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(SVG.escaped(title))\">",
            "<title>\(SVG.escaped(title))</title>",
            "<text x=\"\(SVG.number(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\">\(SVG.escaped(title))</text>",
        ]
    }

    /// Five horizontal grid lines from zero, `step` apart, labelled on the left.
    static func yGrid(step: Double, left: Double, right: Double, y: (Double) -> Double) -> [String] {
        let n = SVG.number
        return (0...4).flatMap { tick -> [String] in
            let value = step * Double(tick)
            return [
                "<line x1=\"\(n(left))\" y1=\"\(n(y(value)))\" x2=\"\(n(right))\" y2=\"\(n(y(value)))\" stroke=\"#e3e7ee\"/>",
                "<text x=\"\(n(left - 8))\" y=\"\(n(y(value) + 4))\" text-anchor=\"end\" font-size=\"11\">\(SVG.label(value))</text>",
            ]
        }
    }

    static func axes(left: Double, top: Double, right: Double, bottom: Double) -> [String] {
        let n = SVG.number
        return [
            "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(bottom))\" x2=\"\(n(right))\" y2=\"\(n(bottom))\" stroke=\"#1d2430\"/>",
            "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(bottom))\" stroke=\"#1d2430\"/>",
        ]
    }

    static func labels(x: String, y: String, left: Double, top: Double, plotWidth: Double, plotHeight: Double, height: Double) -> [String] {
        let n = SVG.number
        return [
            "<text class=\"x-label\" x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\" font-size=\"12\">\(SVG.escaped(x))</text>",
            "<text class=\"y-label\" x=\"16\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(n(top + plotHeight / 2)))\">\(SVG.escaped(y))</text>",
        ]
    }

    /// One swatch and name per series, right-aligned under the title.
    static func legend(_ names: [String], right: Double) -> [String] {
        let n = SVG.number
        var x = right
        var parts: [String] = []
        for (index, name) in names.enumerated().reversed() {
            x -= 24 + Double(name.count) * 6.5
            parts.append("<g class=\"legend\"><rect x=\"\(n(x))\" y=\"32\" width=\"12\" height=\"12\" fill=\"\(SVG.color(index))\"/><text x=\"\(n(x + 16))\" y=\"42\" font-size=\"12\">\(SVG.escaped(name))</text></g>")
        }
        return parts
    }
}
