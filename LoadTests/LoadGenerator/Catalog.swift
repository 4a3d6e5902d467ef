import ArgumentParser
import Foundation

/// Loads a large catalog: `nodes` warehouses and `skus` SKUs stocked at every node,
/// pipelined over several connections. For the memory and recovery-time benchmark.
struct Catalog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Load N SKUs stocked at M nodes (memory and recovery benchmarks).")

    @OptionGroup var server: Target
    @Option(help: "SKUs.") var skus = 1_000_000
    @Option(help: "Nodes; every SKU is stocked at each.") var nodes = 4
    @Option(name: .customShort("c"), help: "Connections.") var connections = 8
    @Option(name: .customShort("P"), help: "Pipeline depth.") var pipeline = 64

    func run() async throws {
        let auth: [[String]] = server.token.map { [["AUTH", $0]] } ?? []
        let nodeIDs = (0..<nodes).map { "CAT-WH-\($0)" }
        _ = try await SimpleConnection(host: server.host, port: server.port).call(
            auth + nodeIDs.enumerated().map { ["NODE.ADD", $1, "kind=warehouse", "lat=4\($0).5", "lon=-7\($0).5"] })
        let runner = PipelinedRunner(host: server.host, port: server.port)
        let perConnection = (skus + connections - 1) / connections
        let requests: [[[String]]] = (0..<connections).map { connection in
            var list = auth
            for index in (connection * perConnection)..<min(skus, (connection + 1) * perConnection) {
                let sku = "CAT-\(index)"
                list.append(["SKU.ADD", sku, "price=\(100 + index % 10_000)", "weight=\(50 + index % 5_000)"])
                for node in nodeIDs { list.append(["STOCK.SET", node, sku, "\(index % 500 + 1)"]) }
            }
            return list
        }
        let outcome = try await runner.run(connections: requests, pipelineDepth: pipeline)
        let operations = requests.reduce(0) { $0 + $1.count }
        report("catalog \(skus) SKUs x \(nodes) nodes", operations: operations, outcome: outcome)
        let errors = outcome.replies.joined().filter { if case .error = $0 { true } else { false } }
        guard errors.isEmpty else { throw LoadError("\(errors.count) commands failed, e.g. \(errors[0])") }
    }
}
