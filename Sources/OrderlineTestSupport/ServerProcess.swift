import Foundation
import Glibc

/// Whether the suite runs under a sanitizer (`LoadTests/sanitizers.sh`): tests that
/// measure resident memory or latency skip themselves then, since the sanitizer's shadow
/// memory, quarantine and slowdown are not the server's.
public let runsUnderASanitizer = ProcessInfo.processInfo.environment["ORDERLINE_SANITIZED"] != nil

/// A real `orderline serve` on 127.0.0.1 and a free port, started for a test and
/// stopped by pid.
public final class ServerProcess {
    public let process = Process()
    public let port: Int
    public let dataDirectory: String
    /// Objects that must live as long as the server (its temporary directory).
    public var keepAlive: [AnyObject] = []
    private let output = Pipe()
    private let errorFile: String

    /// Starts the server and waits for its ready line.
    public init(data: String, arguments: [String] = [], timeoutSeconds: Double = 60) throws {
        dataDirectory = data
        errorFile = data + ".stderr"
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Executables.path("orderline"))
        process.arguments = ["serve", "--data", data, "--port", "0"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: errorFile)
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while !line.contains(0x0A) {
            let chunk = readAvailable(output.fileHandleForReading.fileDescriptor)
            if chunk.isEmpty || Date() > deadline {
                throw ServerProcessError(message: "no ready line; stderr: \(Self.read(errorFile))")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let portText = text.split(separator: ":").last?.split(separator: " ").first, let port = Int(portText) else {
            throw ServerProcessError(message: "unexpected ready line: \(text)")
        }
        self.port = port
    }

    public var pid: Int32 { process.processIdentifier }

    /// The server's resident memory (VmRSS), in bytes.
    public func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw ServerProcessError(message: "no VmRSS in /proc/\(pid)/status") }
        return kilobytes * 1024
    }
    public var standardError: String { Self.read(errorFile) }

    /// Sends `signal` and waits for the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(pid, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func client() throws -> RESPTestClient { try RESPTestClient(port: port) }

    deinit {
        if process.isRunning { stop(signal: SIGKILL) }
        try? FileManager.default.removeItem(atPath: errorFile)
    }

    private static func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
}

public struct ServerProcessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
