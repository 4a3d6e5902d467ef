import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (file reads, snapshot writes, fsync) on a thread of its own,
/// never on the Swift concurrency pool or an event loop, and awaits its result.
enum DedicatedThread {
    /// `background`: work that may take its time (a snapshot, a digest) yields the CPU
    /// to the event loop and the WAL writer whenever they want it (a nice of 10), so it
    /// does not slow intake on a machine with few cores.
    static func run<Result: Sendable>(
        name: String, background: Bool = false, _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // From inside, as the WAL writer does; the kernel keeps 15 bytes of a name.
                Thread.current.name = String(name.prefix(15))
                if background { lowerPriorityOfThisThread() }
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.start()
        }
    }

    /// On Linux a nice value belongs to a thread, named by its id; Swift's Glibc module
    /// has no `gettid`, so the id is read from /proc/thread-self (`<pid>/task/<tid>`).
    private static func lowerPriorityOfThisThread() {
        #if os(Linux)
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let tid = link.split(separator: "/").last.flatMap({ id_t($0) })
        else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 10)
        #endif
    }
}
