import DequeModule
import NIOCore
import OrderlineProtocol

/// One client connection: hands decoded requests, in order, to a task that
/// dispatches them one after another, and writes the replies back in request order,
/// each once the WAL has acknowledged what it depends on. Requests of a pipeline do
/// not wait for each other's fsync, so they share group commits.
///
/// Back-pressure: with `pipelineDepthMax` replies outstanding the connection stops
/// being read until half of them are written.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = [String]
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Work: Sendable {
        case request(sequence: UInt64, tokens: [String])
        case protocolError(sequence: UInt64, ProtocolError)
    }

    private let dispatcher: CommandDispatcher
    private let configuration: ServerConfiguration
    private let statistics: ServerStatistics
    private var work: AsyncStream<Work>.Continuation?
    private var worker: Task<Void, Never>?
    /// Sequence number of the next request read, and of the next reply to write.
    private var sequenceNext: UInt64 = 0
    private var sequenceWritten: UInt64 = 0
    /// Replies ready but waiting for an earlier one, by sequence number.
    private var ready: [UInt64: CommandDispatcher.Pending] = [:]
    private var readPaused = false
    private var readPending = false
    private var closing = false

    init(dispatcher: CommandDispatcher, configuration: ServerConfiguration, statistics: ServerStatistics) {
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.statistics = statistics
    }

    func channelActive(context: ChannelHandlerContext) {
        statistics.connectedClients.add(1, ordering: .relaxed)
        statistics.totalConnections.add(1, ordering: .relaxed)
        let (stream, continuation) = AsyncStream<Work>.makeStream()
        work = continuation
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let dispatcher = dispatcher
        let initialSession = dispatcher.initialSession
        worker = Task {
            var session = initialSession
            for await item in stream {
                switch item {
                case .request(let sequence, let tokens):
                    let pending = await dispatcher.handle(tokens, session: &session)
                    let complete: @Sendable (CommandDispatcher.Pending) -> Void = { pending in
                        eventLoop.execute {
                            handler.value.complete(sequence, pending, context: loopBoundContext.value)
                        }
                    }
                    if pending.lsn == 0 {
                        complete(pending)
                    } else {
                        dispatcher.whenAcknowledged(pending.lsn) { rejection in
                            var pending = pending
                            if let rejection { pending.reply = RESPValue(rejection) }
                            complete(pending)
                        }
                    }
                case .protocolError(let sequence, let error):
                    eventLoop.execute {
                        handler.value.complete(
                            sequence, CommandDispatcher.Pending(reply: .error("ERR \(error)"), closeAfter: true),
                            context: loopBoundContext.value)
                    }
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
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let tokens = unwrapInboundIn(data)
        work?.yield(.request(sequence: sequenceNext, tokens: tokens))
        sequenceNext += 1
        if sequenceNext - sequenceWritten >= UInt64(configuration.pipelineDepthMax) { readPaused = true }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let protocolError = error as? ProtocolError, !closing else {
            context.close(promise: nil)
            return
        }
        // Answered after every earlier reply, then the connection closes.
        closing = true
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

    /// Stores a finished reply and writes every reply that is now next in line.
    private func complete(_ sequence: UInt64, _ pending: CommandDispatcher.Pending, context: ChannelHandlerContext) {
        ready[sequence] = pending
        guard ready[sequenceWritten] != nil else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var closeAfter = false
        while let next = ready.removeValue(forKey: sequenceWritten) {
            buffer.writeRESP(next.reply)
            sequenceWritten += 1
            if next.closeAfter {
                closeAfter = true
                break
            }
        }
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
