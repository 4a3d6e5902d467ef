import Foundation
import NIOCore
import OrderlineCore
import OrderlineProtocol
import OrderlineTestSupport
import NIOConcurrencyHelpers
import Testing

/// A server with a tiny network: one warehouse, one store, SKU HOT with `stock` units.
private func startServer(stock: Int = 200, arguments: [String] = []) throws -> ServerProcess {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.file("data"), arguments: arguments)
    server.keepAlive.append(directory)
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=40.7128", "lon=-74.006") == "+OK")
    #expect(try client.call("NODE.ADD", "ST", "kind=store", "lat=41.8781", "lon=-87.6298") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=49999", "weight=4200", "name=Game console") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "\(stock)") == ":\(stock)")
    return server
}

@Test func inlineRESPAndMixedRequestsShareOneConnection() throws {
    let server = try startServer()
    let client = try server.client()
    try client.send(raw: "PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhi yo\r\nECHO \"quoted \\\"word\\\"\"\n\r\nping again\r\n")
    #expect(try client.readReply() == .simple("PONG"))
    #expect(try client.readReply() == .bulk("hi yo"))
    #expect(try client.readReply() == .bulk("quoted \"word\""))
    #expect(try client.readReply() == .bulk("again"))
    #expect(server.stop() == 0)
}

@Test func requestsSplitAcrossReadsAreReassembled() throws {
    let server = try startServer()
    let client = try server.client()
    // RESP with a bulk holding CRLF, then inline: one byte per send, each its own read.
    let requests = "*3\r\n$7\r\nRESERVE\r\n$3\r\nHOT\r\n$1\r\n1\r\n*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb \r\nECHO \"split line\"\r\n"
    for byte in requests.utf8 {
        try client.send(raw: [byte])
        usleep(500)
    }
    #expect(try client.readReply() == .bulk("R1"))
    #expect(try client.readReply() == .bulk("a\r\nb "))
    #expect(try client.readReply() == .bulk("split line"))
    #expect(server.stop() == 0)
}

@Test func aPipelineDeeperThanTheLimitIsAnsweredInFullAndInOrder() throws {
    // With 4 replies outstanding at most, the rest of one read waits undecoded and
    // is taken up as replies drain: writes (RESERVE, after fsync) and reads mixed.
    let server = try startServer(arguments: ["--max-pipeline", "4"])
    let client = try server.client()
    try client.send(raw: String(repeating: "RESERVE HOT 1\r\nPING\r\nSNAPSHOT\r\n", count: 30))
    for index in 1...30 {
        #expect(try client.readReply() == .bulk("R\(index)"))
        #expect(try client.readReply() == .simple("PONG"))
        #expect(try client.readReply()?.description.hasPrefix("+OK ") == true)
    }
    #expect(try client.call("STOCK.GET", "HOT", "WH").contains("\"atp\":170"))
    #expect(server.stop() == 0)
}

