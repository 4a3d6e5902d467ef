import ArgumentParser
import Foundation
import OrderlineProtocol

/// The kill -9 drill: runs `orderline serve` as a child, reserves under load from many
/// connections, kills the server with SIGKILL at a random moment, restarts it and
/// checks that every acknowledged reservation is held and that no counter went wrong.
/// Repeats K times on the same data directory.
struct Drill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "kill -9 the server under load, restart, check every acknowledged reservation.")

    @Option(help: "The orderline executable.") var server = ".build/release/orderline"
    @Option(help: "Data directory (created; must not be in use).") var data = "/tmp/orderline-drill"
    @Option(help: "Kill/restart rounds.") var rounds = 5
    @Option(name: .customShort("c"), help: "Connections.") var connections = 16
    @Option(name: .customShort("P"), help: "Pipeline depth.") var pipeline = 8
    @Option(help: "Random seed for the kill moments (printed, so a failure can be replayed).") var seed: UInt64 = 1
    @Option(help: "Port for the child server (127.0.0.1).") var port = 7410

    func run() async throws {
        var generator = SplitMix(seed: seed)
        print("drill: seed \(seed), \(rounds) rounds, \(connections) connections, pipeline \(pipeline)")
        var acknowledged = Set<String>()
        for round in 1...rounds {
            let child = try startServer()
            if round == 1 {
                _ = try await SimpleConnection(host: "127.0.0.1", port: port).call([
                    ["NODE.ADD", "DRILL-WH", "kind=warehouse", "lat=1", "lon=2"], ["SKU.ADD", "DRILL", "price=1"],
                    ["STOCK.SET", "DRILL-WH", "DRILL", "1000000000"],
                ])
            }
            try await check(acknowledged, round: round)
            let killAfter = Double(generator.next() % 1_500 + 200) / 1_000
            let pid = child.processIdentifier
            let killer = Task {
                try? await Task.sleep(for: .seconds(killAfter))
                kill(pid, SIGKILL)
            }
            let requests = (0..<connections).map { _ in (0..<100_000).map { _ in ["RESERVE", "DRILL", "1", "ttl=86400"] } }
            let outcome = try? await PipelinedRunner(host: "127.0.0.1", port: port).run(connections: requests, pipelineDepth: pipeline, tolerateClose: true)
            _ = await killer.value
            child.waitUntilExit()
            var acknowledgedNow = 0
            for reply in (outcome?.replies ?? []).joined() {
                if case .bulk(let id?) = reply {
                    acknowledged.insert(id)
                    acknowledgedNow += 1
                }
            }
            print("round \(round): killed after \(killAfter) s; \(acknowledgedNow) reservations acknowledged before the kill")
        }
        let child = try startServer()
        try await check(acknowledged, round: rounds + 1)
        kill(child.processIdentifier, SIGTERM)
        child.waitUntilExit()
        guard child.terminationStatus == 0 else { throw LoadError("the server exited \(child.terminationStatus) on SIGTERM") }
        print("drill passed: \(acknowledged.count) acknowledged reservations all held after \(rounds) kills")
    }

    private func startServer() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = ["serve", "--data", data, "--port", String(port)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("ready") else { throw LoadError("the server did not start") }
        return process
    }

    private func check(_ acknowledged: Set<String>, round: Int) async throws {
        let ids = acknowledged.sorted()
        let replies = try await SimpleConnection(host: "127.0.0.1", port: port).call(
            ids.map { ["RESERVATION.GET", $0] } + [["STOCK.GET", "DRILL"]])
        let lost = zip(ids, replies).filter { !$0.1.description.contains("\"status\":\"held\"") }.map(\.0)
        guard lost.isEmpty else { throw LoadError("round \(round): \(lost.count) acknowledged reservations lost, e.g. \(lost[0])") }
        let stock = replies.last?.description ?? ""
        func field(_ name: String) -> Int {
            stock.components(separatedBy: "\"\(name)\":").dropFirst().first.flatMap { Int($0.prefix(while: \.isNumber)) } ?? -1
        }
        // Conservation: what carts hold plus what is still available is all the stock.
        guard field("network_reserved") >= acknowledged.count, field("atp") + field("network_reserved") == 1_000_000_000 else {
            throw LoadError("round \(round): stock does not add up: \(stock.prefix(200))")
        }
    }
}

/// SplitMix64, for reproducible kill moments.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
