import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every script of `Tests/Scripts` against a live server (`--clock manual`, a fresh
/// data directory each), over a socket: the same replies as the core value gives
/// in-process (`OrderlineCoreTests.scriptRunsAgainstTheCore`). Then the server takes
/// a snapshot and restarts from it: the same digest, and the same derived state (KPIs,
/// work queues: rebuilt from the orders, not in the digest).
@Test(arguments: TestScript.names)
func scriptRunsAgainstALiveServer(name: String) throws {
    let script = try TestScript(named: name)
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    let client = try server.client()
    let mismatches = try script.run { line in
        try client.readReplyAfterSending(try InlineTokenizer.tokenize(line))?.description ?? "(closed)"
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    let probes = [["DIGEST"], ["KPI"], ["KPI", "channel=web"], ["SHIPMENT.LIST", "node=WH"], ["INFO", "orders"]]
    func answers(_ client: RESPTestClient) throws -> [String] {
        try probes.map { try client.readReplyAfterSending($0)?.description ?? "(closed)" }
    }
    let before = try answers(client)
    #expect(try client.call("SNAPSHOT").hasPrefix("+OK"))
    #expect(server.stop() == 0)
    let again = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    #expect(again.standardError.contains("snapshot: snapshot-"), "\(again.standardError)")
    #expect(try answers(again.client()) == before, "a restart from the snapshot rebuilds the same state")
    #expect(again.stop() == 0)
}