@Test func whatWaitsBehindThePipelineLimitKeepsItsOrderAndItsEnd() throws {
    let server = try startServer(arguments: ["--max-pipeline", "2"])
    let reserveThree = String(repeating: "RESERVE HOT 1\r\n", count: 3)
    // A framing error after the requests that waited: they are answered first.
    let framing = try server.client()
    try framing.send(raw: reserveThree + "*x\r\n")
    for id in 1...3 { #expect(try framing.readReply() == .bulk("R\(id)")) }
    #expect(try framing.readReply()?.description.hasPrefix("-ERR Protocol error: ") == true)
    #expect(try framing.isClosedByServer())
    // QUIT after them: nothing after QUIT runs.
    let quitting = try server.client()
    try quitting.send(raw: reserveThree + "QUIT\r\nRESERVE HOT 1\r\n")
    for id in 4...6 { #expect(try quitting.readReply() == .bulk("R\(id)")) }
    #expect(try quitting.readReply() == .simple("OK"))
    #expect(try quitting.isClosedByServer())
    // A request split while the connection waits.
    let splitting = try server.client()
    try splitting.send(raw: "RESERVE HOT 1\r\nPING\r\nRESERVE HOT 1\r\n*2\r\n$4\r\nEC")
    usleep(100_000)
    try splitting.send(raw: "HO\r\n$2\r\nhi\r\n")
    #expect(try splitting.readReply() == .bulk("R7"))
    #expect(try splitting.readReply() == .simple("PONG"))
    #expect(try splitting.readReply() == .bulk("R8"))
    #expect(try splitting.readReply() == .bulk("hi"))
    #expect(try server.client().call("STOCK.GET", "HOT", "WH").contains("\"atp\":192"))
    #expect(server.stop() == 0)
}

@Test func aHalfClosedConnectionStillGetsEveryReply() throws {
    // `printf '…' | nc -N`: the client sends, shuts down its sending side, reads.
    let server = try startServer(arguments: ["--max-pipeline", "4"])
    let client = try server.client()
    try client.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 10) + "PING\r\n")
    client.shutDownWriting()
    for id in 1...10 { #expect(try client.readReply() == .bulk("R\(id)")) }
    #expect(try client.readReply() == .simple("PONG"))
    #expect(try client.isClosedByServer())
    #expect(try server.client().call("STOCK.GET", "HOT", "WH").contains("\"atp\":190"))
    #expect(server.stop() == 0)
}

@Test(.disabled(if: runsUnderASanitizer, "measures memory or latency")) func aClientThatNeverReadsIsNoLongerReadAndHoldsLittleMemory() throws {
    // It is read ahead while its replies wait, up to --max-read-ahead-bytes (so that a
    // client writing a whole pipeline before it reads never deadlocks), and no further.
    let server = try startServer(arguments: ["--max-read-ahead-bytes", String(4 << 20)])
    let residentBefore = try server.residentBytes()
    nonisolated(unsafe) let flooder = try server.client()
    let sent = NIOLockedValueBox(0)
    let finished = DispatchSemaphore(value: 0)
    let total = 32 << 20
    Thread.detachNewThread {
        // INFO: six bytes asking for kilobytes, so replies would pile up fast.
        let chunk = Array(String(repeating: "INFO\r\n", count: 64 << 10 / 6).utf8)
        while sent.withLockedValue({ $0 }) < total, (try? flooder.send(raw: chunk)) != nil {
            sent.withLockedValue { $0 += chunk.count }
        }
        finished.signal()
    }
    // The flooder stalls once the socket buffers are full: the server stopped
    // reading because its replies could not be written (stalled: no byte taken
    // for 3 s), and the server holds only the replies it could not send.
    var stalledAt = -1
    var unchangedSince = Date()
    while stalledAt < total, Date().timeIntervalSince(unchangedSince) < 3 {
        Thread.sleep(forTimeInterval: 0.25)
        let now = sent.withLockedValue { $0 }
        if now != stalledAt {
            stalledAt = now
            unchangedSince = Date()
        }
    }
    #expect(stalledAt < total, "the server read all \(stalledAt) bytes of a client that never reads")
    let growth = try server.residentBytes() - residentBefore
    #expect(growth < 16 << 20, "resident memory grew by \(growth) bytes")
    #expect(try server.client().call("PING") == "+PONG")
    flooder.shutDown()
    finished.wait()
    #expect(try server.client().call("RESERVE", "HOT", "1") == "$R1")
    #expect(server.stop() == 0)
}


@Test func pipelinedRepliesComeBackInRequestOrder() throws {
    let server = try startServer()
    let client = try server.client()
    var pipeline = ""
    for index in 0..<300 {
        switch index % 3 {
        case 0: pipeline += "RESERVE HOT 1 ttl=600\r\n"
        case 1: pipeline += "ECHO \(index)\r\n"
        default: pipeline += "STOCK.GET HOT WH\r\n"
        }
    }
    try client.send(raw: pipeline)
    var reserved = 0
    for index in 0..<300 {
        let reply = try #require(try client.readReply())
        switch index % 3 {
        case 0:
            reserved += 1
            #expect(reply == .bulk("R\(reserved)"))
        case 1: #expect(reply == .bulk("\(index)"))
        default: #expect(reply.description.contains("\"atp\":\(200 - reserved)"), "\(reply)")
        }
    }
    #expect(server.stop() == 0)
}

@Test func everyErrorCodeTheServerGivesHasItsWording() throws {
    let server = try startServer(stock: 2)
    let client = try server.client()
    #expect(try client.call("FROB", "x") == "-ERR unknown command 'FROB', with args beginning with: 'x' ")
    #expect(try client.call("RESERVE", "HOT") == "-ERR wrong number of arguments for 'reserve' command")
    #expect(try client.call("RESERVE", "HOT", "two") == "-INVALID qty 'two' must be an integer in 1...1000000000")
    #expect(try client.call("RESERVE", "COLD", "1") == "-NOTFOUND sku COLD")
    #expect(try client.call("RESERVE", "HOT", "3") == "-SOLDOUT HOT available=2")
    #expect(try client.call("RESERVE", "HOT", "2", "node=WH") == "$R1")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "1") == "-CONFLICT on_hand=1 is below the 2 units committed for HOT at WH")
    #expect(try client.call("CLOCK.ADVANCE", "5") == "-ERR CLOCK.ADVANCE needs a server started with --clock manual")
    #expect(try client.call("CONFIG", "GET", "appendonly") == "*[$appendonly, $no]")
    #expect(try client.call("COMMAND", "DOCS") == "*[]")
    #expect(try client.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "+OK")
    #expect(try client.call("INFO", "persistence").contains("fsync_policy:always"))
    #expect(try client.call("DIGEST").hasPrefix("$5 "))
    let snapshot = try client.call("SNAPSHOT")
    #expect(snapshot == "+OK 5")
    #expect(try client.call("QUIT") == "+OK")
    #expect(try client.isClosedByServer())
    #expect(server.stop() == 0)
}

@Test func aFramingErrorClosesOnlyItsConnection() throws {
    let server = try startServer()
    let bystander = try server.client()
    #expect(try bystander.call("RESERVE", "HOT", "1") == "$R1")
    for garbage in ["*x\r\n", "*1\r\n:5\r\n", "*1\r\n$99999999\r\n", "PING \"open\r\n", String(repeating: "A", count: 70_000)] {
        let offender = try server.client()
        try offender.send(raw: "PING\r\n" + garbage)
        #expect(try offender.readReply() == .simple("PONG"))
        let error = try #require(try offender.readReply())
        #expect(error.description.hasPrefix("-ERR Protocol error: "), "\(garbage.prefix(20)): \(error)")
        #expect(try offender.isClosedByServer())
        #expect(try bystander.call("PING") == "+PONG")
    }
    #expect(try bystander.call("RESERVATION.GET", "R1").contains("\"status\":\"held\""))
    #expect(server.stop() == 0)
}

@Test func randomBytesNeverCrashTheServerOrDisturbOthers() throws {
    let server = try startServer()
    let bystander = try server.client()
    let digest = try bystander.call("DIGEST")
    for seed in UInt64(1)...40 {
        var generator = SeededGenerator(seed: seed)
        let bytes = (0..<Int.random(in: 1...4096, using: &generator)).map { _ in
            // Bias towards the bytes that matter to the parser.
            [UInt8(ascii: "*"), UInt8(ascii: "$"), 0x0D, 0x0A, UInt8(ascii: "\""), UInt8(ascii: "1")].randomElement(using: &generator)!
                & (Bool.random(using: &generator) ? 0xFF : UInt8.random(in: 0...255, using: &generator))
        }
        let client = try server.client()
        try client.send(raw: bytes)
        // The connection may answer errors, close, or wait for more; we hang up.
        #expect(try bystander.call("PING") == "+PONG", "seed \(seed)")
    }
    #expect(try bystander.call("DIGEST") == digest)
    #expect(server.process.isRunning)
    #expect(server.stop() == 0)
}

@Test func fiftyConnectionsRacingForTwoHundredUnitsGetExactlyTwoHundred() throws {
    let server = try startServer(stock: 200)
    let port = server.port
    let results = runOnThreads(50) { _ -> [String] in
        guard let client = try? RESPTestClient(port: port) else { return ["connect failed"] }
        return (0..<10).map { _ in (try? client.call("RESERVE", "HOT", "1")) ?? "error" }
    }
    let replies = results.flatMap { $0 }
    let ids = replies.filter { $0.hasPrefix("$R") }
    #expect(ids.count == 200)
    #expect(Set(ids).count == 200)
    #expect(replies.filter { $0 == "-SOLDOUT HOT available=0" }.count == 300)
    let client = try server.client()
    #expect(try client.call("STOCK.GET", "HOT").contains(#""atp":0,"network_reserved":200"#))
    let table = try client.call("INFO", "reservations")
    #expect(table.contains("reservations_kept:200\r\nreservation_pages:1\r\nreservations_unpaged:0\r\n"), "\(table)")
    #expect(server.stop() == 0)
}

@Test func reservationsExpireExactlyAtTheirTTLWithTheManualClock() throws {
    let server = try startServer(stock: 5, arguments: ["--clock", "manual"])
    let client = try server.client()
    #expect(try client.call("RESERVE", "HOT", "5", "ttl=60") == "$R1")
    #expect(try client.call("RESERVE", "HOT", "1") == "-SOLDOUT HOT available=0")
    #expect(try client.call("CLOCK.ADVANCE", "59").hasPrefix(":"))
    #expect(try client.call("RESERVATION.GET", "R1").contains("\"status\":\"held\""))
    #expect(try client.call("CLOCK.ADVANCE", "1").hasPrefix(":"))
    #expect(try client.call("RESERVATION.GET", "R1").contains("\"status\":\"expired\""))
    #expect(try client.call("RESERVE", "HOT", "5", "node=WH") == "$R2")
    #expect(try client.call("COMMIT", "R2") == "+OK")
    #expect(try client.call("STOCK.GET", "HOT", "WH").contains("\"on_hand\":0"))
    #expect(server.stop() == 0)
}

@Test func redisCLIWorksAsAnOutsideClient() throws {
    let server = try startServer()
    let port = String(server.port)
    let reserve = try runProcess("/usr/bin/redis-cli", ["-p", port, "RESERVE", "HOT", "3", "node=WH"])
    #expect(reserve.standardOutput == "R1\n")
    let soldOut = try runProcess("/usr/bin/redis-cli", ["-p", port, "RESERVE", "HOT", "1000"])
    #expect(soldOut.standardOutput.contains("SOLDOUT HOT available=197"))
    let stock = try runProcess("/usr/bin/redis-cli", ["-p", port, "--raw", "STOCK.GET", "HOT"])
    #expect(stock.standardOutput.contains(#""reserved":3"#))
    let info = try runProcess("/usr/bin/redis-cli", ["-p", port, "INFO", "persistence"])
    #expect(info.standardOutput.contains("lsn_durable:"))
    #expect(server.stop() == 0)
}

@Test func everyAcknowledgedReservationSurvivesKillDashNineOfTheServer() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    var acknowledged: [String] = []
    for round in 1...3 {
        let server = try ServerProcess(data: data)
        let setup = try server.client()
        if round == 1 {
            _ = try setup.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2")
            _ = try setup.call("SKU.ADD", "HOT", "price=1")
            _ = try setup.call("STOCK.SET", "WH", "HOT", "1000000")
        }
        for id in acknowledged {
            #expect(try setup.call("RESERVATION.GET", id).contains("\"status\":\"held\""), "round \(round): \(id) lost")
        }
        // Reservations the server made durable but could not acknowledge before it
        // died are there too: their clients got no answer either way.
        #expect(try networkReserved(setup) >= acknowledged.count)
        // Eight clients reserve; one of them kills the server mid-stream.
        acknowledged += acknowledgedUntilKilled(server, clients: 8, attempts: 400, killAt: 100 * round) { client, _, _ in
            guard let reply = try? client.readReplyAfterSending(["RESERVE", "HOT", "1"]), case .bulk(let id?) = reply else { return nil }
            return [id]
        }
    }
    #expect(acknowledged.count > 300)
    let final = try ServerProcess(data: data)
    let client = try final.client()
    for id in acknowledged { #expect(try client.call("RESERVATION.GET", id).contains("\"status\":\"held\""), "\(id) lost") }
    #expect(try networkReserved(client) >= acknowledged.count)
    #expect(final.stop() == 0)
}

private func networkReserved(_ client: RESPTestClient) throws -> Int {
    let stock = try client.call("STOCK.GET", "HOT")
    guard let range = stock.range(of: "\"network_reserved\":") else { return -1 }
    return Int(stock[range.upperBound...].prefix(while: \.isNumber)) ?? -1
}

extension RESPTestClient {
    func readReplyAfterSending(_ tokens: [String]) throws -> RESPValue? {
        try send(tokens)
        return try readReply()
    }
}

@Test func rolesAreEnforcedOverTheWire() throws {
    let directory = TemporaryDirectory()
    let tokens = directory.file("tokens.txt")
    _ = FileManager.default.createFile(atPath: tokens, contents: Data("""
        # test tokens
        admin-token-0001-test admin
        pos-st-token-0001-test pos:ST
        web-token-0001-test channel:web
        viewer-token-0001-test viewer
        """.utf8))
    let server = try ServerProcess(data: directory.file("data"), arguments: ["--auth", tokens])
    server.keepAlive.append(directory)
    let anonymous = try server.client()
    #expect(try anonymous.call("RESERVE", "HOT", "1") == "-NOAUTH Authentication required.")
    #expect(try anonymous.call("AUTH", "nope-nope") == "-WRONGPASS invalid username-password pair or user is disabled.")
    let admin = try server.client()
    #expect(try admin.call("AUTH", "admin-token-0001-test") == "+OK")
    _ = try admin.call("NODE.ADD", "ST", "kind=store", "lat=1", "lon=2")
    _ = try admin.call("SKU.ADD", "HOT", "price=1")
    #expect(try admin.call("STOCK.SET", "ST", "HOT", "10") == ":10")

    let pos = try server.client()
    #expect(try pos.call("AUTH", "default", "pos-st-token-0001-test") == "+OK")
    #expect(try pos.call("RESERVE", "HOT", "1") == "-NOPERM pos:ST reserves only at its node: add node=ST")
    #expect(try pos.call("RESERVE", "HOT", "1", "node=ST") == "$R1")
    #expect(try pos.call("STOCK.SET", "ST", "HOT", "1") == "-NOPERM pos:ST may not run this command")
    #expect(try pos.call("SNAPSHOT") == "-NOPERM pos:ST may not run SNAPSHOT")

    let web = try server.client()
    #expect(try web.call("AUTH", "web-token-0001-test") == "+OK")
    #expect(try web.call("RESERVE", "HOT", "2", "idem=cart-9") == "$R2")
    #expect(try web.call("RESERVE", "HOT", "2", "idem=cart-9") == "$R2")
    #expect(try web.call("RELEASE", "R1") == "-NOPERM channel:web may only touch its own reservations")
    #expect(try web.call("RELEASE", "R2") == "+OK")

    let viewer = try server.client()
    #expect(try viewer.call("AUTH", "viewer-token-0001-test") == "+OK")
    #expect(try viewer.call("STOCK.GET", "HOT").contains(#""reserved":1"#))
    #expect(try viewer.call("RESERVE", "HOT", "1") == "-NOPERM viewer may only read")
    #expect(server.stop() == 0)
}

@Test func withoutATokenFileTheServerRefusesANonLoopbackAddress() throws {
    let result = try runProcess(Executables.path("orderline"), ["serve", "--host", "0.0.0.0", "--port", "0"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("loopback only; --host 0.0.0.0 is 0.0.0.0"), "\(result.standardError)")
    // What the name resolves to counts, not how it reads (before, any "127.…" passed).
    let named = try runProcess(Executables.path("orderline"), ["serve", "--host", "127.evil.invalid", "--port", "0"])
    #expect(named.status != 0)
    #expect(named.standardError.contains("--host 127.evil.invalid does not resolve"), "\(named.standardError)")
    let directory = TemporaryDirectory()
    let local = try ServerProcess(data: directory.path, arguments: ["--host", "localhost"])
    #expect(try local.client().call("PING") == "+PONG")
    #expect(local.stop() == 0)
}

/// ECHO gives back the bytes that came, UTF-8 or not (before, `\xff\xfe` came back as
/// U+FFFD); any other command refuses a non-UTF-8 argument rather than mangle it.
@Test func echoIsBinarySafeAndOtherCommandsRefuseBytesThatAreNotText() throws {
    let server = try startServer()
    let client = try server.client()
    try client.send(raw: Array("*2\r\n$4\r\nECHO\r\n$2\r\n".utf8) + [0xFF, 0xFE, 0x0D, 0x0A] + Array("ECHO \"a\\xffb\"\r\n".utf8))
    let expected = Array("$2\r\n".utf8) + [0xFF, 0xFE] + Array("\r\n$3\r\na".utf8) + [0xFF] + Array("b\r\n".utf8)
    #expect(try client.receive(byteCount: expected.count) == expected)
    try client.send(raw: Array("*3\r\n$7\r\nSKU.ADD\r\n$1\r\nS\r\n$7\r\nname=".utf8) + [0xC3, 0x28, 0x0D, 0x0A])
    #expect(try client.readReply() == .error("INVALID argument 2 of SKU.ADD is not valid UTF-8 (only ECHO and PING take any bytes)"))
    #expect(server.stop() == 0)
}

/// Under RESP3, CONFIG GET is a map, as redis-py's `config_get()` expects.
@Test func configGetIsAMapUnderRESP3() throws {
    let server = try startServer()
    let script = """
        import redis, sys
        for protocol in (3, 2):
            r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True, protocol=protocol)
            assert r.config_get("maxclients") == {"maxclients": "10000"}, r.config_get("maxclients")
        print("ok")
        """
    let result = try runProcess("/usr/bin/env", ["python3", "-c", script, String(server.port)])
    #expect(result.standardOutput == "ok\n", "\(result.standardError)")
    #expect(server.stop() == 0)
}

@Test func connectionsDuringRecoveryGetLOADING() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    // A log long enough that replaying it takes a while in a debug build.
    let bench = try runProcess(Executables.path("orderline-walbench"), ["append", "--dir", data, "--writers", "64", "--events", "300000", "--fsync", "never"])
    #expect(bench.status == 0)
    let port = freePort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Executables.path("orderline"))
    process.arguments = ["serve", "--data", data, "--port", String(port)]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    var replies: [String] = []
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
        guard let client = try? RESPTestClient(port: port) else {
            usleep(2_000)
            continue
        }
        let reply = try client.call("RESERVATION.GET", "R1")
        replies.append(reply)
        if !reply.hasPrefix("-LOADING") { break }
        #expect(try client.call("PING") == "+PONG")
        usleep(20_000)
    }
    #expect(replies.first?.hasPrefix("-LOADING Orderline is replaying its log") == true, "\(replies.prefix(3))")
    #expect(replies.last?.contains("\"id\":\"R1\"") == true, "\(replies.suffix(3))")
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
}

