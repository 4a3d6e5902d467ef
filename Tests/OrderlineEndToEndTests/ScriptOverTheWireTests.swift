import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every script of `Tests/Scripts` against a live server (`--clock manual`, a fresh
/// data directory each), over a socket: the same replies as the core value gives
/// in-process (`OrderlineCoreTests.scriptRunsAgainstTheCore`). Then the server takes
/// a snapshot and restarts from it: the same digest, and the same derived state (KPIs,
/// work queues: rebuilt from the orders, not in the digest). With `--shards 4` too,
/// restarted with one shard: a snapshot loads into any shard count.
@Test(arguments: TestScript.names, [1, 4])
func scriptRunsAgainstALiveServer(name: String, shards: Int) throws {
    let script = try TestScript(named: name)
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--clock", "manual", "--shards", "\(shards)"])
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
    let again = try ServerProcess(data: directory.path, arguments: ["--clock", "manual", "--shards", shards == 1 ? "3" : "1"])
    #expect(again.standardError.contains("snapshot: snapshot-"), "\(again.standardError)")
    #expect(try answers(again.client()) == before, "a restart from the snapshot rebuilds the same state")
    #expect(again.stop() == 0)
}
