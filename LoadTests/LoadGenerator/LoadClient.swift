import Histogram
import NIOCore
import NIOPosix
import OrderlineProtocol

/// Drives one connection: keeps `pipelineDepth` requests in flight, records each
/// reply's latency (µs, send to reply) and hands replies, with their latency, to
/// `onReply`. Runs on its channel's event loop only.
final class PipelinedLoadHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue
    typealias OutboundOut = ByteBuffer

    private var requests: IndexingIterator<[[String]]>
    private let pipelineDepth: Int
    private var sentAt: [UInt64] = []
    private var sentAtHead = 0
    /// Told each request, its reply, its latency (µs) and when it came (uptime ns).
    private let onReply: ([String], RESPValue, UInt64, UInt64) -> Void
    private var inFlight: [[String]] = []
    /// Open loop: one request per interval, latency counted from when it was due
    /// (so a slow server cannot hide its queueing: no coordinated omission).
    private let interval: TimeAmount?
    private var pacer: RepeatedTask?
    /// When the first paced request was due; request n is due `n × interval` later.
    private var pacedFrom: UInt64 = 0
    private var paced: UInt64 = 0
    private var exhausted = false
    /// Latency of the replies that are not admission control's `LIMIT busy`: an
    /// overloaded server refuses quickly, which must not pass for speed.
    private(set) var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    let finished: EventLoopPromise<Histogram<UInt64>>

    init(
        requests: [[String]], pipelineDepth: Int, interval: TimeAmount? = nil, finished: EventLoopPromise<Histogram<UInt64>>,
        onReply: @escaping ([String], RESPValue, UInt64, UInt64) -> Void
    ) {
        self.interval = interval
        self.requests = requests.makeIterator()
        self.pipelineDepth = pipelineDepth
        self.finished = finished
        self.onReply = onReply
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let interval else { return sendMore(context: context) }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pacedFrom = NIODeadline.now().uptimeNanoseconds
        pacer = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.sendPaced(context: context, interval: UInt64(interval.nanoseconds))
        }
    }

    /// Sends every request due by now, each stamped with when it was due: a client
    /// loop that falls behind catches up instead of lowering the offered rate.
    private func sendPaced(context: ChannelHandlerContext, interval: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        var buffer = context.channel.allocator.buffer(capacity: 128)
        while pacedFrom + paced * interval <= now {
            guard let request = requests.next() else {
                exhausted = true
                pacer?.cancel()
                break
            }
            buffer.writeRESPRequest(request)
            inFlight.append(request)
            sentAt.append(pacedFrom + paced * interval)
            paced += 1
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
        if exhausted && inFlight.isEmpty { finish(context: context) }
    }

    private func finish(context: ChannelHandlerContext) {
        finished.succeed(histogram)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        let now = NIODeadline.now().uptimeNanoseconds
        let elapsed = (now - sentAt[sentAtHead]) / 1_000
        sentAtHead += 1
        if case .error(let message) = reply, message.hasPrefix("LIMIT busy") {} else { _ = histogram.record(elapsed) }
        onReply(inFlight.removeFirst(), reply, elapsed, now)
        if interval == nil {
            sendMore(context: context)
            if inFlight.isEmpty { finish(context: context) }
        } else if exhausted && inFlight.isEmpty {
            finish(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func sendMore(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 512)
        while inFlight.count < pipelineDepth, let request = requests.next() {
            buffer.writeRESPRequest(request)
            inFlight.append(request)
            sentAt.append(NIODeadline.now().uptimeNanoseconds)
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
    }
}

/// A plain request/reply connection for setup and checks.
final class SimpleConnection {
    private let client: PipelinedRunner

    init(host: String, port: Int) { client = PipelinedRunner(host: host, port: port) }

    func call(_ requests: [[String]]) async throws -> [RESPValue] {
        try await client.run(connections: [requests], pipelineDepth: 64).replies[0]
    }
}

/// Opens one connection per request list, runs them at once on one event loop and
/// collects the replies (in order, per connection) and the merged latency histogram.
struct PipelinedRunner {
    let host: String
    let port: Int

    struct Outcome {
        var replies: [[RESPValue]]
        /// When each reply came (uptime nanoseconds), and its latency (µs), beside `replies`.
        var replyTimes: [[UInt64]]
        var latencies: [[UInt64]]
        /// When the run started (uptime nanoseconds).
        var startedAt: UInt64
        var histogram: Histogram<UInt64>
        var seconds: Double
    }

    /// With `tolerateClose`, a connection closed by the server (a drill's kill) ends
    /// that connection's run with the replies it got so far instead of failing.
    func run(connections: [[[String]]], pipelineDepth: Int, tolerateClose: Bool = false, interval: TimeAmount? = nil) async throws -> Outcome {
        // One event loop: the client must not take the server's second core.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let outcome = try await run(
                connections: connections, pipelineDepth: pipelineDepth, tolerateClose: tolerateClose, interval: interval, loop: group.next())
            try await group.shutdownGracefully()
            return outcome
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(
        connections: [[[String]]], pipelineDepth: Int, tolerateClose: Bool, interval: TimeAmount?, loop: any EventLoop
    ) async throws -> Outcome {
        let count = connections.count
        let collected = try await loop.submit {
            NIOLoopBoundBox<[[RESPValue]]>(Array(repeating: [], count: count), eventLoop: loop)
        }.get()
        let times = try await loop.submit {
            NIOLoopBoundBox<[[UInt64]]>(Array(repeating: [], count: count), eventLoop: loop)
        }.get()
        let latencies = try await loop.submit {
            NIOLoopBoundBox<[[UInt64]]>(Array(repeating: [], count: count), eventLoop: loop)
        }.get()
        let started = NIODeadline.now()
        var promises: [EventLoopPromise<Histogram<UInt64>>] = []
        do {
            for (index, requests) in connections.enumerated() {
                let finished = loop.makePromise(of: Histogram<UInt64>.self)
                promises.append(finished)
                if requests.isEmpty {
                    finished.succeed(Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
                    continue
                }
                let channel = try await ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                            try channel.pipeline.syncOperations.addHandler(
                                PipelinedLoadHandler(requests: requests, pipelineDepth: pipelineDepth, interval: interval, finished: finished) { _, reply, elapsed, at in
                                    collected.value[index].append(reply)
                                    times.value[index].append(at)
                                    latencies.value[index].append(elapsed)
                                })
                        }
                    }
                    .connect(host: host, port: port).get()
                channel.closeFuture.whenComplete { _ in
                    if tolerateClose {
                        finished.succeed(Histogram(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
                    } else {
                        finished.fail(LoadError("connection \(index) closed early"))
                    }
                }
            }
        } catch {
            for promise in promises { promise.fail(error) }
            throw LoadError("cannot connect to \(host):\(port): \(error)")
        }
        let futures = promises.map(\.futureResult)
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for future in futures { merged.add(try await future.get()) }
        let seconds = Double(NIODeadline.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        let replies = try await loop.submit { collected.value }.get()
        let replyTimes = try await loop.submit { times.value }.get()
        let replyLatencies = try await loop.submit { latencies.value }.get()
        return Outcome(
            replies: replies, replyTimes: replyTimes, latencies: replyLatencies, startedAt: started.uptimeNanoseconds, histogram: merged,
            seconds: seconds)
    }
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
