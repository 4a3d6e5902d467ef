import NIOCore
import OrderlineCore

/// `DIGEST` off the loop: hashing the whole state takes long (0.8 s with a million
/// reservations), so the loop only takes a copy (a copy-on-write value: O(1) to take,
/// but the first write after it to each table copies that table) and a dedicated thread
/// hashes it. One digest at a time: requests that come while one runs share the next,
/// whose copy is taken only when it starts, so at most two copies are ever alive.
extension Engine {
    public func startDigest() -> EventLoopFuture<StateDigest> {
        if digestRunning {
            if let next = digestNext { return next.futureResult }
            let next = eventLoop.makePromise(of: StateDigest.self)
            digestNext = next
            return next.futureResult
        }
        let promise = eventLoop.makePromise(of: StateDigest.self)
        runDigest(into: promise)
        return promise.futureResult
    }

    private func runDigest(into promise: EventLoopPromise<StateDigest>) {
        digestRunning = true
        let cut = state
        promise.completeWithTask {
            let digest = try await DedicatedThread.run(name: "orderline-digest", background: true) { cut.digest }
            // Sent only once everything it covers is acknowledged, like any read.
            if let rejection = await self.acknowledged(through: cut.lsn) { throw rejection }
            return digest
        }
        promise.futureResult.whenComplete { [self] _ in
            self.assumeIsolated { engine in
                engine.digestRunning = false
                if let next = engine.digestNext {
                    engine.digestNext = nil
                    engine.runDigest(into: next)
                }
            }
        }
    }
}
