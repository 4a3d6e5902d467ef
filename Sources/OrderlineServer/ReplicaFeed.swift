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

/// Reads the log after a replica's LSN (`LogFollower`) on a thread of its own, and
/// writes every acknowledged frame to the replica as
/// `*4 $6 EVENTS :<first LSN> :<last LSN> $<records>`; when there is nothing new for
/// a second, `*2 $4 PING :<acknowledged LSN>`, so the replica knows the link lives
/// and how far behind it is. A replica that does not read is not written to faster
/// than it reads: after `bytesInFlightMax` the thread waits for the socket.
final class ReplicaStreamer: Sendable {
    private let directory: DataDirectory
    private let wal: WriteAheadLog
    private let after: LSN
    private let lsnLast: LSN
    private let logger: Logger
    /// Set when there may be something new to send, or to stop.
    private let wake = ConditionLock(value: false)
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    static let bytesInFlightMax = 8 << 20
    static let pingSeconds = 1.0

    init(directory: DataDirectory, wal: WriteAheadLog, after: LSN, lsnLast: LSN, logger: Logger) {
        self.directory = directory
        self.wal = wal
        self.after = after
        self.lsnLast = lsnLast
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

    private func run(channel: any Channel) {
        let follower: LogFollower
        do {
            follower = try LogFollower(directory: directory, after: after, lsnLast: lsnLast)
        } catch {
            return fail(channel, "ERR cannot feed a replica from LSN \(after + 1): \(error.message)")
        }
        var inFlight = 0
        var lastWrite: EventLoopFuture<Void>?
        var lastSent = Date()
        var waitingFor: LSN = 0
        while !stopped.load(ordering: .relaxed) {
            do {
                if let frame = try follower.next(acknowledged: wal.lsnAcknowledged) {
                    var buffer = channel.allocator.buffer(capacity: frame.records.count + 64)
                    buffer.writeString("*4\r\n$6\r\nEVENTS\r\n:\(frame.firstLSN)\r\n:\(frame.lastLSN)\r\n$\(frame.records.count)\r\n")
                    buffer.writeBytes(frame.records)
                    buffer.writeString("\r\n")
                    inFlight += buffer.readableBytes
                    lastWrite = channel.writeAndFlush(buffer)
                    lastSent = Date()
                    if inFlight >= Self.bytesInFlightMax {
                        try lastWrite?.wait()
                        inFlight = 0
                    }
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
            if Date().timeIntervalSince(lastSent) >= Self.pingSeconds, !stopped.load(ordering: .relaxed) {
                var buffer = channel.allocator.buffer(capacity: 48)
                buffer.writeString("*2\r\n$4\r\nPING\r\n:\(wal.lsnAcknowledged)\r\n")
                channel.writeAndFlush(buffer, promise: nil)
                lastSent = Date()
            }
        }
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
