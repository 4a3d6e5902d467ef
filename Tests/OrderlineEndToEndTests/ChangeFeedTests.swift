import Foundation
import OrderlineCore
import OrderlineProtocol
import OrderlineTestSupport
import Synchronization
import Testing

private let orderline = Executables.path("orderline")

/// One `EVENTS.READ`: the next cursor and the events' JSON.
private func read(_ client: RESPTestClient, _ arguments: String...) throws -> (next: Int64, events: [String])? {
    try client.send(["EVENTS.READ"] + arguments)
    guard case .array(let items?)? = try client.readReply(), items.count == 2, case .integer(let next) = items[0],
          case .array(let events?) = items[1]
    else { return nil }
    return (next, events.compactMap { if case .bulk(let json?) = $0 { json } else { nil } })
}

private func lsn(ofEvent json: String) -> Int64? {
    json.split(separator: ",").first.flatMap { $0.split(separator: ":").last }.flatMap { Int64($0) }
}

/// A consumer that keeps its cursor sees every event once, in order, across a kill -9
/// of the server in the middle of a write load: what it read is, line for line, what
/// `orderline replay --export` writes for the log. BLOCK answers as soon as an event is
/// durable; TYPES filters; a `channel:web` token sees only web orders' events; bad
/// arguments are `INVALID`, a `pos` token `NOPERM`.
@Test(.timeLimit(.minutes(5)))
func aConsumerSeesEveryEventOnceAcrossAKill() throws {
    let directory = TemporaryDirectory()
    let tokens = directory.file("tokens")
    try "admin-token-0001 admin\nweb-token-000001 channel:web\npos-token-000001 pos:WH\n".write(toFile: tokens, atomically: true, encoding: .utf8)
    let data = directory.file("data")
    var server = try ServerProcess(data: data, arguments: ["--auth", tokens])
    let setup = try server.client()
    #expect(try setup.call("AUTH", "admin-token-0001") == "+OK")
    #expect(try setup.call("NODE.ADD", "WH", "kind=warehouse", "lat=40.6", "lon=-75.5") == "+OK")
    for sku in ["A", "B"] {
        #expect(try setup.call("SKU.ADD", sku, "price=100") == "+OK")
        #expect(try setup.call("STOCK.SET", "WH", sku, "100000") == ":100000")
    }
    #expect(try setup.call("ORDER.CREATE", "W-1", "channel=web", "customer=C1", "lines=A:1,B:1", "ship=40.7,-74.0").hasPrefix("$"))
    #expect(try setup.call("ORDER.CREATE", "M-1", "channel=mobile", "customer=C2", "lines=A:1", "ship=40.7,-74.0").hasPrefix("$"))
    #expect(try setup.call("ORDER.CANCEL", "W-1") == "+OK")

    // Bad arguments, and a role that may not read the feed.
    #expect(try setup.call("EVENTS.READ", "FROM", "x").hasPrefix("-INVALID FROM 'x'"))
    #expect(try setup.call("EVENTS.READ", "FROM", "0", "COUNT", "0").hasPrefix("-INVALID COUNT"))
    #expect(try setup.call("EVENTS.READ", "FROM", "0", "TYPES", "nope").hasPrefix("-INVALID TYPES"))
    #expect(try setup.call("EVENTS.READ", "SINCE", "0").hasPrefix("-ERR syntax"))
    let pos = try server.client()
    #expect(try pos.call("AUTH", "pos-token-000001") == "+OK")
    #expect(try pos.call("EVENTS.READ", "FROM", "0").hasPrefix("-NOPERM"))

    // TYPES, and the channel's scope.
    let orders = try #require(try read(setup, "FROM", "0", "TYPES", "order_placed,order_cancelled"))
    #expect(orders.events.count >= 2 && orders.events.allSatisfy { $0.contains("\"type\":\"order_") }, "\(orders.events)")
    let web = try server.client()
    #expect(try web.call("AUTH", "web-token-000001") == "+OK")
    let scoped = try #require(try read(web, "FROM", "0", "COUNT", "1000"))
    #expect(!scoped.events.isEmpty && scoped.events.allSatisfy { $0.contains("W-1") && !$0.contains("M-1") }, "\(scoped.events)")

    // BLOCK: answered as soon as a write is durable, not at the timeout.
    let caughtUp = try #require(try read(setup, "FROM", "0", "COUNT", "10000")).next
    let blocked = try server.client()
    #expect(try blocked.call("AUTH", "admin-token-0001") == "+OK")
    try blocked.send(["EVENTS.READ", "FROM", "\(caughtUp)", "BLOCK", "20000"])
    usleep(200_000)
    let wrote = Date()
    #expect(try setup.call("RESERVE", "A", "1").hasPrefix("$R"))
    guard case .array(let items?)? = try blocked.readReply(), case .array(let events?) = items[1] else {
        Issue.record("BLOCK did not answer")
        return
    }
    #expect(Date().timeIntervalSince(wrote) < 5 && events.count == 1, "\(events)")
    #expect(try #require(try read(setup, "FROM", "\(caughtUp + 1)", "BLOCK", "100")).events.isEmpty, "an empty answer after the timeout")

    // A consumer under a write load, across kill -9 and restart.
    let consumed = Mutex<[String]>([])
    let cursor = Mutex<Int64>(0)
    let stop = Mutex(false)
    let writerPort = server.port
    let writer = Thread {
        guard let client = try? RESPTestClient(port: writerPort), (try? client.call("AUTH", "admin-token-0001")) == "+OK" else { return }
        for round in 0..<100_000 where !stop.withLock({ $0 }) {
            guard (try? client.call("RESERVE", round % 2 == 0 ? "A" : "B", "1"))?.hasPrefix("$R") == true else { return }
        }
    }
    writer.start()
    func consume(port: Int, until deadline: Date) throws {
        let client = try RESPTestClient(port: port)
        #expect(try client.call("AUTH", "admin-token-0001") == "+OK")
        while Date() < deadline {
            guard let batch = try read(client, "FROM", "\(cursor.withLock { $0 })", "COUNT", "50", "BLOCK", "200") else { return }
            consumed.withLock { $0 += batch.events }
            cursor.withLock { $0 = batch.next }
        }
    }
    try consume(port: server.port, until: Date().addingTimeInterval(1.5))
    #expect(server.stop(signal: SIGKILL) == SIGKILL)
    stop.withLock { $0 = true }
    server = try ServerProcess(data: data, arguments: ["--auth", tokens])
    try consume(port: server.port, until: Date().addingTimeInterval(1.5))
    #expect(server.stop() == 0)

    let export = directory.file("export.jsonl")
    let replay = try runProcess(orderline, ["replay", data, "--export", export])
    #expect(replay.status == 0, "\(replay.standardError)")
    let logged = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").map(String.init)
    let seen = consumed.withLock { $0 }
    #expect(logged.count > 200, "the load ran")
    #expect(seen == logged, "\(seen.count) events consumed, \(logged.count) in the log; first difference at \(zip(seen, logged).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(seen.count, logged.count))")
    #expect(seen.compactMap(lsn(ofEvent:)) == Array(1...Int64(seen.count)))
}

