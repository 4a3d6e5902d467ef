import NIOCore
import OrderlineProtocol

/// One client connection. Requests read in one go are handed, in order, as one batch
/// to a task that dispatches them (one engine turn for a run of core commands); the
/// decided replies come back in one hop, and are written in request order once the
/// WAL has acknowledged what each depends on (`AcknowledgementTracker`). Requests of
/// a pipeline never wait for each other's fsync, so they share group commits.
///
/// Back-pressure: with `pipelineDepthMax` replies outstanding the connection stops
/// being read until half of them are written.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = [String]
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Work: Sendable {
        case requests([(sequence: UInt64, tokens: [String])])
        case protocolError(sequence: UInt64, ProtocolError)
    }

    private let dispatcher: CommandDispatcher
    private let tracker: AcknowledgementTracker
    private let configuration: ServerConfiguration
    private let statistics: ServerStatistics
    private var context: ChannelHandlerContext?
    private var work: AsyncStream<Work>.Continuation?
    private var unsent: [(sequence: UInt64, tokens: [String])] = []
    /// Sequence number of the next request read, and of the next reply to write.
    private var sequenceNext: UInt64 = 0
    private var sequenceWritten: UInt64 = 0
    /// Decided replies not yet written, by sequence number.
    private var ready: [UInt64: CommandDispatcher.Pending] = [:]
    private var readPaused = false
    private var readPending = false
    private var closing = false

    init(dispatcher: CommandDispatcher, tracker: AcknowledgementTracker, configuration: ServerConfiguration, statistics: ServerStatistics) {
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.configuration = configuration
        self.statistics = statistics
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        statistics.connectedClients.add(1, ordering: .relaxed)
        statistics.totalConnections.add(1, ordering: .relaxed)
        let (stream, continuation) = AsyncStream<Work>.makeStream()
        work = continuation
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let dispatcher = dispatcher
        let initialSession = dispatcher.initialSession
        Task {
            var session = initialSession
            for await item in stream {
                switch item {
                case .requests(let requests):
                    let replies = await dispatcher.handle(requests, session: &session)
                    eventLoop.execute { handler.value.receive(replies) }
                case .protocolError(let sequence, let error):
                    let reply = CommandDispatcher.Pending(reply: .error("ERR \(error)"), closeAfter: true)
                    eventLoop.execute { handler.value.receive([(sequence, reply)]) }
                    return
                }
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        statistics.connectedClients.add(-1, ordering: .relaxed)
        work?.finish()
        work = nil
        tracker.forget(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        unsent.append((sequenceNext, unwrapInboundIn(data)))
        sequenceNext += 1
        if sequenceNext - sequenceWritten >= UInt64(configuration.pipelineDepthMax) { readPaused = true }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sendUnsent()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let protocolError = error as? ProtocolError, !closing else {
            context.close(promise: nil)
            return
        }
        // Answered after every earlier reply, then the connection closes.
        closing = true
        sendUnsent()
        work?.yield(.protocolError(sequence: sequenceNext, protocolError))
        sequenceNext += 1
    }

    func read(context: ChannelHandlerContext) {
        if readPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    private func sendUnsent() {
        guard !unsent.isEmpty else { return }
        work?.yield(.requests(unsent))
        unsent.removeAll(keepingCapacity: true)
    }

    private func receive(_ replies: [(UInt64, CommandDispatcher.Pending)]) {
        for (sequence, pending) in replies { ready[sequence] = pending }
        writeReadyReplies()
    }

    /// Writes, in order, every decided reply whose LSN the WAL has acknowledged.
    func writeReadyReplies() {
        guard let context else { return }
        var buffer: ByteBuffer?
        var closeAfter = false
        while var next = ready[sequenceWritten] {
            if next.lsn > tracker.acknowledged {
                guard let failure = tracker.failure else {
                    tracker.wait(self)
                    break
                }
                next.reply = RESPValue(failure)
            }
            ready.removeValue(forKey: sequenceWritten)
            if buffer == nil { buffer = context.channel.allocator.buffer(capacity: 256) }
            buffer!.writeRESP(next.reply)
            sequenceWritten += 1
            if next.closeAfter {
                closeAfter = true
                break
            }
        }
        guard let buffer else { return }
        if closeAfter {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        if readPaused, sequenceNext - sequenceWritten <= UInt64(configuration.pipelineDepthMax / 2) {
            readPaused = false
            if readPending {
                readPending = false
                context.read()
            }
        }
    }
}
