import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Admission control over the wire, on a disk whose fsync takes 2 s (so nothing is
/// answered while the test looks): beyond `--max-waiting-per-client` a connection's
/// commands are answered `LIMIT busy` at once, in order; beyond `--max-waiting` every
/// connection's are, EXEC included; connection commands still run; nothing refused
/// was applied; INFO counts the refusals.
@Test func requestsBeyondTheWaitingBoundsAreRefusedAtOnce() async throws {
    var configuration = ServerConfiguration()
    configuration.waitingRequestsMax = 12
    configuration.waitingRequestsPerClientMax = 8
    let server = try await InProcessServer.start(configuration, syncDelayMilliseconds: 2_000)
    let (port, engine) = (server.port, server.engine)

    let first = try RESPTestClient(port: port)
    for line in ["NODE.ADD WH kind=warehouse lat=1 lon=2", "SKU.ADD HOT price=100", "STOCK.SET WH HOT 1000"] {
        try first.send(raw: line + "\r\n")
    }
    for _ in 0..<3 { #expect(try first.readReply()?.description.hasPrefix("-") == false) }

    // 20 pipelined: 8 taken, 12 refused (this connection's bound), all in order.
    try first.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 20))
    try await Task.sleep(for: .milliseconds(300))  // let the server take them; their fsync takes 2 s
    // Another connection meanwhile: the server holds 20 waiting replies (bound 12), so
    // its commands are refused at once, EXEC too; PING still answers.
    let second = try RESPTestClient(port: port)
    try second.send(raw: "RESERVE HOT 1\r\nPING\r\nMULTI\r\nRESERVE HOT 1\r\nEXEC\r\n")
    let secondReplies = try (0..<5).map { _ in try second.readReply()?.description ?? "closed" }
    #expect(secondReplies == ["-LIMIT busy, retry", "+PONG", "+OK", "+QUEUED", "-LIMIT busy, retry"])

    let firstReplies = try (0..<20).map { _ in try first.readReply()?.description ?? "closed" }
    #expect(firstReplies.prefix(8).allSatisfy { $0.hasPrefix("$R") }, "\(firstReplies)")
    #expect(firstReplies.dropFirst(8).allSatisfy { $0 == "-LIMIT busy, retry" }, "\(firstReplies)")

    let info = try first.call("INFO", "stats") + first.call("INFO", "clients")
    #expect(info.contains("rejected_busy:14"), "\(info)")
    #expect(info.contains("requests_waiting:0"), "\(info)")
    #expect(await engine.stateForInspection.reservations.count == 8, "nothing refused was applied")
    await server.stop()
}

/// A request that waited in the server's input longer than `--max-queue-ms` is
/// refused: with a pipeline limit of 4 and a 2 s fsync, the 16 requests behind the
/// first 4 wait in the input for 2 s, over the 1 s allowed.
@Test func requestsThatWaitedTooLongInTheInputAreRefused() async throws {
    var configuration = ServerConfiguration()
    configuration.pipelineDepthMax = 4
    configuration.queueDelayMaxMilliseconds = 1_000
    let server = try await InProcessServer.start(configuration, syncDelayMilliseconds: 2_000)
    let client = try RESPTestClient(port: server.port)
    try client.send(raw: "NODE.ADD WH kind=warehouse lat=1 lon=2\r\nSKU.ADD HOT price=100\r\nSTOCK.SET WH HOT 1000\r\n")
    for _ in 0..<3 { #expect(try client.readReply()?.description.hasPrefix("-") == false) }
    try client.send(raw: String(repeating: "RESERVE HOT 1\r\n", count: 20))
    let replies = try (0..<20).map { _ in try client.readReply()?.description ?? "closed" }
    #expect(replies.prefix(4).allSatisfy { $0.hasPrefix("$R") }, "\(replies)")
    #expect(replies.dropFirst(4).allSatisfy { $0 == "-LIMIT busy, retry" }, "\(replies)")
    // Once the input is drained, requests are taken again.
    #expect(try client.call("RESERVE", "HOT", "1").hasPrefix("$R"))
    #expect(try client.call("INFO", "stats").contains("rejected_busy:16"))
    #expect(await server.engine.stateForInspection.reservations.count == 5)
    await server.stop()
}

/// The server in this process, on a data directory of its own whose fsyncs take
/// `syncDelayMilliseconds` (a slow disk, so that replies wait while a test looks).
private struct InProcessServer {
    let port: Int
    let engine: Engine
    let running: Task<Void, any Error>
    let directory: TemporaryDirectory

    static func start(_ configuration: ServerConfiguration, syncDelayMilliseconds: Int) async throws -> InProcessServer {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem(.none, syncDelayMilliseconds: syncDelayMilliseconds)
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
        return InProcessServer(port: port, engine: engine, running: running, directory: directory)
    }

    func stop() async {
        running.cancel()
        _ = try? await running.value
    }
}
