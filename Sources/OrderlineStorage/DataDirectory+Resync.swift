import OrderlineCore

/// A replica's full re-sync: its log is replaced by its primary's snapshot (and the
/// primary's history of terms), and the log goes on from the snapshot's LSN.
///
/// Nothing is deleted: the replaced segments, snapshots and history are moved into
/// `replaced/` (which holds the last re-sync's only), so that events of a diverged
/// log — written past a fork and never acknowledged, or acknowledged by an
/// asynchronous primary that then died — can still be read with `orderline replay`.
///
/// Crash-safe in this order: `CHECKPOINT` already says LSN 0 (the WAL's writer did
/// that first), so a directory left without its log is not taken for a lost tail;
/// the old files are moved out; `HISTORY` is written; the snapshot last. A crash in
/// between leaves an empty log (the replica starts from LSN 0 and is re-synced again)
/// or the complete new one — never the new snapshot beside the old segments.
extension DataDirectory {
    public static let replacedFolder = "replaced"

    /// Replaces the log by `snapshot` (the bytes of a snapshot file, already checked;
    /// empty for the empty state at LSN 0) and `history`. Call it from the WAL's writer
    /// (`WriteAheadLog.restart`), which owns the segments.
    public func replaceLog(
        withSnapshot snapshot: [UInt8], at lsn: LSN, history: ReplicationHistory, fileSystem: any FileSystem
    ) throws(StorageError) {
        let replaced = file(Self.replacedFolder)
        try FileReader.createDirectory(atPath: replaced)
        for name in try FileReader.list(directory: replaced) {
            try fileSystem.removeFile(atPath: replaced + "/" + name)
        }
        let moved = try segments().map(\.name) + snapshots().map(\.name)
            + (FileReader.fileExists(atPath: file(ReplicationHistory.fileName)) ? [ReplicationHistory.fileName] : [])
        for name in moved {
            try fileSystem.rename(atPath: file(name), toPath: replaced + "/" + name)
        }
        try fileSystem.syncDirectory(atPath: replaced)
        try fileSystem.syncDirectory(atPath: path)
        try history.write(in: self, fileSystem: fileSystem)
        guard lsn > 0 else { return }
        try writeDurably(snapshot, as: SnapshotFile.fileName(lsn: lsn), fileSystem: fileSystem)
    }
}