/// A cursor older than what the log still holds (snapshots removed its segments) is
/// told where to start again.
@Test(.timeLimit(.minutes(5)))
func aCursorOlderThanTheLogIsToldWhereToStartAgain() throws {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--snapshot-every", "200"])
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=40.6", "lon=-75.5") == "+OK")
    #expect(try client.call("SKU.ADD", "A", "price=100") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "A", "100000") == ":100000")
    for _ in 0..<1_000 { #expect(try client.call("RESERVE", "A", "1").hasPrefix("$R")) }
    let gone = try client.call("EVENTS.READ", "FROM", "0")
    #expect(gone.hasPrefix("-NOTFOUND events after LSN 0 are no longer in the log") && gone.contains("orderline restore --until"), "\(gone)")
    #expect(server.stop() == 0)
}

/// `ORDER.HISTORY`: every event of an order and its shipments, oldest first, with LSN,
/// time and type, scoped like `ORDER.GET`; the same after a restart from a snapshot
/// (the order's span is then unknown, and the segments kept are read instead).
@Test(.timeLimit(.minutes(5)))
func orderHistoryListsEveryEventOfTheOrder() throws {
    let directory = TemporaryDirectory()
    let tokens = directory.file("tokens")
    try "admin-token-0001 admin\ncustomer-token-c2 customer:C-2\n".write(toFile: tokens, atomically: true, encoding: .utf8)
    var server = try ServerProcess(data: directory.file("data"), arguments: ["--auth", tokens, "--keep-wal"])
    let client = try server.client()
    #expect(try client.call("AUTH", "admin-token-0001") == "+OK")
    for command in [
        ["NODE.ADD", "WH", "kind=warehouse", "lat=40.7128", "lon=-74.006"],
        ["CARRIER.SET", "GROUND", "standard", "base=500", "per_km=100", "per_kg=50", "bands=500:2,1500:3,5000:5"],
        ["SKU.ADD", "HOT", "price=4999", "weight=420"], ["STOCK.SET", "WH", "HOT", "50"],
    ] { #expect(try client.readReplyAfterSending(command).map { if case .error = $0 { false } else { true } } == true, "\(command)") }
    #expect(try client.call("ORDER.CREATE", "O-1", "channel=web", "customer=C-1", "lines=HOT:2", "ship=39.9526,-75.1652", "payment=tok_visa_4242", "reply=id") == "$O-1")
    #expect(try client.call("ORDER.CREATE", "O-2", "channel=web", "customer=C-2", "lines=HOT:1", "ship=39.9526,-75.1652", "reply=id") == "$O-2")
    for step in ["SHIPMENT.PICK", "SHIPMENT.PACK", "SHIPMENT.SHIP", "SHIPMENT.DELIVER"] {
        #expect(!(try client.call(step, "O-1-S1").hasPrefix("-")), "\(step)")
    }
    for _ in 0..<40 { #expect(try client.call("RESERVE", "HOT", "1", "ttl=600").hasPrefix("$R")) }

    func history(_ client: RESPTestClient, _ order: String) throws -> [String] {
        let reply = try client.call("ORDER.HISTORY", order)
        #expect(reply.hasPrefix("${\"order\":\"\(order)\",\"complete\":true,\"events\":["), "\(reply)")
        // Each entry: …"type":"<type>","event":{…}: the type just before "event".
        return reply.components(separatedBy: "\",\"event\":").dropLast().map { $0.components(separatedBy: "\"type\":\"").last ?? "?" }
    }
    let expected = ["order_placed"] + Array(repeating: "shipment_advanced", count: 4)
    #expect(try history(client, "O-1") == expected)
    #expect(try client.call("ORDER.HISTORY", "O-1").contains("\"time\":\"20"))
    #expect(try client.call("ORDER.HISTORY", "NOPE").hasPrefix("-NOTFOUND"))
    let customer = try server.client()
    #expect(try customer.call("AUTH", "customer-token-c2") == "+OK")
    #expect(try customer.call("ORDER.HISTORY", "O-1").hasPrefix("-NOTFOUND"), "another customer's order answers as unknown")
    #expect(try history(customer, "O-2") == ["order_placed"])

    #expect(try client.call("SNAPSHOT").hasPrefix("+OK"))
    #expect(server.stop() == 0)
    server = try ServerProcess(data: directory.file("data"), arguments: ["--auth", tokens, "--keep-wal"])
    let again = try server.client()
    #expect(try again.call("AUTH", "admin-token-0001") == "+OK")
    #expect(try history(again, "O-1") == expected)
    #expect(server.stop() == 0)
}