/// A port that was free a moment ago (bind to 0, read it, close).
private func freePort() -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length)
            return getsockname(socket, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Test func nothingAfterQuitRuns() throws {
    let server = try startServer(stock: 10)
    let client = try server.client()
    try client.send(raw: "QUIT\r\nRESERVE HOT 1\r\n")
    #expect(try client.readReply() == .simple("OK"))
    #expect(try client.isClosedByServer())
    #expect(try server.client().call("STOCK.GET", "HOT").contains(#""network_reserved":0"#))
    #expect(server.stop() == 0)
}

@Test func limitsOnClientsPipelineAndIdleConnectionsHold() throws {
    let server = try startServer(stock: 1_000, arguments: ["--max-clients", "3", "--max-pipeline", "4", "--idle-timeout", "1"])
    // Back-pressure: 200 pipelined requests through a window of 4 all get answered, in order.
    let pipelined = try server.client()
    // The setup connection has gone once only this one is counted.
    for _ in 0..<200 where !(try pipelined.call("INFO", "clients").contains("connected_clients:1\r\n")) { usleep(10_000) }
    try pipelined.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 200))
    for index in 1...200 { #expect(try pipelined.readReply() == .bulk("R\(index)")) }
    // The connection limit: the fourth client is told and closed (three are open).
    let second = try server.client()
    #expect(try second.call("PING") == "+PONG")
    let third = try server.client()
    #expect(try third.call("PING") == "+PONG")
    let fourth = try server.client()
    #expect(try fourth.readReply() == .error("LIMIT max number of clients reached (3)"))
    #expect(try fourth.isClosedByServer())
    // The idle timeout closes a silent connection.
    sleep(2)
    #expect(try second.isClosedByServer())
    #expect(server.stop() == 0)
}

