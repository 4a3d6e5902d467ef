import OrderlineCore
import OrderlineStorage

/// A replica's engine: the events come from the primary, already decided (stamped with
/// its time and ids), and are appended to this server's own WAL and applied with the
/// same `apply`, so the replica reaches the primary's state and digest at each LSN.
extension Engine {
    /// Turns this engine into a replica (`--replica-of`, `REPLICAOF <host> <port>`) or
    /// back into a primary (`REPLICAOF NO ONE`). A replica refuses writes with
    /// `READONLY` and fires no expiries: the primary's log brings them.
    public func setReplica(_ replica: Bool) {
        isReplica = replica
        // New events, once promoted, never carry a time before the primary's last one.
        timeLast = max(timeLast, state.timeLast)
    }

    /// Appends and applies one frame of the primary's log: `records` as the WAL stores
    /// them (a varint length and an event each), LSNs `firstLSN...lastLSN`. Events this
    /// replica has already are skipped (a link resumed in the middle of a frame). The
    /// error says why the link must stop: a gap, bytes that do not decode, a WAL that
    /// failed or is full.
    func applyReplicated(firstLSN: LSN, lastLSN: LSN, records: [UInt8]) -> String? {
        guard isReplica else { return "this server is not a replica" }
        guard lastLSN >= firstLSN else { return "frame \(firstLSN)...\(lastLSN) is empty" }
        guard firstLSN <= state.lsn + 1 else { return "the primary sent LSN \(firstLSN), but this replica is at \(state.lsn): a gap" }
        guard lastLSN > state.lsn else { return nil }
        var events: [Event] = []
        events.reserveCapacity(Int(lastLSN - state.lsn))
        let skipThrough = state.lsn
        do {
            try WALFormat.decodeRecords(records, firstLSN: firstLSN, lastLSN: lastLSN) { lsn, event in
                if lsn > skipThrough { events.append(event) }
            }
        } catch {
            return "the primary's frame \(firstLSN)...\(lastLSN) does not decode: \(error)"
        }
        if let rejection = log(events) { return rejection.description }
        timeLast = max(timeLast, state.timeLast)
        return nil
    }
}

extension Engine {
    /// A full re-sync from the primary (`FULLRESYNC`): this replica's log did not go on
    /// into the primary's (too far behind: the primary no longer has the segments it
    /// needs; or diverged, and the operator asked for it with `REPLICAOF … RESYNC`).
    /// `snapshot` is the primary's snapshot file at `lsn` (empty: the empty state at
    /// LSN 0). It is checked off the loop, the WAL restarts at `lsn` with the snapshot
    /// as the start of its log (the old files set aside in `replaced/`), and the state
    /// becomes the snapshot's. No snapshot is written meanwhile, and none whose cut was
    /// taken before.
    func resync(fromSnapshot snapshot: [UInt8], at lsn: LSN, history: ReplicationHistory) async throws {
        guard isReplica, !resyncing else { throw Rejection(.conflict, "a re-sync needs a replica that is not re-syncing already") }
        resyncing = true
        defer { resyncing = false }
        let whole = lsn == 0 && snapshot.isEmpty
            ? OrderlineState()
            : try await DedicatedThread.run(name: "orderline-resync") {
                try SnapshotFile.decode(snapshot, name: "from the primary at LSN \(lsn)")
            }
        guard whole.lsn == lsn else { throw StorageError(.corrupt, "the primary's snapshot is at LSN \(whole.lsn), not \(lsn)") }
        await beginSnapshotWriting()
        defer { endSnapshotWriting() }
        try await wal.waitUntilDurable(state.lsn)
        let directory = directory
        let fileSystem = configuration.fileSystem
        let replacedLSN = state.lsn
        try await wal.restart(at: lsn) { () throws(StorageError) in
            try directory.replaceLog(withSnapshot: snapshot, at: lsn, history: history, fileSystem: fileSystem)
        }
        resyncs += 1
        state = ShardedState(splitting: whole, shardCount: configuration.shardCount)
        timeLast = max(timeLast, state.timeLast)
        lastSnapshotLSN = lsn > 0 ? lsn : nil
        eventsSinceSnapshot = 0
        soldOutSightings.removeAll()
        orderSpans = OrderSpans()
        logger.notice(
            "re-synced from the primary's snapshot",
            metadata: ["lsn": "\(lsn)", "replaced.lsn": "\(replacedLSN)", "replaced.files": "\(directory.file(DataDirectory.replacedFolder))"])
    }
}
