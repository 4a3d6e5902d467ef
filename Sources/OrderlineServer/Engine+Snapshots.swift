import NIOCore
import OrderlineCore
import OrderlineStorage

/// Snapshots: a consistent cut of the state (a copy-on-write value, taken in one
/// actor turn), written on a dedicated thread once the WAL is durable past it.
extension Engine {
    /// Starts a snapshot of the state as it is now; the future completes with its LSN.
    public func startSnapshot() -> EventLoopFuture<LSN> {
        let promise = eventLoop.makePromise(of: LSN.self)
        let cut = state
        let resyncs = resyncs
        wal.rollSegmentAtNextFrame()
        promise.completeWithTask { try await self.writeSnapshot(of: cut, takenAfterResyncs: resyncs) }
        return promise.futureResult
    }

    /// Writes a snapshot of the current state once the WAL is durable past it.
    /// Returns its LSN.
    @discardableResult
    public func snapshot() async throws -> LSN {
        wal.rollSegmentAtNextFrame()
        return try await writeSnapshot(of: state, takenAfterResyncs: resyncs)
    }

    /// One snapshot at a time: a second request waits, and is answered by the newer
    /// snapshot if one was written meanwhile. The WAL must be durable (not merely
    /// acknowledged) past the cut, or a crash could leave a snapshot ahead of the log.
    /// A cut taken before a replica's re-sync replaced the state is not written.
    func writeSnapshot(of cut: ShardedState, takenAfterResyncs: Int) async throws -> LSN {
        await beginSnapshotWriting()
        defer { endSnapshotWriting() }
        guard takenAfterResyncs == resyncs else {
            throw Rejection(.conflict, "a re-sync from the primary replaced the state since this snapshot's cut; snapshot again")
        }
        if let last = lastSnapshotLSN, last >= cut.lsn { return last }
        do {
            try await wal.waitUntilDurable(cut.lsn)
        } catch {
            await enterReadOnly(after: error)
            throw ioRejection(error)
        }
        let configuration = configuration
        let directory = directory
        let started = ContinuousClock.now
        try await DedicatedThread.run(name: "orderline-snapshot", background: true) {
            // Merged here, off the loop: a snapshot holds the whole state, for any shard count.
            _ = try SnapshotFile.write(cut.whole, to: directory, fileSystem: configuration.fileSystem)
            _ = try SnapshotFile.applyRetention(
                in: directory, fileSystem: configuration.fileSystem, snapshotsKept: configuration.snapshotsKept,
                keepSegments: configuration.keepAllSegments)
        }
        logger.info("snapshot written", metadata: ["wal.lsn": "\(cut.lsn)"])
        lastSnapshotLSN = max(lastSnapshotLSN ?? 0, cut.lsn)
        let written = ContinuousClock.now
        lastSnapshotWritten = (written, written - started)
        return cut.lsn
    }

    /// One writer of snapshot files at a time (snapshots, and a replica's re-sync).
    func beginSnapshotWriting() async {
        while snapshotWriting { await withCheckedContinuation { snapshotWaiters.append($0) } }
        snapshotWriting = true
    }

    func endSnapshotWriting() {
        snapshotWriting = false
        if !snapshotWaiters.isEmpty { snapshotWaiters.removeFirst().resume() }
    }

    func runPeriodicSnapshot() async {
        do {
            try await snapshot()
        } catch {
            logger.error("periodic snapshot failed", metadata: ["error": "\(error)"])
        }
        snapshotRunning = false
    }

}
