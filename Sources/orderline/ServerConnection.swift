import NIOCore
import NIOPosix
import OrderlineProtocol

/// One connection to a running server, for the command-line tools (`import`): requests
/// go out a window at a time in one write (pipelined), and their replies come back in
/// order. SwiftNIO's async channel with the protocol module's RESP reply decoder.
struct ServerConnection {
    var host: String
    var port: Int
    /// Sent with `AUTH` first, for a server started with `--auth`.
    var token: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects (and authenticates), then runs `body` with a function that sends a
    /// window of requests and returns their replies; closes the connection after.
    func withPipeline<Result>(
        _ body: (_ send: ([[String]]) async throws -> [RESPValue]) async throws -> Result
    ) async throws -> Result {
        let channel: NIOAsyncChannel<RESPValue, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                        return try NIOAsyncChannel<RESPValue, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var replies = inbound.makeAsyncIterator()
            func send(_ requests: [[String]]) async throws -> [RESPValue] {
                var buffer = ByteBuffer()
                for request in requests { buffer.writeRESPRequest(request) }
                try await outbound.write(buffer)
                var answered: [RESPValue] = []
                answered.reserveCapacity(requests.count)
                for _ in requests {
                    guard let reply = try await replies.next() else {
                        throw Failure(description: "the server at \(host):\(port) closed the connection")
                    }
                    answered.append(reply)
                }
                return answered
            }
            if let token, case .error(let message) = try await send([["AUTH", token]])[0] {
                throw Failure(description: "AUTH was refused: \(message)")
            }
            return try await body(send)
        }
    }
}
