import ArgumentParser
import Foundation
import NIOCore

/// Reservations through a proxy (HAProxy in front of a replicated group) while the
/// primaries are killed: `LoadTests/ha-drill.sh` runs it. Every connection sends short
/// batches and reconnects after any failure; the acknowledged reservation ids go to a
/// file, so the drill can check each on the survivors, and every stretch without an
/// acknowledged write longer than `--gap-ms` is printed: the unavailability window of
/// a failover, from the last acknowledged write before it to the first after it.
struct Failover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover", abstract: "Reservations through a proxy for N seconds; acknowledged ids to a file, and the outages.")

    @Option(help: "Proxy address (127.0.0.1 only in this project's tests).") var host = "127.0.0.1"
    @Option(help: "Proxy port.") var port = 7410
    @Option(help: "Seconds to run.") var seconds = 20.0
    @Option(name: .customShort("c"), help: "Connections.") var connections = 4
    @Option(help: "Requests per batch and connection (each batch connects anew).") var batch = 200
    @Option(help: "The SKU to reserve.") var sku = "HOT"
    @Option(help: "Where to write the acknowledged reservation ids, one per line.") var idsOut: String
    @Option(help: "A stretch without acknowledged writes longer than this is an outage.") var gapMs = 300.0

    func run() async throws {
        let started = Date()
        let startedAt = NIODeadline.now().uptimeNanoseconds
        let deadline = started.addingTimeInterval(seconds)
        var acknowledged: [String] = []
        var refused = 0
        var failedBatches = 0
        /// When each acknowledged write was answered, in seconds since the start.
        var acknowledgedAt: [Double] = []
        let requests = (0..<connections).map { _ in Array(repeating: ["RESERVE", sku, "1", "ttl=86400"], count: batch) }
        while Date() < deadline {
            do {
                let outcome = try await PipelinedRunner(host: host, port: port).run(connections: requests, pipelineDepth: 1, tolerateClose: true)
                var any = false
                for (reply, time) in zip(outcome.replies.joined(), outcome.replyTimes.joined()) {
                    if case .bulk(let id?) = reply, id.hasPrefix("R") {
                        acknowledged.append(id)
                        acknowledgedAt.append(Double(time - startedAt) / 1e9)
                        any = true
                    } else {
                        refused += 1
                    }
                }
                if !any { try await Task.sleep(for: .milliseconds(20)) }
            } catch {
                failedBatches += 1
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try acknowledged.joined(separator: "\n").appending("\n").write(toFile: idsOut, atomically: true, encoding: .utf8)
        acknowledgedAt.sort()
        var outages: [(from: Double, milliseconds: Double)] = []
        for (before, after) in zip(acknowledgedAt, acknowledgedAt.dropFirst()) where (after - before) * 1_000 > gapMs {
            outages.append((before, (after - before) * 1_000))
        }
        print("failover: \(acknowledged.count) reservations acknowledged in \(Int(seconds)) s, \(refused) refused, \(failedBatches) batches failed to connect")
        for outage in outages {
            print(String(format: "outage: at %.1f s, %.0f ms without an acknowledged write", outage.from, outage.milliseconds))
        }
    }
}
