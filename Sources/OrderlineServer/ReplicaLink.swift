import Logging
import NIOCore
import NIOPosix
import OrderlineCore
import OrderlineProtocol
import OrderlineStorage

/// A replica's link to its primary. It connects (again a second after any failure),
/// asks for the log after its own last LSN (`PSYNC <term> <lsn>`), appends and applies
/// each frame the primary sends (`Engine.applyReplicated`), and tells the primary what
/// its own WAL made durable (`REPLCONF ACK <lsn>`). When the primary answers
/// `FULLRESYNC` (this replica is too far behind, or asked with `PSYNC ? -1`), it
/// receives the primary's snapshot and replaces its log and state with it
/// (`Engine.resync`) before the frames after it. A link silent for
/// `silenceSecondsMax` (the primary pings every second) is closed and made again.
/// Lives on the engine's loop.
final class ReplicaLink {
    /// As `ROLE` names the states of a replica's link.
    enum Status: String {
        case connecting
        case sync
        case connected
    }

    let host: String
    let port: Int
    private let engine: Engine
    private unowned let replication: Replication
    private let logger: Logger
    private(set) var status = Status.connecting
    /// Why the link went down last (INFO `master_link_down_reason`).
    private(set) var lastError: String?
    /// The primary's acknowledged LSN, as last heard.
    private(set) var primaryLSN: LSN = 0
    private(set) var lastContact: NIODeadline?
    /// Ask for a full re-sync at the next handshake (`REPLICAOF … RESYNC`), until one is done.
    private var resyncRequested: Bool
    /// The primary's snapshot being received after `FULLRESYNC`.
    private var transfer: SnapshotTransfer?
    /// A full re-sync is under way (receiving or replacing): `master_sync_in_progress`.
    var syncInProgress: Bool { transfer != nil || engine.assumeIsolated { $0.resyncing } }
    private var channel: (any Channel)?
    private var handshakeRepliesLeft = 0
    /// What arrived while the primary's history is being made durable here.
    private var held: [RESPValue]?
    /// The link is being closed: what still arrives on it is not acted on.
    private var closing = false
    private var stopped = false

    static let silenceSecondsMax: Int64 = 5
    static let reconnectDelay = TimeAmount.seconds(1)

    private struct SnapshotTransfer {
        var lsn: LSN
        var bytes: Int
        var history: ReplicationHistory
        var received: [UInt8] = []
    }

    init(host: String, port: Int, resync: Bool, engine: Engine, replication: Replication, logger: Logger) {
        self.host = host
        self.port = port
        self.resyncRequested = resync
        self.engine = engine
        self.replication = replication
        self.logger = logger
    }

    func start() {
        connect()
    }

    func stop() {
        stopped = true
        channel?.close(promise: nil)
        channel = nil
    }

