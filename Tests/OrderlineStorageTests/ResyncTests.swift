import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// A replica's log that diverged (events the primary never had), and the primary's
/// state, further on, with a snapshot of it.
private func divergedReplicaAndPrimarySnapshot(
    fileSystem: any FileSystem = PosixFileSystem()
) async throws -> (replica: TemporaryDirectory, wal: WriteAheadLog, primary: OrderlineState, snapshot: [UInt8]) {
    let primaryDirectory = TemporaryDirectory()
    let primary = try await writeLog(primaryDirectory.path, batches: sampleBatches(count: 50))
    let replica = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: replica.path)
    configuration.segmentBytesMax = 512
    configuration.fileSystem = fileSystem
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    _ = try await append(sampleBatches(count: 20) + [[.skuUpserted(SKU(id: "FORK", priceCents: 7))]], to: wal)
    return (replica, wal, primary, try SnapshotFile.encode(primary))
}

/// The WAL restarts at the primary's snapshot: the replica's old log is set aside in
/// `replaced/` (still readable), its history is the primary's, the log goes on from the
/// snapshot's LSN, and recovery — checkpoint check included — gives the primary's
/// state plus what came after.
@Test func aRestartedLogGoesOnFromThePrimarysSnapshot() async throws {
    let (replica, wal, primary, snapshot) = try await divergedReplicaAndPrimarySnapshot()
    let replacedSegments = try DataDirectory(path: replica.path).segments().map(\.name)
    #expect(replacedSegments.count > 2)
    let history = ReplicationHistory().promoted(after: 40)
    let directory = DataDirectory(path: replica.path)
    try await wal.restart(at: primary.lsn) { () throws(StorageError) in
        try directory.replaceLog(withSnapshot: snapshot, at: primary.lsn, history: history, fileSystem: PosixFileSystem())
    }
    #expect(wal.statistics.lsnDurable == primary.lsn)
    let next: [Event] = [.skuUpserted(SKU(id: "AFTER", priceCents: 9))]
    #expect(try wal.append(next) == primary.lsn + 1)
    try await wal.waitUntilAcknowledged(primary.lsn + 1)
    await wal.close()

    #expect(try directory.segments().map(\.firstLSN) == [primary.lsn + 1])
    #expect(try directory.snapshots().map(\.lsn) == [primary.lsn])
    #expect(try ReplicationHistory.read(in: directory) == history)
    var expected = primary
    expected.apply(next[0], at: primary.lsn + 1)
    let recovered = try recover(replica.path)
    #expect(recovered.state.lsn == primary.lsn + 1)
    #expect(recovered.state.digest == expected.digest)
    #expect(recovered.state.skus["FORK"] == nil)

    // Nothing was deleted: the diverged log is in replaced/, and replays on its own.
    let replaced = replica.file(DataDirectory.replacedFolder)
    #expect(try FileReader.list(directory: replaced).filter { $0.hasPrefix("wal-") } == replacedSegments)
    let old = try recover(replaced, mode: .readOnly)
    #expect(old.state.skus["FORK"] != nil)
}

/// A crash in the middle of a re-sync (here: the snapshot's file cannot be created, a
/// full disk) fails the WAL, and leaves a directory that recovers as an empty log in
/// the primary's history — never the new history beside the old segments, and never a
/// "lost tail" refusal — so the replica starts from LSN 0 and is re-synced again.
@Test func aReSyncCutShortLeavesAnEmptyLogThatRecovers() async throws {
    let fileSystem = FaultInjectingFileSystem(.failedCreate(number: 2), armed: false)
    let (replica, wal, primary, snapshot) = try await divergedReplicaAndPrimarySnapshot(fileSystem: fileSystem)
    let history = ReplicationHistory().promoted(after: 40)
    let directory = DataDirectory(path: replica.path)
    fileSystem.arm()  // create 1: HISTORY's temporary file; 2: the snapshot's
    await #expect(throws: StorageError.self) {
        try await wal.restart(at: primary.lsn) { () throws(StorageError) in
            try directory.replaceLog(withSnapshot: snapshot, at: primary.lsn, history: history, fileSystem: fileSystem)
        }
    }
    #expect(fileSystem.hasFired)
    #expect(throws: StorageError.self) { try wal.append([.skuUpserted(SKU(id: "LATE", priceCents: 1))]) }
    await wal.close()
    let recovered = try recover(replica.path)
    #expect(recovered.state.lsn == 0)
    #expect(try ReplicationHistory.read(in: directory) == history)
    #expect(try directory.segments().isEmpty && directory.snapshots().isEmpty)
}
