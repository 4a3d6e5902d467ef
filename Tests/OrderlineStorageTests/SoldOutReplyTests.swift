import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// A `SOLDOUT` to `RESERVE` is sent once the log holds what sold the SKU out, and not
/// later: other SKUs' writes queued meanwhile do not hold it back. When the SKU's stock
/// changes, the first `SOLDOUT` after it waits for the whole state it was decided on,
/// and the ones after it for that point only.
@Test func aSoldOutReplyWaitsOnlyForWhatSoldTheSKUOut() async throws {
    let directory = TemporaryDirectory()
    let engine = try await openEngine(directory.path)
    for line in ["NODE.ADD WH kind=warehouse lat=1 lon=2", "SKU.ADD GONE price=100", "SKU.ADD MORE price=100",
                 "STOCK.SET WH GONE 1", "STOCK.SET WH MORE 100"] {
        let reply = await run(engine, line)
        #expect(reply == "+OK" || reply.hasPrefix(":"), "\(line): \(reply)")
    }
    func submit(_ line: String) async throws -> Engine.Submission {
        await engine.submit(try CommandTable.parse(try InlineTokenizer.tokenize(line)))
    }
    func isSoldOut(_ submission: Engine.Submission) -> Bool {
        if case .failure(let rejection) = submission.outcome { return rejection.code == .soldOut }
        return false
    }

    let lastUnit = try await submit("RESERVE GONE 1")
    let first = try await submit("RESERVE GONE 1")
    #expect(isSoldOut(first) && first.lsn == lastUnit.lsn)
    let other = try await submit("RESERVE MORE 1")
    #expect(other.lsn > lastUnit.lsn)
    let second = try await submit("RESERVE GONE 1")
    #expect(isSoldOut(second) && second.lsn == lastUnit.lsn, "waits for \(lastUnit.lsn), not for MORE's \(other.lsn)")
    // Any other rejection still waits for the whole state.
    let unknown = try await submit("RESERVE NOSUCH 1")
    #expect(unknown.lsn == other.lsn)

    // New stock, sold out again: the stock is not what was seen, so the first answer
    // waits for the whole state, and the next ones for that point only.
    #expect(try await submit("STOCK.SET WH GONE 3").lsn > other.lsn)
    let rest = try await submit("RESERVE GONE 2")
    let more = try await submit("RESERVE MORE 1")
    #expect(more.lsn > rest.lsn)
    let third = try await submit("RESERVE GONE 1")
    #expect(isSoldOut(third) && third.lsn == more.lsn)
    #expect(try await submit("RESERVE MORE 1").lsn > more.lsn)
    let fourth = try await submit("RESERVE GONE 1")
    #expect(isSoldOut(fourth) && fourth.lsn == more.lsn)
    #expect(await engine.soldOutReplies == 4)
    _ = await engine.waitUntilAcknowledged(await engine.lsn)
    await engine.close()
}
