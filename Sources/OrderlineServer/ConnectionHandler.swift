import DequeModule
import NIOCore
import OrderlineProtocol

/// One client connection, on the engine's event loop. Each request is dispatched as
/// it is decoded — synchronously, isolated to the engine, so decide, append and
/// apply happen in request order with no thread hop — and its reply is written, in
/// request order, once the WAL has acknowledged what it depends on
/// (`AcknowledgementTracker`). Requests of a pipeline never wait for each other's
/// fsync, so they share group commits.
///
/// Back-pressure: with `pipelineDepthMax` replies outstanding the connection stops
/// being read until half of them are written.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = [String]
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: ServingSlot
    private let dispatcher: CommandDispatcher
    private var tracker: AcknowledgementTracker?
    private let configuration: ServerConfiguration
    private let statistics: ServerStatistics
    private var context: ChannelHandlerContext?
    private var session: CommandDispatcher.Session
    /// Sequence number of the next request read, and of the next reply to write.
    private var sequenceNext: UInt64 = 0
    private var sequenceWritten: UInt64 = 0
    /// Replies not yet written, in request order: element i answers request
    /// `sequenceWritten + i`, nil while it is still being worked out (a snapshot).
    private var ready: Deque<CommandDispatcher.Pending?> = []
    private var readPaused = false
    private var readPending = false
    private var closing = false

    init(slot: ServingSlot, dispatcher: CommandDispatcher, configuration: ServerConfiguration, statistics: ServerStatistics) {
        self.slot = slot
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.statistics = statistics
        self.session = dispatcher.initialSession
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        statistics.totalConnections.add(1, ordering: .relaxed)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tracker?.forget(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let tokens = unwrapInboundIn(data)
        let sequence = sequenceNext
        sequenceNext += 1
        guard let serving = slot.serving else {
            let pending = dispatcher.handleWhileLoading(tokens)
            if pending.closeAfter { closing = true }
            ready.append(pending)
            return
        }
        tracker = serving.tracker
        let dispatcher = dispatcher
        var session = session
        var pending = serving.engine.assumeIsolated { engine in dispatcher.handle(tokens, session: &session, engine: engine) }
        self.session = session
        pending.resp3 = session.resp3
        // Nothing after QUIT or SHUTDOWN on this connection is run.
        if pending.closeAfter { closing = true }
        if let later = pending.later {
            // Written when it completes; everything after it waits its turn.
            pending.later = nil
            let resp3 = pending.resp3
            ready.append(nil)
            later.hop(to: context.eventLoop).assumeIsolated().whenComplete { [self] result in
                var reply = CommandDispatcher.Pending(reply: (try? result.get()) ?? .error("ERR internal"))
                reply.resp3 = resp3
                ready[Int(sequence - sequenceWritten)] = reply
                writeReadyReplies()
            }
        } else {
            ready.append(pending)
        }
        if sequenceNext - sequenceWritten >= UInt64(configuration.pipelineDepthMax) { readPaused = true }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        writeReadyReplies()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let protocolError = error as? ProtocolError else {
            context.close(promise: nil)
            return
        }
        // After QUIT the connection closes once its replies are out; ignore the rest.
        guard !closing else { return }
        // Answered after every earlier reply, then the connection closes.
        closing = true
        ready.append(CommandDispatcher.Pending(reply: .error("ERR \(protocolError)"), closeAfter: true))
        sequenceNext += 1
        writeReadyReplies()
    }

    func read(context: ChannelHandlerContext) {
        if readPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Writes, in order, every decided reply whose LSN the WAL has acknowledged.
    func writeReadyReplies() {
        guard let context else { return }
        var buffer: ByteBuffer?
        var closeAfter = false
        while let first = ready.first, var next = first {
            if let tracker, next.lsn > tracker.acknowledged {
                guard let failure = tracker.failure else {
                    tracker.wait(self)
                    break
                }
                next.reply = RESPValue(failure)
            }
            ready.removeFirst()
            if buffer == nil { buffer = context.channel.allocator.buffer(capacity: 256) }
            buffer!.writeRESP(next.reply, resp3: next.resp3)
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
