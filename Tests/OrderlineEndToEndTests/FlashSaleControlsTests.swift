import Foundation
import OrderlineTestSupport
import Testing

// The flash-sale controls over the wire: exact under concurrency, kept across a crash
// (Tests/Scripts/06-flash-sale-controls.txt shows each rule step by step).

private func startSale(limit: Int, arguments: [String] = [], data: String? = nil) throws -> ServerProcess {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: data ?? directory.file("data"), arguments: arguments)
    server.keepAlive.append(directory)
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=40.7", "lon=-74.0") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=49999", "limit=\(limit)") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "10000") == ":10000")
    return server
}

/// Fifty connections race to reserve for five customers with a limit of three each:
/// exactly three carts per customer, never a fourth.
@Test func fiftyConnectionsRacingForTheirLimitsGetExactlyTheLimit() throws {
    let server = try startSale(limit: 3)
    let port = server.port
    let replies = runOnThreads(50) { index -> [String] in
        guard let client = try? RESPTestClient(port: port) else { return ["no connection"] }
        return (0..<4).map { _ in (try? client.call("RESERVE", "HOT", "1", "customer=C-\(index % 5)")) ?? "failed" }
    }
    for customer in 0..<5 {
        let mine = replies.enumerated().filter { $0.offset % 5 == customer }.flatMap(\.element)
        #expect(mine.filter { $0.hasPrefix("$R") }.count == 3, "C-\(customer): \(mine)")
        #expect(mine.filter { $0 == "-LIMIT customer C-\(customer) may buy at most 3 of HOT" }.count == 37, "C-\(customer)")
    }
    #expect(try server.client().call("STOCK.GET", "HOT").contains("\"network_reserved\":15,"))
    #expect(server.stop() == 0)
}

/// What a customer holds and bought is rebuilt from the log after kill -9: the limit
/// still holds, and what they release counts again.
@Test func aLimitHoldsAcrossKillDashNine() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    let server = try startSale(limit: 2, data: data)
    let client = try server.client()
    #expect(try client.call("RESERVE", "HOT", "1", "customer=C-1") == "$R1")
    #expect(try client.call("ORDER.CREATE", "O-1", "channel=web", "customer=C-1", "lines=HOT:1", "ship=40.7,-74.0").contains("\"status\""))
    #expect(server.stop(signal: SIGKILL) == SIGKILL)
    let again = try ServerProcess(data: data)
    let after = try again.client()
    #expect(try after.call("RESERVE", "HOT", "1", "customer=C-1") == "-LIMIT customer C-1 may buy at most 2 of HOT")
    #expect(try after.call("RELEASE", "R1") == "+OK")
    #expect(try after.call("RESERVE", "HOT", "1", "customer=C-1") == "$R2")
    #expect(again.stop() == 0)
}