    private func connect() {
        guard !stopped else { return }
        status = .connecting
        let bound = NIOLoopBound(self, eventLoop: engine.eventLoop)
        ClientBootstrap(group: engine.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // NIO's idle handler, as client connections have: it tells when the primary went silent.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(Self.silenceSecondsMax)))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder(binaryBulk: true)))
                    try channel.pipeline.syncOperations.addHandler(ReplicaLinkHandler(link: bound.value))
                }
            }
            .connect(host: host, port: port)
            .assumeIsolated()
            .whenFailure { [self] error in
                linkDown("cannot connect to \(host):\(port): \(error)")
            }
    }

    // MARK: Called by the handler

    fileprivate func connected(_ channel: any Channel) {
        guard !stopped else { return channel.close(promise: nil) }
        self.channel = channel
        closing = false
        held = nil
        transfer = nil
        status = .sync
        lastContact = .now()
        var buffer = channel.allocator.buffer(capacity: 128)
        handshakeRepliesLeft = 2
        if let token = replication.primaryToken {
            buffer.writeRESPRequest(["AUTH", token])
            handshakeRepliesLeft += 1
        }
        buffer.writeRESPRequest(["REPLCONF", "listening-port", String(replication.listeningPort)])
        let lsn = engine.assumeIsolated { $0.lsn }
        if resyncRequested {
            buffer.writeRESPRequest(["PSYNC", "?", "-1"])
        } else {
            buffer.writeRESPRequest(["PSYNC", lsn == 0 ? "?" : replication.history.term(at: lsn).description, String(lsn)])
        }
        channel.writeAndFlush(buffer, promise: nil)
    }

    fileprivate func received(_ value: RESPValue, on channel: any Channel) {
        guard !closing, self.channel === channel else { return }
        lastContact = .now()
        if handshakeRepliesLeft > 0 {
            handshakeRepliesLeft -= 1
            guard case .simple(let text) = value else {
                return close(channel, because: "the primary refused the handshake: \(value)")
            }
            if handshakeRepliesLeft == 0 { answeredPSYNC(text, on: channel) }
            return
        }
        if held != nil { return held!.append(value) }
        if transfer != nil { return receivedSnapshotPiece(value, on: channel) }
        switch value {
        case .array(let items?) where items.count == 4 && items[0] == .binary(Array("EVENTS".utf8)):
            guard case .integer(let first) = items[1], case .integer(let last) = items[2], case .binary(let records) = items[3],
                  first >= 1, last >= first
            else { return close(channel, because: "malformed EVENTS message from the primary") }
            primaryLSN = max(primaryLSN, LSN(last))
            if let error = engine.assumeIsolated({ $0.applyReplicated(firstLSN: LSN(first), lastLSN: LSN(last), records: records) }) {
                return close(channel, because: error)
            }
            engine.wal.whenAcknowledged(LSN(last)) { error in
                guard error == nil else { return }
                var buffer = channel.allocator.buffer(capacity: 48)
                buffer.writeRESPRequest(["REPLCONF", "ACK", String(last)])
                channel.writeAndFlush(buffer, promise: nil)
            }
        case .array(let items?) where items.count == 2 && items[0] == .binary(Array("PING".utf8)):
            if case .integer(let lsn) = items[1] { primaryLSN = max(primaryLSN, LSN(lsn)) }
            var buffer = channel.allocator.buffer(capacity: 48)
            buffer.writeRESPRequest(["REPLCONF", "ACK", String(engine.wal.lsnAcknowledged)])
            channel.writeAndFlush(buffer, promise: nil)
        case .error(let message):
            close(channel, because: "the primary: \(message)")
        default:
            close(channel, because: "unexpected message from the primary: \(value.description.prefix(80))")
        }
    }

    /// `+CONTINUE <lsn> <history>`, or `+FULLRESYNC <snapshot LSN> <bytes> <history>`
    /// followed by the snapshot in pieces.
    private func answeredPSYNC(_ text: String, on channel: any Channel) {
        let words = text.split(separator: " ")
        if words.count == 3, words[0] == "CONTINUE", let history = ReplicationHistory(words[2]) {
            linkUp(text)
            if history != replication.history { adopt(history, on: channel) }
        } else if words.count == 4, words[0] == "FULLRESYNC", let lsn = LSN(words[1]), let bytes = Int(words[2]), bytes >= 0,
                  (bytes == 0) == (lsn == 0), let history = ReplicationHistory(words[3]) {
            logger.notice("full re-sync from the primary's snapshot", metadata: ["primary": "\(host):\(port)", "lsn": "\(lsn)", "bytes": "\(bytes)"])
            transfer = SnapshotTransfer(lsn: lsn, bytes: bytes, history: history)
            transfer!.received.reserveCapacity(bytes)
            if bytes == 0 { snapshotReceived(on: channel) }
        } else {
            close(channel, because: "unexpected reply to PSYNC: \(text)")
        }
    }

    private func linkUp(_ how: String) {
        status = .connected
        lastError = nil
        logger.info("replication link up", metadata: ["primary": "\(host):\(port)", "reply": "\(how)"])
    }

    private func receivedSnapshotPiece(_ value: RESPValue, on channel: any Channel) {
        guard case .array(let items?) = value, items.count == 2, items[0] == .binary(Array("SNAPSHOT".utf8)),
              case .binary(let piece) = items[1], transfer!.received.count + piece.count <= transfer!.bytes
        else {
            if case .error(let message) = value { return close(channel, because: "the primary: \(message)") }
            return close(channel, because: "expected a piece of the primary's snapshot, got \(value.description.prefix(80))")
        }
        transfer!.received += piece
        if transfer!.received.count == transfer!.bytes { snapshotReceived(on: channel) }
    }

    /// Replaces this replica's log and state with the snapshot (`Engine.resync`); what
    /// the primary sends meanwhile (the frames after the snapshot) waits.
    private func snapshotReceived(on channel: any Channel) {
        guard let transfer else { return }
        self.transfer = nil
        let engine = engine
        let promise = engine.eventLoop.makePromise(of: Void.self)
        promise.completeWithTask {
            try await engine.resync(fromSnapshot: transfer.received, at: transfer.lsn, history: transfer.history)
        }
        hold(until: promise.futureResult, on: channel, failing: "the full re-sync failed") { link in
            link.resyncRequested = false
            link.replication.resynced(at: transfer.lsn, history: transfer.history)
            if link.channel === channel, !link.closing { link.linkUp("FULLRESYNC \(transfer.lsn)") }
        }
    }

    /// Takes the primary's history of terms, durably, before applying anything more.
    private func adopt(_ history: ReplicationHistory, on channel: any Channel) {
        let written = Replication.write(history, in: engine.directory, eventLoop: engine.eventLoop)
        hold(until: written, on: channel, failing: "cannot write the primary's history of terms") { link in
            link.replication.history = history
        }
    }

    /// What the primary sends waits until `work` is done; then `done` runs and what
    /// waited is taken in order. If `work` fails, the link is closed instead.
    private func hold(
        until work: EventLoopFuture<Void>, on channel: any Channel, failing reason: String, done: @escaping (ReplicaLink) -> Void
    ) {
        held = []
        work.assumeIsolated().whenComplete { [self] result in
            let waiting = held ?? []
            held = nil
            if case .failure(let error) = result { return close(channel, because: "\(reason): \(error)") }
            done(self)
            for value in waiting { received(value, on: channel) }
        }
    }

    fileprivate func disconnected(_ channel: any Channel) {
        guard self.channel === channel else { return }
        self.channel = nil
        linkDown(lastError ?? "the primary closed the link")
    }

    private func close(_ channel: any Channel, because reason: String) {
        closing = true
        lastError = reason
        logger.warning("closing the replication link", metadata: ["primary": "\(host):\(port)", "reason": "\(reason)"])
        channel.close(promise: nil)
    }

    private func linkDown(_ reason: String) {
        status = .connecting
        lastError = reason
        guard !stopped else { return }
        let bound = NIOLoopBound(self, eventLoop: engine.eventLoop)
        engine.eventLoop.scheduleTask(in: Self.reconnectDelay) { bound.value.connect() }
    }

    fileprivate func silent(_ channel: any Channel) {
        guard self.channel === channel, !closing else { return }
        close(channel, because: "no word from the primary for \(Self.silenceSecondsMax) s")
    }
}

/// Hands what the primary sends to the link.
private final class ReplicaLinkHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue

    private let link: ReplicaLink

    init(link: ReplicaLink) { self.link = link }

    func channelActive(context: ChannelHandlerContext) {
        link.connected(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        link.received(unwrapInboundIn(data), on: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.disconnected(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        link.received(.error("link error: \(error)"), on: context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read { return link.silent(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }
}
