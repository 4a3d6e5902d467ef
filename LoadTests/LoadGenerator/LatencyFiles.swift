import ArgumentParser
import Foundation
import Histogram
import OrderlineCharts

/// `--latency-out <prefix>`: a run's latency distribution as HdrHistogram's percentile
/// file (`<prefix>.hgrm`, in milliseconds: what HdrHistogram's plotter reads) and as
/// an SVG (`<prefix>.svg`): p50, p99 and max for each second of the run, and the
/// percentile spectrum. Replies refused `LIMIT busy` are left out, as in the text line.
struct LatencyFiles: ParsableArguments {
    @Option(help: "Write the latency distribution to <prefix>.hgrm and charts to <prefix>.svg.")
    var latencyOut: String?

    /// Writes the files for `outcome` when asked; `name` titles the charts and names
    /// the spectrum's series (the target).
    func write(_ name: String, target: String, outcome: PipelinedRunner.Outcome) throws {
        guard let prefix = latencyOut else { return }
        var percentiles = ""
        outcome.histogram.outputPercentileDistribution(to: &percentiles, outputValueUnitScalingRatio: 1_000)
        try percentiles.write(toFile: prefix + ".hgrm", atomically: true, encoding: .utf8)
        try Self.svg(name, target: target, outcome: outcome).write(toFile: prefix + ".svg", atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("latency: \(prefix).hgrm, \(prefix).svg\n".utf8))
    }

    static func svg(_ name: String, target: String, outcome: PipelinedRunner.Outcome) -> String {
        // Each reply's latency in the second of the run it came in.
        var seconds: [Histogram<UInt64>] = []
        for (connection, (times, latencies)) in zip(outcome.replyTimes, outcome.latencies).enumerated() {
            for (index, (time, latency)) in zip(times, latencies).enumerated() {
                // As in the histogram: admission control's quick refusals are no speed.
                if case .error(let message) = outcome.replies[connection][index], message.hasPrefix("LIMIT busy") { continue }
                let second = Int((time &- outcome.startedAt) / 1_000_000_000)
                while seconds.count <= second { seconds.append(Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)) }
                _ = seconds[second].record(latency)
            }
        }
        func milliseconds(_ microseconds: UInt64) -> Double { Double(microseconds) / 1_000 }
        let recorded = seconds.enumerated().filter { $0.element.totalCount > 0 }
        func line(_ value: (Histogram<UInt64>) -> UInt64) -> [(x: Double, y: Double)] {
            recorded.map { (x: Double($0.offset + 1), y: milliseconds(value($0.element))) }
        }
        let timeline = LineChart(
            title: "\(name): latency by second", xLabel: "second of the run", yLabel: "latency (ms)",
            series: [("p50", line { $0.valueAtPercentile(50) }), ("p99", line { $0.valueAtPercentile(99) }), ("max", line { $0.max })])
        let spectrum = LineChart(
            title: "\(name): percentile spectrum", xLabel: "percentile", yLabel: "latency (ms)", xAxis: .percentile,
            series: [(target, outcome.histogram.percentiles(ticksPerHalfDistance: 5).map { (x: $0.percentile, y: milliseconds($0.value)) })])
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 640" width="760" height="640">
            <svg y="0">\(timeline.svg)</svg>
            <svg y="320">\(spectrum.svg)</svg>
            </svg>

            """
    }
}
