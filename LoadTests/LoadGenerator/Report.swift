import ArgumentParser
import Foundation
import OrderlineCharts

/// `orderline-load report`: the HTML page of a benchmark's rounds (`bench-ratios.sh`,
/// `bench-orders.sh` write one): per group of rounds a bar chart with one series per
/// target, the rounds' figures, and the median of per-round ratios (`--ratio A/B`;
/// by default the first target to each other one), which is how the scripts compare. Well-formed XHTML, so that an
/// XML parser can check it.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "An HTML report of benchmark rounds: bars per round beside each target, and median ratios.")

    @Argument(help: "The rounds: tab-separated lines of group, round, target, value.") var results: String
    @Option(help: "The page's title.") var title: String
    @Option(help: "What the values are.") var unit = "requests/s"
    @Option(help: "Where to write the page.") var html: String
    @Option(name: .customLong("ratio"), help: "A ratio to show, as <target>/<target> (repeatable; default: the first target to each other one).")
    var ratios: [String] = []

    /// One benchmark's figures: by group, round and target, in the order they came.
    struct Rounds {
        var groups: [String] = []
        var rounds: [String: [String]] = [:]
        var targets: [String: [String]] = [:]
        var values: [String: Double] = [:]

        init(_ text: String) throws {
            for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() where !line.isEmpty {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 4, let value = Double(fields[3]) else {
                    throw ValidationError("line \(number + 1) is not 'group<TAB>round<TAB>target<TAB>value': \(line)")
                }
                let (group, round, target) = (fields[0], fields[1], fields[2])
                if !groups.contains(group) { groups.append(group) }
                if !(rounds[group] ?? []).contains(round) { rounds[group, default: []].append(round) }
                if !(targets[group] ?? []).contains(target) { targets[group, default: []].append(target) }
                values[Self.key(group, round, target)] = value
            }
        }

        static func key(_ group: String, _ round: String, _ target: String) -> String { group + "\t" + round + "\t" + target }

        func value(_ group: String, _ round: String, _ target: String) -> Double? { values[Self.key(group, round, target)] }

        /// The median over the rounds of first ÷ other, with each round's ratio.
        func ratio(_ group: String, _ first: String, _ other: String) -> (median: Double, rounds: [Double])? {
            let ratios = (rounds[group] ?? []).compactMap { round -> Double? in
                guard let a = value(group, round, first), let b = value(group, round, other), b > 0 else { return nil }
                return a / b
            }
            guard !ratios.isEmpty else { return nil }
            let sorted = ratios.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            return (median, ratios)
        }
    }

    func run() throws {
        let rounds: Rounds
        do {
            rounds = try Rounds(try String(contentsOfFile: results, encoding: .utf8))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot read \(results): \(error)")
        }
        let pairs = try ratios.map { text -> (String, String) in
            guard let slash = text.firstIndex(of: "/") else { throw ValidationError("--ratio \(text) must be <target>/<target>") }
            return (String(text[..<slash]), String(text[text.index(after: slash)...]))
        }
        try Self.page(rounds, title: title, unit: unit, ratios: pairs).write(toFile: html, atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("report: \(html)\n".utf8))
    }

    static func page(_ rounds: Rounds, title: String, unit: String, ratios: [(String, String)] = []) -> String {
        var body = "<h1>\(SVG.escaped(title))</h1>\n"
        for group in rounds.groups {
            let names = rounds.rounds[group] ?? [], targets = rounds.targets[group] ?? []
            body += "<h2>\(SVG.escaped(group))</h2>\n"
            body += BarChart(
                title: group, xLabel: "round", yLabel: unit, categories: names,
                series: targets.map { target in (target, names.map { rounds.value(group, $0, target) ?? 0 }) }
            ).svg + "\n"
            body += "<table>\n<tr><th>round</th>" + targets.map { "<th>\(SVG.escaped($0))</th>" }.joined() + "</tr>\n"
            for round in names {
                body += "<tr><td>\(SVG.escaped(round))</td>"
                    + targets.map { target in "<td>\(rounds.value(group, round, target).map { String(format: "%.0f", $0) } ?? "–")</td>" }.joined()
                    + "</tr>\n"
            }
            body += "</table>\n"
            let pairs = ratios.isEmpty ? targets.dropFirst().map { (targets[0], $0) } : ratios
            for (numerator, denominator) in pairs {
                guard let ratio = rounds.ratio(group, numerator, denominator) else { continue }
                body += "<p class=\"ratio\">\(SVG.escaped(numerator)) ÷ \(SVG.escaped(denominator)): median <b>\(String(format: "%.2f", ratio.median))×</b>"
                    + " (rounds: \(ratio.rounds.map { String(format: "%.2f", $0) }.joined(separator: ", ")))</p>\n"
            }
        }
        return ReportPage.html(title: title, body: body, width: "60rem")
    }
}
