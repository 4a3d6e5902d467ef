import DequeModule
import NIOCore
import OrderlineProtocol

/// One client connection, on the engine's event loop. It decodes what it reads
/// (`RESPRequestDecoder`) and dispatches every request of one read in one go —
/// synchronously, isolated to the engine, so decide, append and apply happen in
/// request order with no thread hop — and each reply is written, in
/// request order, once the WAL has acknowledged what it depends on
/// (`AcknowledgementTracker`). Requests of a pipeline never wait for each other's
/// fsync, so they share group commits.
///
/// Back-pressure: with `pipelineDepthMax` replies outstanding the connection stops
/// decoding (what was read waits, undecoded) and being read until half of them are
/// written; and it is neither read nor decoded further while its socket's outgoing
/// buffer is full (NIO's writability). A client that pipelines without reading its
/// replies so holds at most one read cycle of requests (NIO reads up to 16 buffers
/// before it looks again) and `pipelineDepthMax` replies.
///
/// A client that shuts down its sending side (`printf … | nc -N`) still gets every
/// reply; the connection closes after the last one.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
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
    private var resuming = false
    /// The client half-closed: answer what it sent, then close.
    private var inputClosed = false
    private var closing = false
    private var decoder: RESPRequestDecoder
    /// Bytes read but not decoded yet: the start of a request still arriving.
    private var unread: ByteBuffer?
    /// The last read's batch, emptied: its storage serves the next read.
    private var spareBatch = Batch()
    /// The last reply buffer written: once the socket has taken it (NIO holds it no
    /// more), the next replies are written into the same storage.
    private var spareReplyBuffer: ByteBuffer?

    init(slot: ServingSlot, dispatcher: CommandDispatcher, configuration: ServerConfiguration, statistics: ServerStatistics) {
        self.decoder = RESPRequestDecoder(limits: configuration.limits)
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
        // Nothing more is run for a connection that is gone (a write may have failed
        // in the middle of answering what was read).
        closing = true
        unread = nil
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        if var earlier = unread.take() {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        unread = bytes
        handleUnread(context: context, upTo: .max)
    }

    /// Decodes the whole requests read so far and dispatches them in order, at most
    /// `limit` of them and up to `pipelineDepthMax` replies outstanding; the rest
    /// waits in `unread`.
    ///
    /// The decoder runs here, not in NIO's `ByteToMessageHandler`, so that one read's
    /// requests (16 at pipeline depth 16) enter the engine's isolation once: each
    /// `assumeIsolated` call allocates two closure boxes, which per request were
    /// two of its seven mallocs (perf, uprobe on malloc).
    private func handleUnread(context: ChannelHandlerContext, upTo limit: Int) {
        // Nor while the socket cannot take more: a small request can have a large
        // reply (INFO), so what was read must not all be answered into memory.
        guard !readPaused, !closing, context.channel.isWritable, var bytes = unread.take() else { return }
        let room = min(limit, configuration.pipelineDepthMax - Int(sequenceNext - sequenceWritten))
        var batch = Batch()
        swap(&batch, &spareBatch)
        // Moved out, not copied: a request still arriving keeps its tokens in the
        // decoder, and a copy would copy them on every read.
        var decoder = RESPRequestDecoder(limits: configuration.limits)
        swap(&decoder, &self.decoder)
        if let serving = slot.serving {
            tracker = serving.tracker
            let dispatcher = dispatcher
            var session = session
            serving.engine.assumeIsolated { engine in
                Self.decodeAndHandle(&bytes, into: &batch, upTo: room, decoder: &decoder, session: &session) { tokens, session in
                    dispatcher.handle(tokens, session: &session, engine: engine)
                }
            }
            self.session = session
        } else {
            let dispatcher = dispatcher
            Self.decodeAndHandle(&bytes, into: &batch, upTo: room, decoder: &decoder, session: &session) { tokens, _ in
                dispatcher.handleWhileLoading(tokens)
            }
        }
        swap(&decoder, &self.decoder)
        for pending in batch.handled { add(pending, eventLoop: context.eventLoop) }
        let framingError = batch.framingError
        if batch.handled.capacity <= Self.spareBatchCapacityMax {
            batch.handled.removeAll(keepingCapacity: true)
            batch.framingError = nil
            spareBatch = batch
        }
        if let framingError {
            errorCaught(context: context, error: framingError)
        } else if bytes.readableBytes > 0, !closing {
            unread = bytes.slice()
        }
    }

    /// A batch grown past this (a client pipelining thousands of requests in one
    /// read) is not kept for the next read.
    private static let spareBatchCapacityMax = 256

    /// What one read gave: replies to the requests it completed, in order, and the
    /// framing error that ended it, if any (the requests before it are handled).
    private struct Batch: Sendable {
        var handled: [CommandDispatcher.Pending] = []
        var framingError: (any Error)?
    }

    /// Decodes and handles requests until `bytes` holds no whole one, `limit` are
    /// handled, or one of them closes the connection (QUIT, SHUTDOWN).
    private static func decodeAndHandle(
        _ bytes: inout ByteBuffer, into batch: inout Batch, upTo limit: Int, decoder: inout RESPRequestDecoder,
        session: inout CommandDispatcher.Session, _ handle: ([String], inout CommandDispatcher.Session) -> CommandDispatcher.Pending
    ) {
        do {
            while batch.handled.count < limit, let tokens = try decoder.decode(buffer: &bytes) {
                var pending = handle(tokens, &session)
                pending.resp3 = session.resp3
                batch.handled.append(pending)
                if pending.closeAfter { break }
            }
        } catch {
            batch.framingError = error
        }
    }

    /// Queues the reply to the request just handled, in request order.
    private func add(_ handled: CommandDispatcher.Pending, eventLoop: any EventLoop) {
        let sequence = sequenceNext
        sequenceNext += 1
        var pending = handled
        // Nothing after QUIT or SHUTDOWN on this connection is run.
        if pending.closeAfter { closing = true }
        if let later = pending.later {
            // Written when it completes; everything after it waits its turn.
            pending.later = nil
            let resp3 = pending.resp3
            ready.append(nil)
            later.hop(to: eventLoop).assumeIsolated().whenComplete { [self] result in
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
        if readPaused || !context.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeReading(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Decodes and answers what waited, then reads again if a read was held back and
    /// nothing holds it back any more. Iterative, not recursive: writing replies may
    /// unpause the connection, which calls back here. In steps of at most
    /// `resumeStep` requests, so that writability is looked at again in between.
    private func resumeReading(context: ChannelHandlerContext) {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        while !readPaused, !closing, context.channel.isWritable, unread != nil {
            let sequenceBefore = sequenceNext
            handleUnread(context: context, upTo: Self.resumeStep)
            if sequenceNext == sequenceBefore { break }  // only part of a request waits
            writeReadyReplies()
        }
        closeIfAllAnswered(context: context)
        guard readPending, !readPaused, !closing, context.channel.isWritable else { return }
        readPending = false
        context.read()
    }

    private static let resumeStep = 64

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            resumeReading(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After a half-close: once every request read has its reply written (what is
    /// left unread is then at most part of a request), closes after the last write.
    private func closeIfAllAnswered(context: ChannelHandlerContext) {
        guard inputClosed, !closing, ready.isEmpty, !readPaused, context.channel.isWritable else { return }
        unread = nil
        // An empty write completes after every write before it.
        writeThenClose(context.channel.allocator.buffer(capacity: 0), context: context)
    }

    /// Writes `buffer`, then closes the connection once it (and all before it) went out.
    private func writeThenClose(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        closing = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// A reply buffer grown past this (a large list) is not kept for the next replies.
    private static let spareReplyBufferBytesMax = 8 << 10

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
            if buffer == nil {
                buffer = spareReplyBuffer.take() ?? context.channel.allocator.buffer(capacity: 256)
                buffer!.clear()  // reuses the storage if NIO is done with it
            }
            buffer!.writeRESP(next.reply, resp3: next.resp3)
            sequenceWritten += 1
            if next.closeAfter {
                closeAfter = true
                break
            }
        }
        guard let buffer else { return }
        if closeAfter { return writeThenClose(buffer, context: context) }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        if buffer.capacity <= Self.spareReplyBufferBytesMax { spareReplyBuffer = buffer }
        if readPaused, sequenceNext - sequenceWritten <= UInt64(configuration.pipelineDepthMax / 2) {
            readPaused = false
            resumeReading(context: context)
        } else if !resuming {
            closeIfAllAnswered(context: context)
        }
    }
}