@Test func helloSwitchesToRESP3AndRedisPyWorksUnchanged() throws {
    let server = try startServer(stock: 50)
    let client = try server.client()
    try client.send(raw: "HELLO 3\r\nRESERVATION.GET R9\r\nCLIENT GETNAME\r\n")
    // The HELLO 3 map, then RESP3 nulls; nothing else changes.
    var expected = ByteBuffer()
    expected.writeRESP(.map([
        ("server", .bulk("orderline")), ("version", .bulk("0.1.0")), ("proto", .integer(3)), ("id", .integer(0)),
        ("mode", .bulk("standalone")), ("role", .bulk("master")), ("modules", .array([])),
    ]), resp3: true)
    expected.writeString("-NOTFOUND reservation R9\r\n_\r\n")
    #expect(try client.receive(bytes: expected.readableBytes) == String(buffer: expected))
    #expect(try client.call("HELLO", "4") == "-NOPROTO unsupported protocol version")

    // redis-py 8 speaks RESP3 by default; both protocols must work.
    let script = """
        import redis, sys
        for protocol in (3, 2):
            r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True, protocol=protocol)
            assert r.ping()
            ids = [r.execute_command("RESERVE", "HOT", "1", "idem=py-%d" % protocol) for _ in range(2)]
            assert ids[0] == ids[1] and ids[0].startswith("R"), ids
            try:
                r.execute_command("RESERVE", "HOT", "999")
                raise SystemExit("no SOLDOUT")
            except redis.ResponseError as error:
                assert str(error).startswith("SOLDOUT HOT available="), error
            pipe = r.pipeline(transaction=False)
            for _ in range(3): pipe.execute_command("RESERVE", "HOT", "1")
            assert all(reply.startswith("R") for reply in pipe.execute())
            assert r.info("persistence")["fsync_policy"] == "always"
        print("ok")
        """
    let result = try runProcess("/usr/bin/env", ["python3", "-c", script, String(server.port)])
    #expect(result.standardOutput == "ok\n", "\(result.standardError)")
    #expect(server.stop() == 0)
}

