import Foundation

/// What the charts share: text made safe for XML, numbers as SVG writes them, and
/// axis ticks at round steps. The charts are drawn here, as SVG text, because the
/// reports they go into are opened where there is no network (no script, no CDN).
public enum SVG {
    /// `text` with XML's special characters escaped, for an element or an attribute.
    public static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A tick label: whole numbers without decimals, thousands as `k`, millions as `M`.
    static func label(_ value: Double) -> String {
        if value >= 1_000_000 { return trimmed(value / 1_000_000) + "M" }
        if value >= 10_000 { return trimmed(value / 1_000) + "k" }
        return trimmed(value)
    }

    /// At most two decimals, trailing zeros dropped: `1.5`, `123.46`, `79`.
    private static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The tick step: 1, 2 or 5 times a power of ten, at least `value` (1 for nothing
    /// or less; below 1 for small fractions).
    static func niceStep(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }

    /// A colour for the n-th series (a colour-blind-safe palette).
    static func color(_ index: Int) -> String {
        let palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
        return palette[index % palette.count]
    }

    /// A series name as a CSS class: letters, digits and `-` only.
    static func className(_ name: String) -> String {
        String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}
