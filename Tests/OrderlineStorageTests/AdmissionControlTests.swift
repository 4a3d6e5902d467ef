import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Admission control over the wire, with fsyncs held (nothing is acknowledged while
/// the test looks, however slow the machine): beyond `--max-waiting-per-client` a
/// connection's commands are answered `LIMIT busy`, in order; beyond `--max-waiting`
/// every connection's are, at once, EXEC included; connection commands still run;
/// nothing refused was applied; INFO counts the refusals.
@Test func requestsBeyondTheWaitingBoundsAreRefusedAtOnce() async throws {
    var configuration = ServerConfiguration()
    configuration.waitingRequestsMax = 12
    configuration.waitingRequestsPerClientMax = 8
    let server = try await InProcessServer.start(configuration)
    let first = try RESPTestClient(port: server.port)
    try server.setUp(first)

    // 20 pipelined while nothing can be acknowledged: 8 taken, 12 refused (this
    // connection's bound), all answered in order once the fsync goes through.
    server.fileSystem.holdSyncs()
    try first.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 20))
    try await server.waitUntil("20 requests waiting") { $0.requestsWaiting == 20 }
    // Another connection meanwhile: the server holds 20 waiting (bound 12), so its
    // commands are refused at once, EXEC too; PING still answers.
    let second = try RESPTestClient(port: server.port)
    try second.send(raw: "RESERVE HOT 1\r\nPING\r\nMULTI\r\nRESERVE HOT 1\r\nEXEC\r\n")
    let secondReplies = try (0..<5).map { _ in try second.readReply()?.description ?? "closed" }
    #expect(secondReplies == ["-LIMIT busy, retry", "+PONG", "+OK", "+QUEUED", "-LIMIT busy, retry"])
    server.fileSystem.releaseSyncs()

    let firstReplies = try (0..<20).map { _ in try first.readReply()?.description ?? "closed" }
    #expect(firstReplies.prefix(8).allSatisfy { $0.hasPrefix("$R") }, "\(firstReplies)")
    #expect(firstReplies.dropFirst(8).allSatisfy { $0 == "-LIMIT busy, retry" }, "\(firstReplies)")
    let info = try first.call("INFO", "stats") + first.call("INFO", "clients")
    #expect(info.contains("rejected_busy:14"), "\(info)")
    #expect(info.contains("requests_waiting:0"), "\(info)")
    #expect(await server.engine.stateForInspection.reservations.count == 8, "nothing refused was applied")
    await server.stop()
}

/// A request that waited in the server's input longer than `--max-queue-ms` is
/// refused: with a pipeline limit of 4 and fsyncs held for longer than the 2 s
/// allowed, the 16 requests behind the first 4 wait in the input too long.
@Test func requestsThatWaitedTooLongInTheInputAreRefused() async throws {
    var configuration = ServerConfiguration()
    configuration.pipelineDepthMax = 4
    configuration.queueDelayMaxMilliseconds = 2_000
    let server = try await InProcessServer.start(configuration)
    let client = try RESPTestClient(port: server.port)
    try server.setUp(client)
    server.fileSystem.holdSyncs()
    try client.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 20))
    try await server.waitUntil("4 requests taken") { $0.requestsWaiting == 4 }
    try await Task.sleep(for: .milliseconds(2_100))  // past the bound; a slower machine only makes them older
    server.fileSystem.releaseSyncs()
    let replies = try (0..<20).map { _ in try client.readReply()?.description ?? "closed" }
    #expect(replies.prefix(4).allSatisfy { $0.hasPrefix("$R") }, "\(replies)")
    #expect(replies.dropFirst(4).allSatisfy { $0 == "-LIMIT busy, retry" }, "\(replies)")
    // Once the input is drained, requests are taken again.
    #expect(try client.call("RESERVE", "HOT", "1").hasPrefix("$R"))
    #expect(server.service.requestsRefusedBusy == 16)
    #expect(await server.engine.stateForInspection.reservations.count == 5)
    await server.stop()
}

/// The server in this process, on a data directory of its own, its fsyncs under the
/// test's control (`FaultInjectingFileSystem.holdSyncs`).
private struct InProcessServer {
    let service: OrderlineService
    let port: Int
    let engine: Engine
    let fileSystem: FaultInjectingFileSystem
    let running: Task<Void, any Error>
    let directory: TemporaryDirectory

    static func start(_ configuration: ServerConfiguration) async throws -> InProcessServer {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem(.none)
        var configuration = configuration
        configuration.port = 0
        let ready = AsyncStream<(port: Int, engine: Engine)>.makeStream()
        let service = OrderlineService(
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, clock: ManualClock(),
            logger: Logger(label: "test"),
            openEngine: { loop in
                var engineConfiguration = Engine.Configuration(dataDirectory: directory.path)
                engineConfiguration.fileSystem = fileSystem
                return try await Engine.open(engineConfiguration, clock: ManualClock(), eventLoop: loop).engine
            },
            onReady: { address, engine in ready.continuation.yield((address.port ?? 0, engine)) })
        let running = Task { try await service.run() }
        var started = ready.stream.makeAsyncIterator()
        let (port, engine) = try #require(await started.next(), "the server did not start")
        return InProcessServer(service: service, port: port, engine: engine, fileSystem: fileSystem, running: running, directory: directory)
    }

    /// A warehouse and a SKU with stock to reserve.
    func setUp(_ client: RESPTestClient) throws {
        for line in ["NODE.ADD WH kind=warehouse lat=1 lon=2", "SKU.ADD HOT price=100", "STOCK.SET WH HOT 1000"] {
            try client.send(line.split(separator: " ").map(String.init))
            let reply = try client.readReply()?.description ?? "(closed)"
            #expect(!reply.hasPrefix("-"), "\(line): \(reply)")
        }
    }

    /// Polls until `condition` holds (it is about the server's own progress, which the
    /// held fsyncs cannot undo), failing after 60 s.
    func waitUntil(_ what: String, _ condition: (OrderlineService) -> Bool) async throws {
        for _ in 0..<6_000 {
            if condition(service) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting until \(what)")
    }

    func stop() async {
        fileSystem.releaseSyncs()
        running.cancel()
        _ = try? await running.value
    }
}
