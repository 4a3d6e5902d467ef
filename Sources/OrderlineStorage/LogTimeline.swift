import OrderlineCore

/// The log read as a timeline: every event the data directory still holds, oldest
/// first, with its LSN and its time — the newest time stamped into the log at or
/// before it (`Event.stampedTime`; many events, a stock level set, carry none). What
/// `restore --before` and `replay --find` read. Nothing is applied: events are only
/// decoded, from the segments, off any server.
public enum LogTimeline {
    /// Calls `body` with each event from the oldest one the segments hold to the end
    /// of the log, until it returns false. `time` is nil until the first stamped time
    /// (for a log kept from LSN 1) — or starts at the oldest snapshot's last time when
    /// older segments are gone.
    public static func scan(
        _ directory: DataDirectory, _ body: (_ lsn: LSN, _ event: Event, _ time: Timestamp?) throws -> Bool
    ) throws {
        let start = try start(of: directory)
        var time = start.time
        try LogFollower(directory: directory, after: start.lsn, lsnLast: start.lsn).forEachEvent(acknowledged: .max) { lsn, event in
            if let stamped = event.stampedTime { time = max(time ?? stamped, stamped) }
            return try body(lsn, event, time)
        }
    }

    /// The last LSN whose time is at or before `time` (0 when the first event is after
    /// it). Throws `.unavailable` when the log kept no longer reaches back that far.
    public static func lastLSN(atOrBefore time: Timestamp, in directory: DataDirectory) throws -> LSN {
        let start = try start(of: directory)
        if let startTime = start.time, startTime > time {
            throw StorageError(
                .unavailable,
                "the oldest state this log still holds is at LSN \(start.lsn) (\(CalendarDate.formatDateTime(startTime))); "
                    + "segments before it were removed after snapshots (--keep-wal keeps them)")
        }
        var last = start.lsn
        try scan(directory) { lsn, _, eventTime in
            guard (eventTime ?? time) <= time else { return false }
            last = lsn
            return true
        }
        return last
    }

    /// Where the segments begin: LSN 0 when they hold the log from its first event;
    /// otherwise the oldest snapshot they continue, with its last stamped time. `scan`
    /// hands out the events after it.
    public static func start(of directory: DataDirectory) throws -> (lsn: LSN, time: Timestamp?) {
        guard let first = try directory.segments().first, first.firstLSN > 1 else { return (0, nil) }
        // The oldest snapshot whose next event the segments hold.
        guard let snapshot = try directory.snapshots().last(where: { $0.lsn + 1 >= first.firstLSN }) else {
            throw StorageError(.corrupt, "the log starts at LSN \(first.firstLSN), and no snapshot covers what comes before")
        }
        let state = try SnapshotFile.decode(try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name)
        return (snapshot.lsn, state.timeLast)
    }
}
