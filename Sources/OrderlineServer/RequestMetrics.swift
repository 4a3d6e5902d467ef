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
    private let series = Mutex<[String: Series]>([:])

    /// One command's histogram, and its counters by outcome (ok, then each code).
    private struct Series {
        var duration: DurationHistogram
        var outcomes: [Counter?]
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The outcomes a reply can have: `ok`, and the error codes of PROTOCOL.md.
    static let outcomes = ["ok"] + Rejection.Code.allCases.map(\.rawValue) + ["EXECABORT", "NOPROTO", "error"]

    static let buckets: [Duration] = [
        .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    /// One reply written: `command` as the dispatcher named it (uppercased), decoded at
    /// `receivedAt`, written at `now`.
    func record(command: String, reply: RESPValue, receivedAt: NIODeadline, now: NIODeadline) {
        let outcome = Self.outcome(of: reply)
        let nanoseconds = max(0, (now - receivedAt).nanoseconds)
        series.withLock { series in
            let key = series[command] == nil && CommandTable.info(uppercasedName: command) == nil ? "unknown" : command
            if series[key] == nil { series[key] = makeSeries(key) }
            series[key]!.duration.recordNanoseconds(nanoseconds)
            if series[key]!.outcomes[outcome] == nil {
                series[key]!.outcomes[outcome] = registry.makeCounter(
                    descriptor: Self.requestsTotal, labels: [("command", key), ("outcome", Self.outcomes[outcome])])
            }
            series[key]!.outcomes[outcome]!.increment()
        }
    }

    private func makeSeries(_ command: String) -> Series {
        Series(
            duration: registry.makeDurationHistogram(descriptor: Self.duration, labels: [("command", command)], buckets: Self.buckets),
            outcomes: Array(repeating: nil, count: Self.outcomes.count))
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
