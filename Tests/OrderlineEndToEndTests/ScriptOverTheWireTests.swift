import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every script of `Tests/Scripts` against a live server (`--clock manual`, a fresh
/// data directory each), over a socket: the same replies as the core value gives
/// in-process (`OrderlineCoreTests.scriptRunsAgainstTheCore`). Then the server is
/// restarted and must give the same digest it had.
@Test(arguments: TestScript.names)
func scriptRunsAgainstALiveServer(name: String) throws {
    let script = try TestScript(named: name)
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    let client = try server.client()
    let mismatches = try script.run { line in
        try client.send(try InlineTokenizer.tokenize(line))
        return try client.readReply()?.description ?? "(closed)"
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    let digest = try client.call("DIGEST")
    #expect(server.stop() == 0)
    let again = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    #expect(try again.client().call("DIGEST") == digest, "the log rebuilds the same state")
    #expect(again.stop() == 0)
}
