import Foundation

/// Runs blocking work (file reads, snapshot writes, fsync) on a thread of its own,
/// never on the Swift concurrency pool or an event loop, and awaits its result.
enum DedicatedThread {
    static func run<Result: Sendable>(
        name: String, _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // From inside, as the WAL writer does; the kernel keeps 15 bytes of a name.
                Thread.current.name = String(name.prefix(15))
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.start()
        }
    }
}
