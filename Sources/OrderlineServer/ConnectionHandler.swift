import DequeModule
import Logging
import NIOCore
import OrderlineCore
import OrderlineProtocol

/// One client connection, on the engine's event loop. It decodes what it reads
/// (`RESPRequestDecoder`) and dispatches the requests of one read in one go —
/// synchronously, isolated to the engine, so decide, append and apply happen in
/// request order with no thread hop — and each reply is written, in
/// request order, once the WAL has acknowledged what it depends on
/// (`AcknowledgementTracker`). Requests of a pipeline never wait for each other's
/// fsync, so they share group commits.
///
/// What one connection can take from the others is bounded:
/// - **Time**: it runs requests for at most `passBudgetMicroseconds` in one go; the
///   rest waits (undecoded) for a later pass of the loop, after other connections.
/// - **Replies**: with `pipelineDepthMax` replies outstanding, or `outputBytesSoftMax`
///   bytes of replies not yet taken by its socket, or its socket's buffer full, no more
///   of its requests run until they drain. Over `outputBytesHardMax` (one huge reply
///   after another), or over the soft limit for `outputSoftSeconds`, it is closed.
/// - **Input**: while its replies wait it keeps reading (a client that writes a whole
///   pipeline before reading must not deadlock against its own full socket), up to
///   `readAheadBytesMax` once authenticated, and not at all before. Input held across
///   all connections is capped (`inputBytesBufferedMax`).
/// - **Deadlines** (`ConnectionRegistry.sweep`): authenticate in time, and finish a
///   request once begun.
///
/// A client that shuts down its sending side (`printf … | nc -N`) still gets every
/// reply; the connection closes after the last one.
final class ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let slot: ServingSlot
    private let dispatcher: CommandDispatcher
    private let registry: ConnectionRegistry
    private var tracker: AcknowledgementTracker?
    private let configuration: ServerConfiguration
    private let statistics: ServerStatistics
    /// With `--http`: each reply written is counted and timed, a batch at a time.
    private let requestMetrics: RequestMetrics?
    private var written: [RequestMetrics.Written] = []
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var session: CommandDispatcher.Session
    /// Sequence number of the next request read, and of the next reply to write.
    private var sequenceNext: UInt64 = 0
    private var sequenceWritten: UInt64 = 0
    /// Replies not yet written, in request order: element i answers request
    /// `sequenceWritten + i`, nil while it is still being worked out (a snapshot).
    private var ready: Deque<CommandDispatcher.Pending?> = []
    /// What the replies in `ready` will take on the wire, about.
    private var readyBytes = 0
    /// Replies being made off the loop (a long list, a digest, a snapshot): none of the
    /// connection's later requests runs until they are in, since their size is not
    /// known before (so `outputBytesSoftMax` can hold).
    private var latersInFlight = 0
    /// `pipelineDepthMax` replies are outstanding.
    private var readPaused = false
    private var readPending = false
    /// Whole requests wait in `unread` for room (pipeline depth, reply bytes, socket).
    private var held = false
    private var resuming = false
    private var yieldScheduled = false
    /// The client half-closed: answer what it sent, then close.
    private var inputClosed = false
    /// Closing after a last reply while the client may still send (`writeThenClose`).
    private var lingering = false
    private var closing = false
    private var decoder: RESPRequestDecoder
    /// Bytes read but not decoded yet: requests waiting their turn, and the start of
    /// one still arriving.
    private var unread: ByteBuffer?
    /// The last decode stopped for want of bytes: `unread` holds part of one request
    /// at most (after a half-close, nothing more will complete it).
    private var unreadIsPartial = false
    /// What this connection counts in `statistics.inputBytesBuffered`.
    private var inputAccounted = 0
    /// What this connection counts in `statistics.requestsWaiting`: its replies not
    /// yet written.
    private var waitingAccounted = 0
    /// When the current pass must give the loop back, and when it began (the time
    /// its requests were decoded at).
    private var passDeadline = NIODeadline.distantFuture
    private var passStartedAt = NIODeadline.uptimeNanoseconds(0)
    /// When the oldest bytes in `unread` came (admission control's queueing delay), and
    /// when the last read came.
    private var unreadSince: NIODeadline?
    private var lastReadAt = NIODeadline.distantPast
    private let acceptedAt: NIODeadline
    /// When a request last completed, or input began to wait: a request begun must
    /// complete within `requestTimeoutSeconds` of it.
    private var lastProgress: NIODeadline
    /// Since when the replies waiting are over `outputBytesSoftMax`.
    private var outputOverSoftSince: NIODeadline?
    /// The last read's batch, emptied: its storage serves the next read.
    private var spareBatch = Batch()
    /// The last reply buffer written: once the socket has taken it (NIO holds it no
    /// more), the next replies are written into the same storage.
    private var spareReplyBuffer: ByteBuffer?

    init(
        slot: ServingSlot, dispatcher: CommandDispatcher, registry: ConnectionRegistry, configuration: ServerConfiguration,
        statistics: ServerStatistics, requestMetrics: RequestMetrics? = nil, logger: Logger, peer: String, keptForAdmin: Bool
    ) {
        self.requestMetrics = requestMetrics
        self.slot = slot
        self.dispatcher = dispatcher
        self.registry = registry
        self.configuration = configuration
        self.statistics = statistics
        self.logger = logger
        var session = dispatcher.initialSession
        session.peer = peer
        session.keptForAdmin = keptForAdmin
        self.session = session
        self.decoder = RESPRequestDecoder(limits: configuration.limits, authenticated: session.role != nil)
        self.acceptedAt = .now()
        self.lastProgress = acceptedAt
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        statistics.totalConnections.add(1, ordering: .relaxed)
        registry.register(self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tracker?.forget(self)
        registry.unregister(self)
        // Nothing more is run for a connection that is gone (a write may have failed
        // in the middle of answering what was read).
        closing = true
        unread = nil
        decoder = RESPRequestDecoder(limits: configuration.limits)
        accountInput()
        accountWaiting(0)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        let now = NIODeadline.now()
        lastReadAt = now
        if unread == nil { unreadSince = now }
        if var earlier = unread.take() {
            // Consumed bytes are dropped once they are most of the buffer, so a long
            // pipeline read ahead is neither copied per read nor kept whole.
            if earlier.readerIndex > earlier.readableBytes { earlier.discardReadBytes() }
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        unread = bytes
        accountInput()
        if statistics.inputBytesBuffered.load(ordering: .relaxed) > configuration.inputBytesBufferedMax,
           inputAccounted > configuration.inputFairShareBytes {
            statistics.closedForInput.add(1, ordering: .relaxed)
            logger.warning("closing a connection: the server holds too much unprocessed input", metadata: ["client.address": "\(session.peer)", "input.bytes": "\(inputAccounted)"])
            return closeNow(context: context, saying: "LIMIT the server holds too much unprocessed input; this connection held \(inputAccounted) bytes of it")
        }
        passStartedAt = now
        passDeadline = now + .microseconds(configuration.passBudgetMicroseconds)
        if handleUnread(context: context, upTo: .max) { scheduleYield(context: context) }
    }

    /// Whether requests may run now: nothing holds this connection back. (While the
    /// socket is writable NIO holds less than its high watermark, 64 KiB, so the
    /// replies in `ready` are what counts against `outputBytesSoftMax`.)
    private func mayDispatch(context: ChannelHandlerContext) -> Bool {
        !readPaused && !closing && latersInFlight == 0 && readyBytes < configuration.outputBytesSoftMax && context.channel.isWritable
    }

    /// Replies decided and not yet taken by the socket, in bytes (about).
    private func outputBytes(context: ChannelHandlerContext) -> Int {
        readyBytes + ((try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0)
    }

    /// Whether the replies waiting are over `outputBytesHardMax`. Asking NIO what it
    /// buffers costs a generic lookup (1.5 % of the loop when done on every read), so
    /// only when it can matter: a writable channel buffers less than its high watermark.
    private func overHardLimit(context: ChannelHandlerContext) -> Bool {
        guard readyBytes > configuration.outputBytesHardMax - Self.writableBufferBytesMax || !context.channel.isWritable else {
            return false
        }
        return outputBytes(context: context) > configuration.outputBytesHardMax
    }

    /// NIO's default write-buffer high watermark: above it a channel turns unwritable.
    private static let writableBufferBytesMax = 64 << 10

    /// Decodes the whole requests read so far and runs them in order, at most `limit`
    /// of them, while nothing holds the connection back and the pass has time and room
    /// for replies; the rest waits in `unread`. Returns whether it stopped for the
    /// pass's budget with requests still waiting (the caller yields the loop).
    ///
    /// The decoder runs here, not in NIO's `ByteToMessageHandler`, so that one read's
    /// requests (16 at pipeline depth 16) enter the engine's isolation once: each
    /// `assumeIsolated` call allocates two closure boxes, which per request were
    /// two of its seven mallocs (perf, uprobe on malloc).
    @discardableResult
    private func handleUnread(context: ChannelHandlerContext, upTo limit: Int) -> Bool {
        // Nor while the socket cannot take more: a small request can have a large
        // reply (INFO), so what was read must not all be answered into memory.
        guard unread != nil else { return false }
        guard mayDispatch(context: context), var bytes = unread.take() else {
            held = true
            return false
        }
        let room = min(limit, configuration.pipelineDepthMax - Int(sequenceNext - sequenceWritten))
        let budget = Budget(deadline: passDeadline, replyBytes: configuration.outputBytesSoftMax - readyBytes)
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
            var admission = Admission(
                configuration: configuration, statistics: statistics, waiting: waitingAccounted, queuedSince: unreadSince,
                passStartedAt: passStartedAt)
            serving.engine.assumeIsolated { engine in
                Self.decodeAndHandle(&bytes, into: &batch, upTo: room, budget: budget, decoder: &decoder, session: &session) { request, session in
                    session.busy = admission.takeIsFull()
                    return dispatcher.handle(request, session: &session, engine: engine)
                }
            }
            self.session = session
        } else {
            let dispatcher = dispatcher
            Self.decodeAndHandle(&bytes, into: &batch, upTo: room, budget: budget, decoder: &decoder, session: &session) { request, _ in
                dispatcher.handleWhileLoading(request.tokens)
            }
        }
        swap(&decoder, &self.decoder)
        if !batch.handled.isEmpty { lastProgress = .now() }
        for pending in batch.handled { add(pending, eventLoop: context.eventLoop) }
        accountWaiting(Int(sequenceNext - sequenceWritten))
        let framingError = batch.framingError
        let yielded = batch.yielded
        let handledCount = batch.handled.count
        unreadIsPartial = batch.exhausted
        if batch.handled.capacity <= Self.spareBatchCapacityMax {
            batch.handled.removeAll(keepingCapacity: true)
            batch.framingError = nil
            batch.yielded = false
            batch.exhausted = false
            spareBatch = batch
        }
        // What is left arrived later than the oldest bytes did; at most a request cut
        // short is left, and it came with the last read.
        unreadSince = bytes.readableBytes == 0 ? nil : (batch.exhausted ? lastReadAt : unreadSince)
        if let framingError {
            errorCaught(context: context, error: framingError)
        } else if bytes.readableBytes > 0, !closing {
            unread = bytes
            // Stopped by the pipeline limit or the reply bytes, not by a request cut short.
            if handledCount >= room || (!yielded && !mayDispatch(context: context)) { held = true }
        }
        accountInput()
        if !closing, overHardLimit(context: context) {
            closeForOutput(context: context, reason: "over the hard limit of \(configuration.outputBytesHardMax) bytes")
            return false
        }
        return yielded && unread != nil && !closing
    }

    private static let clockEvery = 8

    /// A batch grown past this (a client pipelining thousands of requests in one
    /// read) is not kept for the next read.
    private static let spareBatchCapacityMax = 256

    /// What one pass of one connection may spend.
    private struct Budget {
        var deadline: NIODeadline
        var replyBytes: Int
    }

    /// What one read gave: replies to the requests it completed, in order, and the
    /// framing error that ended it, if any (the requests before it are handled).
    private struct Batch: Sendable {
        var handled: [CommandDispatcher.Pending] = []
        var framingError: (any Error)?
        /// Stopped for the pass's budget (time or reply bytes).
        var yielded = false
        /// Stopped because no whole request was left.
        var exhausted = false
    }

    /// Decodes and handles requests until `bytes` holds no whole one, `limit` are
    /// handled, the budget is spent, or one of them closes the connection (QUIT,
    /// SHUTDOWN).
    private static func decodeAndHandle(
        _ bytes: inout ByteBuffer, into batch: inout Batch, upTo limit: Int, budget: Budget, decoder: inout RESPRequestDecoder,
        session: inout CommandDispatcher.Session,
        _ handle: (CommandDispatcher.Request, inout CommandDispatcher.Session) -> CommandDispatcher.Pending
    ) {
        var replyBytes = 0
        do {
            while batch.handled.count < limit {
                guard let tokens = try decoder.decode(buffer: &bytes) else {
                    batch.exhausted = true
                    break
                }
                var pending = handle(CommandDispatcher.Request(tokens: tokens, binaryTokens: decoder.binaryTokens), &session)
                pending.resp3 = session.resp3
                if decoder.authenticated != (session.role != nil) { decoder.authenticated = session.role != nil }
                replyBytes += pending.reply.estimatedBytes
                batch.handled.append(pending)
                if pending.closeAfter || pending.later != nil || pending.feed != nil { break }
                // The clock is read every `clockEvery` requests: a request that takes long
                // is rendered off the loop, so a few short ones more do no harm.
                if replyBytes >= budget.replyBytes || (batch.handled.count % Self.clockEvery == 0 && NIODeadline.now() >= budget.deadline) {
                    batch.yielded = true
                    break
                }
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
        pending.receivedAt = passStartedAt
        // Nothing after QUIT or SHUTDOWN on this connection is run, nor after PSYNC
        // (the connection then carries the log to a replica).
        if pending.closeAfter || pending.feed != nil { closing = true }
        if let later = pending.later {
            // Written when it completes; everything after it waits its turn.
            pending.later = nil
            let (resp3, lsn, command, receivedAt) = (pending.resp3, pending.lsn, pending.command, pending.receivedAt)
            ready.append(nil)
            latersInFlight += 1
            later.hop(to: eventLoop).assumeIsolated().whenComplete { [self] result in
                latersInFlight -= 1
                guard sequence >= sequenceWritten else { return }  // the connection failed meanwhile
                var reply = CommandDispatcher.Pending(reply: (try? result.get()) ?? .error("ERR internal"), lsn: lsn)
                (reply.resp3, reply.command, reply.receivedAt) = (resp3, command, receivedAt)
                readyBytes += reply.reply.estimatedBytes
                ready[Int(sequence - sequenceWritten)] = reply
                if let context, !closing, overHardLimit(context: context) {
                    return closeForOutput(context: context, reason: "over the hard limit of \(configuration.outputBytesHardMax) bytes")
                }
                writeReadyReplies()
            }
        } else {
            readyBytes += pending.reply.estimatedBytes
            ready.append(pending)
        }
        if sequenceNext - sequenceWritten >= UInt64(configuration.pipelineDepthMax) { readPaused = true }
    }

    /// Admission control for one pass: whether the next request finds the server, or
    /// this connection, with as many requests waiting as allowed, or itself waited in
    /// this connection's input, or the loop runs behind, longer than allowed (so the
    /// backlog in the sockets' buffers drains at the cost of a refusal, not of a
    /// request, and what is admitted does not queue behind it). Every request taken in the pass
    /// counts as waiting (its reply is queued after the pass).
    private struct Admission {
        let serverMax: Int
        let connectionMax: Int
        let serverWaiting: Int
        let connectionWaiting: Int
        /// The input is older than `queueDelayMax`: the loop is behind.
        let queuedTooLong: Bool
        var taken = 0

        init(configuration: ServerConfiguration, statistics: ServerStatistics, waiting: Int, queuedSince: NIODeadline?, passStartedAt: NIODeadline) {
            serverMax = configuration.waitingRequestsMax
            connectionMax = configuration.waitingRequestsPerClientMax
            serverWaiting = serverMax > 0 ? statistics.requestsWaiting.load(ordering: .relaxed) : 0
            connectionWaiting = waiting
            let delayMax = configuration.queueDelayMaxMilliseconds
            queuedTooLong = delayMax > 0
                && (queuedSince.map { passStartedAt - $0 > .milliseconds(delayMax) } == true
                    || statistics.loopLagMicroseconds.load(ordering: .relaxed) > Int(delayMax) * 1_000)
        }

        mutating func takeIsFull() -> Bool {
            defer { taken += 1 }
            return queuedTooLong || (serverMax > 0 && serverWaiting + taken >= serverMax)
                || (connectionMax > 0 && connectionWaiting + taken >= connectionMax)
        }
    }

    /// Keeps `statistics.requestsWaiting` up to date with this connection's replies not
    /// yet written.
    private func accountWaiting(_ waiting: Int) {
        guard waiting != waitingAccounted else { return }
        statistics.requestsWaiting.add(waiting - waitingAccounted, ordering: .relaxed)
        waitingAccounted = waiting
    }

    /// Keeps `statistics.inputBytesBuffered` up to date with what this connection holds.
    private func accountInput() {
        let buffered = (unread?.readableBytes ?? 0) + decoder.bufferedBytes
        guard buffered != inputAccounted else { return }
        if inputAccounted == 0 { lastProgress = .now() }
        statistics.inputBytesBuffered.add(buffered - inputAccounted, ordering: .relaxed)
        inputAccounted = buffered
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
        let reply = CommandDispatcher.Pending(reply: .error("ERR \(protocolError)"), closeAfter: true)
        readyBytes += reply.reply.estimatedBytes
        ready.append(reply)
        sequenceNext += 1
        writeReadyReplies()
    }

    func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readPending = true
        }
    }

    /// Whether to read from the socket now: when requests may run, and also while they
    /// may not, to read ahead (authenticated connections only, within their limit and
    /// the server's).
    private func mayRead(context: ChannelHandlerContext) -> Bool {
        if closing || mayDispatch(context: context) { return true }
        return session.role != nil && inputAccounted < configuration.readAheadBytesMax
            && statistics.inputBytesBuffered.load(ordering: .relaxed) < configuration.inputBytesBufferedMax
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeReading(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Gives the loop to other connections; this one goes on in a later pass.
    private func scheduleYield(context: ChannelHandlerContext) {
        guard !yieldScheduled else { return }
        yieldScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            yieldScheduled = false
            guard let context = self.context else { return }
            resumeReading(context: context)
        }
    }

    /// Decodes and answers what waited, then reads again if a read was held back and
    /// nothing holds it back any more. Iterative, not recursive: writing replies may
    /// unpause the connection, which calls back here. In steps of at most
    /// `resumeStep` requests, so that writability is looked at again in between, and
    /// within one pass's budget.
    private func resumeReading(context: ChannelHandlerContext) {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        passStartedAt = .now()
        passDeadline = passStartedAt + .microseconds(configuration.passBudgetMicroseconds)
        while unread != nil {
            guard mayDispatch(context: context) else {
                held = true
                break
            }
            held = false
            let sequenceBefore = sequenceNext
            let yielded = handleUnread(context: context, upTo: Self.resumeStep)
            if sequenceNext == sequenceBefore { break }  // only part of a request waits
            writeReadyReplies()
            if yielded {
                scheduleYield(context: context)
                break
            }
        }
        if unread == nil { held = false }
        closeIfAllAnswered(context: context)
        guard readPending, mayRead(context: context) else { return }
        readPending = false
        context.read()
    }

    private static let resumeStep = 64

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            if lingering { context.close(promise: nil) }
            resumeReading(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After a half-close: once every request read has its reply written (what is
    /// left unread is then at most part of a request), closes after the last write.
    private func closeIfAllAnswered(context: ChannelHandlerContext) {
        guard inputClosed, !closing, ready.isEmpty, !readPaused, context.channel.isWritable,
              unread == nil || (unreadIsPartial && !held && !yieldScheduled)
        else { return }
        unread = nil
        accountInput()
        // An empty write completes after every write before it.
        writeThenClose(context.channel.allocator.buffer(capacity: 0), context: context)
    }

    /// Writes `buffer`, then closes the connection once it (and all before it) went out.
    /// If the client may still be sending (a framing error cut its request short), the
    /// close lingers, as web servers do: closing a socket with unread input makes the
    /// kernel send a reset, which can destroy the reply before the client reads it. So
    /// the write side is shut (the client sees the reply, then the end), what still
    /// comes is read and dropped, and the connection closes when the client ends its side
    /// or after `lingerSeconds`.
    private func writeThenClose(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        closing = true
        unread = nil
        accountInput()
        let channel = context.channel
        guard !inputClosed else {
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        lingering = true
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(Self.lingerSeconds)) { channel.close(promise: nil) }
        }
    }

    private static let lingerSeconds: Int64 = 2

    /// Closes at once, sending `message` as an error reply if the socket takes it: for
    /// a connection past a limit or a deadline, whose client may not be reading.
    private func closeNow(context: ChannelHandlerContext, saying message: String?) {
        closing = true
        unread = nil
        accountInput()
        if let message {
            var buffer = context.channel.allocator.buffer(capacity: message.utf8.count + 3)
            buffer.writeRESP(.error(message))
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        context.close(promise: nil)
    }

    private func closeForOutput(context: ChannelHandlerContext, reason: String) {
        statistics.closedForOutput.add(1, ordering: .relaxed)
        logger.warning(
            "closing a connection whose replies are not read", metadata: ["client.address": "\(session.peer)", "reason": "\(reason)"])
        closeNow(context: context, saying: nil)
    }

    /// A connection in a slot kept for admin must authenticate within this: a flood of
    /// sockets cannot sit in those slots for the whole auth timeout.
    private static let keptSlotAuthSeconds: Int64 = 2

    /// Called once a second (`ConnectionRegistry.sweep`).
    func checkDeadlines(now: NIODeadline) {
        guard let context, !closing else { return }
        let authTimeout = session.keptForAdmin ? min(configuration.authTimeoutSeconds, Self.keptSlotAuthSeconds) : configuration.authTimeoutSeconds
        if session.role == nil, configuration.tokens != nil,
           now - max(acceptedAt, registry.servingSince) >= .seconds(authTimeout) {
            statistics.closedForTimeout.add(1, ordering: .relaxed)
            return closeNow(context: context, saying: "NOAUTH Authentication required within \(authTimeout) s; closing")
        }
        if inputAccounted > 0, mayDispatch(context: context), now - lastProgress >= .seconds(configuration.requestTimeoutSeconds) {
            statistics.closedForTimeout.add(1, ordering: .relaxed)
            return closeNow(
                context: context, saying: "ERR Protocol error: a request did not arrive in full within \(configuration.requestTimeoutSeconds) s")
        }
        // Only while the socket is full: replies waiting for an fsync are not the
        // client's doing.
        if !context.channel.isWritable, outputBytes(context: context) >= configuration.outputBytesSoftMax {
            let since = outputOverSoftSince ?? now
            outputOverSoftSince = since
            if now - since >= .seconds(configuration.outputSoftSeconds) {
                closeForOutput(context: context, reason: "over \(configuration.outputBytesSoftMax) bytes for \(configuration.outputSoftSeconds) s")
            }
        } else {
            outputOverSoftSince = nil
        }
    }

    /// A reply buffer grown past this (a large list) is not kept for the next replies.
    private static let spareReplyBufferBytesMax = 8 << 10

    /// Writes, in order, every decided reply whose LSN the WAL has acknowledged.
    func writeReadyReplies() {
        guard let context else { return }
        var buffer: ByteBuffer?
        var closeAfter = false
        var feed: CommandDispatcher.FeedStart?
        var writtenAt: NIODeadline?
        while let first = ready.first, var next = first {
            if let tracker, next.lsn > (next.aboutServer ? tracker.walAcknowledged : tracker.acknowledged) {
                guard let failure = tracker.failure else {
                    tracker.wait(self)
                    break
                }
                next.reply = RESPValue(failure)
            } else if let tracker, !next.aboutServer, next.lsn > tracker.confirmed {
                // Released without the sync replicas' acknowledgement (timed out).
                next.reply = RESPValue(Rejection.notEnoughReplicas)
            }
            ready.removeFirst()
            readyBytes -= first?.reply.estimatedBytes ?? 0
            if requestMetrics != nil {
                // One clock read for the replies written together.
                if writtenAt == nil { writtenAt = .now() }
                written.append(RequestMetrics.Written(
                    command: next.command, outcome: RequestMetrics.outcome(of: next.reply), nanoseconds: max(0, (writtenAt! - next.receivedAt).nanoseconds)))
            }
            if buffer == nil {
                buffer = spareReplyBuffer.take() ?? context.channel.allocator.buffer(capacity: 256)
                buffer!.clear()  // reuses the storage if NIO is done with it
            }
            sequenceWritten += 1
            if let start = next.feed {
                feed = start  // its streamer writes PSYNC's answer
                break
            }
            buffer!.writeRESP(next.reply, resp3: next.resp3)
            if next.closeAfter {
                closeAfter = true
                break
            }
        }
        guard let buffer else { return }
        if let requestMetrics, !written.isEmpty {
            requestMetrics.record(written)
            written.removeAll(keepingCapacity: true)
        }
        accountWaiting(Int(sequenceNext - sequenceWritten))
        if closeAfter { return writeThenClose(buffer, context: context) }
        if let feed {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            return becomeReplicaFeed(feed, context: context)
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        if buffer.capacity <= Self.spareReplyBufferBytesMax { spareReplyBuffer = buffer }
        if readPaused, sequenceNext - sequenceWritten <= UInt64(configuration.pipelineDepthMax / 2) {
            readPaused = false
        }
        if held || readPending {
            resumeReading(context: context)
        } else if !resuming {
            closeIfAllAnswered(context: context)
        }
    }

    /// After `PSYNC`: the connection is a replica's link from now on, and a
    /// `ReplicaFeed` takes this handler's place in the pipeline.
    private func becomeReplicaFeed(_ feed: CommandDispatcher.FeedStart, context: ChannelHandlerContext) {
        tracker?.forget(self)
        registry.unregister(self)
        unread = nil
        accountInput()
        accountWaiting(0)
        let handler = ReplicaFeed(replication: feed.replication.value, streamer: feed.streamer, follower: feed.follower)
        do {
            try context.pipeline.syncOperations.addHandler(handler, position: .after(self))
            try context.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(RESPRequestDecoder(limits: configuration.limits)), position: .after(self))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }
}
