import NIOCore
import OrderlineCore

/// `DIGEST` off the loop: hashing the whole state takes long (0.8 s with a million
/// reservations), so the loop only takes a copy (a copy-on-write value, O(1) here)
/// and a dedicated thread hashes it. One digest at a time, in order; one asked for
/// while the same LSN is being hashed shares that result.
extension Engine {
    public func startDigest() -> EventLoopFuture<StateDigest> {
        let cut = state
        if let running = digestRunning, running.lsn == cut.lsn { return running.future }
        let previous = digestRunning?.future.map { _ in () }.recover { _ in () } ?? eventLoop.makeSucceededVoidFuture()
        let promise = eventLoop.makePromise(of: StateDigest.self)
        promise.completeWithTask {
            try? await previous.get()
            let digest = try await DedicatedThread.run(name: "orderline-digest") { cut.digest }
            // Sent only once everything it covers is acknowledged, like any read.
            if let rejection = await self.acknowledged(through: cut.lsn) { throw rejection }
            return digest
        }
        let future = promise.futureResult
        digestRunning = (cut.lsn, future)
        future.whenComplete { [self] _ in
            self.assumeIsolated { engine in
                if engine.digestRunning?.future === future { engine.digestRunning = nil }
            }
        }
        return future
    }
}
