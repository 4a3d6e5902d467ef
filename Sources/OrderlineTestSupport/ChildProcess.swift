import Foundation
import NIOConcurrencyHelpers

/// Runs the project's executables as real processes for end-to-end tests.
public enum Executables {
    /// The directory holding the built executables: `ORDERLINE_BIN_DIR`, or the
    /// directory of the running test bundle (SwiftPM puts both side by side).
    public static var directory: String {
        if let configured = ProcessInfo.processInfo.environment["ORDERLINE_BIN_DIR"] { return configured }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("orderline").path) { return url.path }
            url.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }

    public static func path(_ name: String) -> String { directory + "/" + name }

    /// The repository root (for Data/).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

/// Runs an executable to completion and captures its output.
public func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // Both outputs go to files, not pipes: neither can fill up and stall the child, and
    // no read of ours is interrupted by a signal (Foundation's `readDataToEndOfFile`
    // traps on EINTR, which another child's SIGCHLD causes during a long run).
    let outputFile = NSTemporaryDirectory() + "orderline-stdout-\(UUID().uuidString)"
    let errorFile = NSTemporaryDirectory() + "orderline-stderr-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
    _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outputFile)
        try? FileManager.default.removeItem(atPath: errorFile)
    }
    process.standardOutput = FileHandle(forWritingAtPath: outputFile)
    process.standardError = FileHandle(forWritingAtPath: errorFile)
    try process.run()
    process.waitUntilExit()
    let outputData = FileManager.default.contents(atPath: outputFile) ?? Data()
    let errorData = FileManager.default.contents(atPath: errorFile) ?? Data()
    return ProcessResult(
        status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self))
}

/// A child process whose standard output is read line by line while it runs; stopped
/// by pid (SIGKILL for drills).
public final class RunningProcess {
    public let process = Process()
    private let output = Pipe()
    private var buffer = Data()

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// The next complete line, or nil at end of output.
    public func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = readAvailable(output.fileHandleForReading.fileDescriptor)
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    public func kill(signal: Int32 = SIGKILL) {
        Foundation.kill(pid, signal)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill() }
    }
}

/// Runs `body(i)` for i in 0..<count on that many threads at once (blocking clients
/// must not sit on the Swift concurrency pool) and returns their results in order.
public func runOnThreads<Result: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> Result) -> [Result] {
    let results = ResultsBox<Result>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            results.set(index, body(index))
            group.leave()
        }
        thread.start()
    }
    group.wait()
    return results.values()
}

private final class ResultsBox<Value: Sendable>: Sendable {
    private let storage: NIOLockedValueBox<[Value?]>
    init(count: Int) { storage = NIOLockedValueBox(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ value: Value) { storage.withLockedValue { $0[index] = value } }
    func values() -> [Value] { storage.withLockedValue { $0.map { $0! } } }
}

/// What a pipe has to give (empty at its end), read with `read(2)` and retried on
/// EINTR: Foundation's `availableData` traps when a signal (another child's SIGCHLD)
/// interrupts it.
func readAvailable(_ descriptor: Int32) -> Data {
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count >= 0 { return Data(chunk[0..<count]) }
        if errno != EINTR { return Data() }
    }
}
