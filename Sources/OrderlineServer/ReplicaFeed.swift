import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import OrderlineCore
import OrderlineProtocol
import OrderlineStorage
import Synchronization

/// The primary's end of a replica's link once `PSYNC` was accepted: it takes the
/// connection over from `ConnectionHandler`. A thread of its own (`ReplicaStreamer`)
/// reads the log and writes it to the replica; what comes back is the replica's
/// `REPLCONF ACK <lsn>`, the last LSN its own WAL made durable.
final class ReplicaFeed: ChannelInboundHandler, RemovableChannelHandler {
    /// Requests, decoded by a `RESPRequestDecoder` in front of this handler.
    typealias InboundIn = [String]

    private let replication: Replication
    private let streamer: ReplicaStreamer
    private let follower: Replication.Follower

    init(replication: Replication, streamer: ReplicaStreamer, follower: Replication.Follower) {
        self.replication = replication
        self.streamer = streamer
        self.follower = follower
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var follower = follower
        follower.channel = context.channel
        replication.followerConnected(ObjectIdentifier(self), follower)
        streamer.start(channel: context.channel)
    }

    /// Also when the connection closes: NIO removes every handler then.
    func handlerRemoved(context: ChannelHandlerContext) {
        streamer.stop()
        replication.followerGone(ObjectIdentifier(self))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let tokens = unwrapInboundIn(data)
        guard tokens.count == 3, tokens[0].uppercased() == "REPLCONF", tokens[1].uppercased() == "ACK", let lsn = LSN(tokens[2]) else {
            return refuse(context: context, "ERR a replica's link takes only REPLCONF ACK <lsn>")
        }
        replication.followerAcknowledged(ObjectIdentifier(self), lsn, at: .now())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        refuse(context: context, "ERR Protocol error: \(error)")
    }

    private func refuse(context: ChannelHandlerContext, _ message: String) {
        ReplicaStreamer.sendErrorAndClose(context.channel, message)
    }
}

/// Answers a replica's `PSYNC` and feeds it the log, on a thread of its own:
/// - `+CONTINUE <lsn> <history>` when the segments after the replica's LSN are still
///   here; or, when they are not (snapshots cover them) or the replica asked for it,
///   `+FULLRESYNC <snapshot LSN> <bytes> <history>` and the newest snapshot file in
///   pieces of `*2 $8 SNAPSHOT $<bytes>`, read from disk as it is sent;
/// - then every acknowledged frame after that LSN (`LogFollower`) as
///   `*4 $6 EVENTS :<first LSN> :<last LSN> $<records>`; when there is nothing new for
///   a second, `*2 $4 PING :<acknowledged LSN>`, so the replica knows the link lives
///   and how far behind it is.
/// A replica that does not read is not written to faster than it reads: after
/// `bytesInFlightMax` the thread waits for the socket.
final class ReplicaStreamer: Sendable {
    private let directory: DataDirectory
    private let wal: WriteAheadLog
    private let after: LSN
    private let lsnLast: LSN
    private let fullResyncAsked: Bool
    private let history: ReplicationHistory
    private let logger: Logger
    /// Set when there may be something new to send, or to stop.
    private let wake = ConditionLock(value: false)
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    static let bytesInFlightMax = 8 << 20
    static let snapshotPieceBytes = 1 << 20
    static let pingSeconds = 1.0

    init(
        directory: DataDirectory, wal: WriteAheadLog, after: LSN, lsnLast: LSN, fullResyncAsked: Bool, history: ReplicationHistory,
        logger: Logger
    ) {
        self.directory = directory
        self.wal = wal
        self.after = after
        self.lsnLast = lsnLast
        self.fullResyncAsked = fullResyncAsked
        self.history = history
        self.logger = logger
    }

