import Foundation
import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineStorage
import ServiceLifecycle

/// The network side of `orderline serve`, as a ServiceLifecycle service: binds the
/// listener on one event loop (answering `-LOADING` while the engine recovers), opens
/// the engine on that same loop, fires reservation expiries on time, and on graceful
/// shutdown (SIGTERM, SIGINT, SHUTDOWN) stops accepting, lets connections finish
/// what they sent, and closes the engine (a final fsync).
public final class OrderlineService: Service {
    private let eventLoop: any EventLoop
    private let openEngine: @Sendable (any EventLoop) async throws -> Engine
    private let configuration: ServerConfiguration
    private let clock: any EngineClock
    private let logger: Logger
    private let statistics = ServerStatistics()
    private let onReady: @Sendable (SocketAddress, Engine) async -> Void
    private let metrics: ServerMetrics

    /// Requests taken and not yet answered, over every connection (admission control).
    public var requestsWaiting: Int { statistics.requestsWaiting.load(ordering: .relaxed) }
    /// Requests refused `LIMIT busy` by admission control.
    public var requestsRefusedBusy: Int { statistics.rejectedBusy.load(ordering: .relaxed) }

    /// `openEngine` recovers and returns the engine, running on the loop it is given.
    public init(
        eventLoop: any EventLoop, configuration: ServerConfiguration, clock: any EngineClock, logger: Logger,
        metrics: ServerMetrics = ServerMetrics(),
        openEngine: @escaping @Sendable (any EventLoop) async throws -> Engine,
        onReady: @escaping @Sendable (SocketAddress, Engine) async -> Void
    ) {
        self.metrics = metrics
        self.eventLoop = eventLoop
        self.openEngine = openEngine
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        // One event loop, the engine's own: connections call into the engine without a
        // thread hop. (On two cores a second loop competes with the engine and the
        // WAL writer for CPU; measured: it raised p99 at pipeline depth 1.)
        let loop = eventLoop
        let slot = ServingSlot(eventLoop: loop)
        let shutdownRequest = AsyncStream<Void>.makeStream()
        // Long lists are rendered here, off the loop; stopped with the service.
        let renderPool = NIOThreadPool(numberOfThreads: 2)
        renderPool.start()
        defer { renderPool.shutdownGracefully { _ in } }
        let configuration = configuration
        let statistics = statistics
        let logger = logger
        // Only scraped with --http: without it, replies are not timed.
        let requestMetrics = configuration.http == nil ? nil : metrics.requests
        let replication = try await loop.submit {
            NIOLoopBound(Replication(eventLoop: loop, primaryToken: configuration.primaryToken, logger: logger), eventLoop: loop)
        }.get()
        let dispatcher = CommandDispatcher(
            configuration: configuration, statistics: statistics, clock: clock, logger: logger, renderPool: renderPool,
            replication: replication, requestShutdown: { shutdownRequest.continuation.yield() })
        let registry = try await loop.submit {
            NIOLoopBound(ConnectionRegistry(configuration: configuration), eventLoop: loop)
        }.get()
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: loop)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                // A client that shuts down its sending side still gets its replies.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let address = channel.remoteAddress?.ipAddress ?? "?"
                        let admission = registry.value.admit(address: address)
                        if case .refused(let reason) = admission {
                            statistics.rejectedConnections.add(1, ordering: .relaxed)
                            var buffer = channel.allocator.buffer(capacity: 64)
                            buffer.writeRESP(.error(reason))
                            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
                            return
                        }
                        statistics.connectedClients.add(1, ordering: .relaxed)
                        channel.closeFuture.whenComplete { _ in
                            statistics.connectedClients.subtract(1, ordering: .relaxed)
                            registry.value.release(address: address)
                        }
                        if configuration.idleTimeoutSeconds > 0 {
                            try channel.pipeline.syncOperations.addHandler(
                                IdleStateHandler(allTimeout: .seconds(configuration.idleTimeoutSeconds)))
                            try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionHandler(
                                slot: slot, dispatcher: dispatcher, registry: registry.value, configuration: configuration,
                                statistics: statistics, requestMetrics: requestMetrics, logger: logger, peer: address,
                                keptForAdmin: admission == .keptForAdmin))
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw ServerStartError(message: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        // The HTTP side listener answers from now on: /healthz says "loading" until recovery is done.
        let http: Task<Void, any Error>?
        do {
            http = try await startHTTP(slot: slot, replication: replication)
        } catch {
            try? await channel.close()
            throw error
        }
        let engine: Engine
        do {
            engine = try await openEngine(loop)
        } catch {
            http?.cancel()
            try? await channel.close()
            throw error
        }
        let lsn = await engine.lsn
        let tracker = try await loop.submit {
            AcknowledgementTracker(
                eventLoop: loop, acknowledged: lsn, syncReplicas: configuration.syncReplicas,
                syncTimeout: .milliseconds(configuration.syncTimeoutMilliseconds))
        }.get()
        engine.observeAcknowledgements { lsn, failure in tracker.report(lsn, failure: failure) }
        let listeningPort = channel.localAddress?.port ?? configuration.port
        let directory = engine.directory
        let history = try await DedicatedThread.run(name: "orderline-history") { try ReplicationHistory.read(in: directory) }
        try await loop.submit {
            replication.value.listeningPort = listeningPort
            replication.value.tracker = tracker
            replication.value.history = history
            // A replica from its first request on: no client write gets in before.
            if let primary = configuration.replicaOf {
                engine.assumeIsolated { replication.value.follow(host: primary.host, port: primary.port, engine: $0) }
            } else if configuration.standby {
                engine.assumeIsolated { replication.value.standBy(engine: $0) }
            }
            slot.fill(.init(engine: engine, tracker: tracker))
        }.get()
        // Deadlines (authentication, a request still arriving, unread replies), once a second.
        try await loop.submit { registry.value.servingSince = .now() }.get()
        let sweeper = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            registry.value.sweep(now: .now())
        }
        // Replies that waited for sync replicas longer than the timeout go out as NOREPLICAS.
        let syncTimeouts = configuration.syncReplicas > 0
            ? loop.scheduleRepeatedTask(initialDelay: .milliseconds(5), delay: .milliseconds(5)) { _ in tracker.releaseTimedOut() } : nil
        let lagProbe = configuration.queueDelayMaxMilliseconds > 0
            ? try await loop.submit { Self.probeLoopLag(on: loop, into: statistics) }.get() : nil
        if let address = channel.localAddress { await onReady(address, engine) }

        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.fireExpiries(engine) }
            tasks.addTask {
                await withGracefulShutdownHandler {
                    for await _ in shutdownRequest.stream { break }
                } onGracefulShutdown: {
                    shutdownRequest.continuation.finish()
                }
            }
            await tasks.next()
            tasks.cancelAll()
        }
        logger.info("shutting down: no new connections, draining")
        sweeper.cancel()
        syncTimeouts?.cancel()
        lagProbe?.cancel()
        http?.cancel()
        _ = await http?.result
        try? await loop.submit { replication.value.closeLink() }.get()
        try? await channel.close()
        // Replies already decided are sent once durable; give them a moment.
        try? await Task.sleep(for: .milliseconds(100))
        await engine.close()
    }

    /// Starts `--http` (`HTTPSideListener`) on the engine's loop; returns once it
    /// listens (its task: cancel it to stop it), or nil without `--http`.
    private func startHTTP(slot: ServingSlot, replication: NIOLoopBound<Replication>) async throws -> Task<Void, any Error>? {
        guard let address = configuration.http else { return nil }
        let listening = AsyncStream<Int>.makeStream()
        let application = HTTPSideListener(
            host: address.host, port: address.port, eventLoop: eventLoop, tokens: configuration.tokens, metrics: metrics, slot: slot,
            statistics: statistics, replication: replication, logger: logger
        ).application { port in
            listening.continuation.yield(port)
            listening.continuation.finish()
        }
        let task = Task {
            defer { listening.continuation.finish() }
            try await application.run()
        }
        var ports = listening.stream.makeAsyncIterator()
        guard let port = await ports.next() else {
            let failure = await task.result
            throw ServerStartError(message: "cannot listen for HTTP on \(address.host):\(address.port): \(failure)")
        }
        // On standard error: standard output's first line is the ready line scripts wait for.
        FileHandle.standardError.write(Data("orderline: http on \(address.host):\(port) (the operations page /, /metrics, /healthz)\n".utf8))
        return task
    }

    /// Admission control's view of the loop (`queueDelayMaxMilliseconds`): a task due
    /// every millisecond records how late it ran. Requests that wait in the sockets'
    /// buffers are invisible to the server, but the loop then runs late by about as
    /// long as one pass over them takes. Called on `loop`.
    private static func probeLoopLag(on loop: any EventLoop, into statistics: ServerStatistics) -> RepeatedTask {
        let period = TimeAmount.milliseconds(1)
        let due = NIOLoopBoundBox(NIODeadline.now() + period, eventLoop: loop)
        return loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let now = NIODeadline.now()
            statistics.loopLagMicroseconds.store(Int(max(0, (now - due.value).nanoseconds / 1_000)), ordering: .relaxed)
            due.value = now + period
        }
    }

    /// Fires expiries when the clock reaches them (checked every 100 ms; commands
    /// also fire them before they are decided, so no reply ever sees a stale cart).
    private func fireExpiries(_ engine: Engine) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            if let next = await engine.nextExpiry, next <= clock.now() {
                _ = await engine.tick()
            }
        }
    }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Closes a connection that sent nothing for the idle timeout.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