/// A reply is never lost to a reset: after a framing error the server shuts its write
/// side and drains what the client still sends before it closes ("lingering close").
/// Before, closing with 200 KiB unread made the kernel reset the connection, and the
/// client often got ECONNRESET instead of the error.
@Test func theFramingErrorReplyArrivesEvenWhenTheClientSentMuchMore() throws {
    let server = try startServer()
    let script = """
        import socket, sys
        got = 0
        for _ in range(50):
            client = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            reply = b""
            try:
                # A line over the limit, and more after it, all in one go before reading.
                client.sendall(b"PING " + b"x" * (200 * 1024) + b"y" * (16 << 20))
                while not reply.endswith(b"\\r\\n"):
                    chunk = client.recv(4096)
                    if not chunk: break
                    reply += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass
            got += reply == b"-ERR Protocol error: too big inline request\\r\\n"
            client.close()
        print(got)
        """
    let result = try runProcess("/usr/bin/env", ["python3", "-c", script, String(server.port)])
    #expect(result.standardOutput == "50\n", "\(result.standardError)")
    #expect(server.stop() == 0)
}

/// COMMAND answers from the one registry, as Redis lays it out: cluster-aware clients
/// and redis-cli find names, arity, flags and where the key is.
@Test func commandDescribesEveryCommandFromTheRegistry() throws {
    let server = try startServer()
    let client = try server.client()
    #expect(try client.call("COMMAND", "COUNT") == ":\(OrderlineCore.CommandTable.registry.count)")
    #expect(try client.call("COMMAND", "INFO", "reserve", "nope")
        == "*[*[$reserve, :-3, *[+write], :1, :1, :1, *[], *[], *[], *[]], *-1]")
    #expect(try client.call("COMMAND", "INFO", "stock.set") == "*[*[$stock.set, :-4, *[+write], :2, :2, :1, *[], *[], *[], *[]]]")
    #expect(try client.call("COMMAND", "INFO", "ping") == "*[*[$ping, :-1, *[+readonly, +loading, +no_auth], :0, :0, :0, *[], *[], *[], *[]]]")
    guard case .array(let all?) = try client.readReplyAfterSending(["COMMAND"]) else { Issue.record("COMMAND"); return }
    #expect(all.count == OrderlineCore.CommandTable.registry.count)
    #expect(try client.call("COMMAND", "DOCS") == "*[]")
    #expect(server.stop() == 0)
}
