import Foundation

/// Runs blocking work (file reads, snapshot writes, fsync) on a thread of its own,
/// never on the Swift concurrency pool or an event loop, and awaits its result.
enum DedicatedThread {
    static func run<Result: Sendable>(
        name: String, _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                Thread.current.name = name  // from inside, as the WAL writer does
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.start()
        }
    }
}