    func start(channel: any Channel) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in
            Thread.current.name = "replica-feed"
            run(channel: channel)
        }
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        signal()
    }

    private func signal() {
        wake.lock()
        wake.unlock(withValue: true)
    }

    /// Writes to the replica, waiting for the socket once `bytesInFlightMax` were written.
    private struct Sender {
        let channel: any Channel
        var inFlight = 0
        var lastSent = Date()

        mutating func send(_ buffer: ByteBuffer) throws {
            inFlight += buffer.readableBytes
            let written = channel.writeAndFlush(buffer)
            lastSent = Date()
            if inFlight >= ReplicaStreamer.bytesInFlightMax {
                try written.wait()
                inFlight = 0
            }
        }
    }

    private func run(channel: any Channel) {
        var sender = Sender(channel: channel)
        let follower: LogFollower
        do {
            follower = try begin(&sender)
        } catch {
            // (If the link closed under a write, telling it fails quietly.)
            let reason = (error as? StorageError)?.message ?? "\(error)"
            return fail(channel, "ERR cannot feed a replica from LSN \(after + 1): \(reason)")
        }
        var waitingFor: LSN = 0
        while !stopped.load(ordering: .relaxed) {
            do {
                if let frame = try follower.next(acknowledged: wal.lsnAcknowledged) {
                    var buffer = channel.allocator.buffer(capacity: frame.records.count + 64)
                    buffer.writeString("*4\r\n$6\r\nEVENTS\r\n:\(frame.firstLSN)\r\n:\(frame.lastLSN)\r\n$\(frame.records.count)\r\n")
                    buffer.writeBytes(frame.records)
                    buffer.writeString("\r\n")
                    try sender.send(buffer)
                    continue
                }
            } catch let error as StorageError {
                return fail(channel, "ERR the primary cannot read its log for this replica: \(error.message)")
            } catch {
                return  // the link closed under a write
            }
            // Nothing acknowledged to send: wait until the next LSN is, or a second passes.
            let next = follower.lsnNext
            if waitingFor != next {
                waitingFor = next
                wal.whenAcknowledged(next) { [self] _ in signal() }
            }
            if wake.lock(whenValue: true, timeoutSeconds: Self.pingSeconds) { wake.unlock(withValue: false) }
            if Date().timeIntervalSince(sender.lastSent) >= Self.pingSeconds, !stopped.load(ordering: .relaxed) {
                var buffer = channel.allocator.buffer(capacity: 48)
                buffer.writeString("*2\r\n$4\r\nPING\r\n:\(wal.lsnAcknowledged)\r\n")
                channel.writeAndFlush(buffer, promise: nil)
                sender.lastSent = Date()
            }
        }
    }

    /// Answers `PSYNC` and returns the follower of the log from where the replica
    /// goes on: its own LSN, or the snapshot's after a full re-sync.
    private func begin(_ sender: inout Sender) throws -> LogFollower {
        if !fullResyncAsked {
            do {
                let follower = try LogFollower(directory: directory, after: after, lsnLast: lsnLast)
                try sender.send(sender.channel.allocator.buffer(string: "+CONTINUE \(after) \(history)\r\n"))
                return follower
            } catch let error as StorageError where error.code == .unavailable {
                logger.info("a replica is too far behind to continue: full re-sync from a snapshot", metadata: ["reason": "\(error.message)"])
            }
        }
        let newest = try directory.snapshots().first
        // The log after the snapshot is opened before the snapshot is sent, so that its
        // first segment stays readable whatever retention removes meanwhile.
        let follower = try LogFollower(directory: directory, after: newest?.lsn ?? 0, lsnLast: lsnLast)
        let file = try newest.map { newest in
            guard let handle = FileHandle(forReadingAtPath: directory.file(newest.name)) else {
                throw StorageError(.io, "cannot open \(directory.file(newest.name))")
            }
            return handle
        }
        defer { try? file?.close() }
        let bytes = try file.map { try Int($0.seekToEnd()) } ?? 0
        try file?.seek(toOffset: 0)
        try sender.send(sender.channel.allocator.buffer(string: "+FULLRESYNC \(newest?.lsn ?? 0) \(bytes) \(history)\r\n"))
        var sent = 0
        while let file, sent < bytes, !stopped.load(ordering: .relaxed) {
            guard let piece = try file.read(upToCount: min(Self.snapshotPieceBytes, bytes - sent)), !piece.isEmpty else {
                throw StorageError(.corrupt, "snapshot \(newest!.name) ended after \(sent) of \(bytes) bytes")
            }
            var buffer = sender.channel.allocator.buffer(capacity: piece.count + 32)
            buffer.writeString("*2\r\n$8\r\nSNAPSHOT\r\n$\(piece.count)\r\n")
            buffer.writeBytes(piece)
            buffer.writeString("\r\n")
            try sender.send(buffer)
            sent += piece.count
        }
        logger.info("full re-sync: snapshot sent to a replica", metadata: ["lsn": "\(newest?.lsn ?? 0)", "bytes": "\(bytes)"])
        return follower
    }

    private func fail(_ channel: any Channel, _ message: String) {
        logger.warning("replica feed stopped", metadata: ["reason": "\(message)"])
        Self.sendErrorAndClose(channel, message)
    }

    /// Tells the replica why its link ends, then closes it.
    static func sendErrorAndClose(_ channel: any Channel, _ message: String) {
        var buffer = channel.allocator.buffer(capacity: message.utf8.count + 3)
        buffer.writeRESP(.error(message))
        channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
    }
}
