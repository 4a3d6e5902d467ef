import ArgumentParser
import Foundation
import Histogram
import NIOCore
import OrderlineProtocol

/// One consumer of the change feed (`EVENTS.READ`) reading from an LSN until it has
/// caught up with the server: events per second, and the latency of each read.
struct Feed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Read the change feed (EVENTS.READ) from an LSN until caught up; events/s.")

    @Option(help: "Server address (127.0.0.1 only in this project's tests).") var host = "127.0.0.1"
    @Option(help: "Server port.") var port = 7410
    @Option(help: "Read the events after this LSN.") var from: UInt64 = 0
    @Option(help: "Events per read (COUNT).") var count = 10_000
    @Option(help: "Keep following for this many seconds after catching up (BLOCK reads), 0: stop at once.") var follow = 0.0

    func run() async throws {
        let connection = SimpleConnection(host: host, port: port)
        var cursor = from
        var events = 0
        var reads = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let started = Date()
        var caughtUpAt: Date?
        while caughtUpAt == nil || Date().timeIntervalSince(caughtUpAt!) < follow {
            let asked = DispatchTime.now().uptimeNanoseconds
            var request = ["EVENTS.READ", "FROM", "\(cursor)", "COUNT", "\(count)"]
            if caughtUpAt != nil { request += ["BLOCK", "200"] }
            guard case .array(let items?)? = try await connection.call([request]).first, items.count == 2,
                  case .integer(let next) = items[0], case .array(let batch?) = items[1]
            else { throw LoadError("unexpected reply to \(request.joined(separator: " "))") }
            histogram.record((DispatchTime.now().uptimeNanoseconds - asked) / 1_000)
            reads += 1
            events += batch.count
            cursor = UInt64(next)
            if batch.count < count, caughtUpAt == nil { caughtUpAt = Date() }
        }
        let seconds = (caughtUpAt ?? Date()).timeIntervalSince(started)
        print(String(
            format: "feed: %d events in %d reads, caught up with LSN %llu in %.2f s: %.0f events/s; read latency p50 %.1f ms, p99 %.1f ms",
            events, reads, cursor, seconds, Double(events) / max(seconds, 1e-9),
            Double(histogram.valueAtPercentile(50)) / 1_000, Double(histogram.valueAtPercentile(99)) / 1_000))
    }
}
