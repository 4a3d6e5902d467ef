import NIOCore
import OrderlineCore
import OrderlineProtocol
import Prometheus
import Synchronization

/// Requests by command and outcome, and how long each took from the pass of the loop
/// that decoded it to the write of its reply (its WAL wait included), through
/// swift-prometheus: `orderline_requests_total{command,outcome}` and
/// `orderline_request_duration_seconds{command}`. Recorded by the connections as they
/// write replies, only with `--http`. The labels are bounded: a command the server does
/// not know is `unknown`, an error code it does not name is `error`.
public final class RequestMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let state = Mutex(State())

    private struct State {
        var series: [String: Series] = [:]
        /// Every request's latency, all commands together, by bucket (the last: over
        /// the last bucket): what the operations page takes its p99 from.
        var latency = [Int](repeating: 0, count: RequestMetrics.buckets.count + 1)
    }

    /// One command's histogram, and its counters by outcome (ok, then each code),
    /// each made when first needed. A class: one dictionary lookup finds both.
    private final class Series {
        /// The command its labels name (`unknown` for a name the server does not know).
        let command: String
        let duration: DurationHistogram
        var outcomes: [Counter?]

        init(command: String, duration: DurationHistogram, outcomes: Int) {
            self.command = command
            self.duration = duration
            self.outcomes = Array(repeating: nil, count: outcomes)
        }
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The outcomes a reply can have: `ok`, and the error codes of PROTOCOL.md.
    static let outcomes = ["ok"] + Rejection.Code.allCases.map(\.rawValue) + ["EXECABORT", "NOPROTO", "error"]

    /// The latency buckets' upper bounds (Prometheus's `le`).
    static let buckets: [Duration] = [
        .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]
    static let bucketNanoseconds = buckets.map { $0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }

    /// How many requests took at most each bucket's bound (and more, last), since start.
    var latencyCounts: [Int] { state.withLock { $0.latency } }

    /// One reply written, as a connection notes it: its command as the dispatcher
    /// named it (uppercased), its outcome (`outcome(of:)`), how long it took.
    struct Written {
        var command: String
        var outcome: Int
        var nanoseconds: Int64
    }

    /// The replies a connection wrote together: one lock for all of them, and one
    /// lookup for a run of the same command (a pipeline usually is one).
    func record(_ replies: [Written]) {
        state.withLock { state in
            var found: Series?
            for reply in replies {
                let series: Series
                if let last = found, last.command == reply.command {
                    series = last
                } else {
                    series = state.series[reply.command] ?? seriesMade(for: reply.command, in: &state.series)
                    found = series
                }
                series.duration.recordNanoseconds(reply.nanoseconds)
                state.latency[Self.bucketNanoseconds.firstIndex { reply.nanoseconds <= $0 } ?? Self.buckets.count] += 1
                if let counter = series.outcomes[reply.outcome] {
                    counter.increment()
                } else {
                    let counter = registry.makeCounter(
                        descriptor: Self.requestsTotal, labels: [("command", series.command), ("outcome", Self.outcomes[reply.outcome])])
                    series.outcomes[reply.outcome] = counter
                    counter.increment()
                }
            }
        }
    }

    /// A command's first request: its series, or `unknown`'s for a name the server does
    /// not know (never kept under that name: a client must not make series up).
    private func seriesMade(for command: String, in series: inout [String: Series]) -> Series {
        let name = CommandTable.info(uppercasedName: command) == nil ? "unknown" : command
        if let known = series[name] { return known }
        let made = Series(
            command: name,
            duration: registry.makeDurationHistogram(descriptor: Self.duration, labels: [("command", name)], buckets: Self.buckets),
            outcomes: Self.outcomes.count)
        series[name] = made
        return made
    }

    /// The index in `outcomes` of a reply's outcome: its error code, if it is an error.
    static func outcome(of reply: RESPValue) -> Int {
        guard case .error(let message) = reply else { return 0 }
        let code = message.utf8.prefix { $0 != UInt8(ascii: " ") }
        return outcomes.firstIndex { $0.utf8.elementsEqual(code) } ?? outcomes.count - 1
    }

    private static var requestsTotal: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "orderline", metricName: "requests_total", unitName: "", helpText: "Requests answered, by command and outcome (ok or the error code)")
    }
    private static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "orderline", metricName: "request_duration_seconds", unitName: "",
            helpText: "From the loop pass that decoded a request to the write of its reply (the WAL's fsync included)")
    }
}
