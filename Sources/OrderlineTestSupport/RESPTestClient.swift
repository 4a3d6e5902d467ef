import Foundation
import Glibc
import NIOCore
import OrderlineProtocol

/// A deliberately plain blocking TCP client for tests: sends raw bytes, inline lines
/// or RESP arrays, and reads RESP replies with the protocol module's parser.
public final class RESPTestClient {
    private let socket: Int32
    private var buffer = ByteBuffer()

    public init(port: Int, timeoutSeconds: Int = 30) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ServerProcessError(message: "socket() failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Every send leaves at once, so a test can split a request across reads.
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw ServerProcessError(message: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(socket) }

    public func send(raw bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw ServerProcessError(message: "send failed: errno \(errno)") }
            offset += sent
        }
    }

    public func send(raw text: String) throws { try send(raw: Array(text.utf8)) }

    public func send(_ tokens: [String]) throws {
        var request = ByteBuffer()
        request.writeRESPRequest(tokens)
        try send(raw: Array(request.readableBytesView))
    }

    /// The next reply, or nil if the server closed the connection first.
    public func readReply() throws -> RESPValue? {
        while true {
            if let value = try buffer.readRESP() { return value }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw ServerProcessError(message: "recv failed: errno \(errno)") }
            buffer.writeBytes(chunk[0..<count])
        }
    }

    /// Sends one command as a RESP array and returns its reply as a script shows it.
    @discardableResult
    public func call(_ tokens: String...) throws -> String {
        try send(tokens)
        return try readReply()?.description ?? "(closed)"
    }

    /// Exactly `count` raw bytes of the reply stream.
    public func receive(byteCount count: Int) throws -> [UInt8] {
        while buffer.readableBytes < count {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw ServerProcessError(message: "connection closed or failed: errno \(errno)") }
            buffer.writeBytes(chunk[0..<received])
        }
        return buffer.readBytes(length: count) ?? []
    }

    /// Exactly `count` raw bytes of the reply stream, as text (for RESP3 checks).
    public func receive(bytes count: Int) throws -> String {
        while buffer.readableBytes < count {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { throw ServerProcessError(message: "connection closed or failed: errno \(errno)") }
            buffer.writeBytes(chunk[0..<received])
        }
        return buffer.readString(length: count) ?? ""
    }

    /// Shuts the socket down both ways: a send blocked on another thread returns.
    public func shutDown() {
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Shuts down the sending side only (a half-close, as `nc -N` does at the end of
    /// its input); replies can still be read.
    public func shutDownWriting() {
        _ = Glibc.shutdown(socket, Int32(SHUT_WR))
    }

    /// Whether the server has closed the connection (reads EOF).
    public func isClosedByServer() throws -> Bool {
        try readReply() == nil
    }
}
