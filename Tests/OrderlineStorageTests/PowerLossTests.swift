import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import NIOConcurrencyHelpers
import Synchronization
import Testing

// Power cuts, not only killed processes: `PowerLossFileSystem` keeps what a disk may still
// lose (unsynced bytes, names not yet made durable by a directory fsync) apart, and each
// cut drops any part of it. Every acknowledged LSN must be there after recovery, and
// recovery must never refuse what a real disk could have left.

/// The files of one power-cut image, written into a fresh directory.
private func materialize(_ files: [String: [UInt8]]) -> TemporaryDirectory {
    let directory = TemporaryDirectory("orderline-cut")
    for (path, bytes) in files { write(bytes, to: directory.file((path as NSString).lastPathComponent)) }
    return directory
}

/// Recovers one image; records an issue unless it recovers at least `acknowledged`.
private func expectRecovers(_ files: [String: [UInt8]], acknowledged: LSN, _ context: @autoclosure () -> String) {
    let directory = materialize(files)
    do {
        let report = try Recovery.recover(DataDirectory(path: directory.path), options: Recovery.Options(mode: .repair))
        #expect(report.state.lsn >= acknowledged, "\(context()): recovered LSN \(report.state.lsn), acknowledged \(acknowledged)")
        #expect(report.tail?.isCorruption != true, "\(context()): \(String(describing: report.tail))")
        #expect(report.state.checkInvariants(), "\(context())")
    } catch {
        Issue.record("\(context()): recovery refused what a power cut can leave: \(error)\nfiles: \(files.mapValues(\.count))")
    }
}

/// What the clients and the watcher share.
private final class Watch: Sendable {
    let acknowledged = Synchronization.Atomic<UInt64>(0)
    let done = Synchronization.Atomic<Bool>(false)
    let moments = NIOLockedValueBox<[(acknowledged: LSN, moment: PowerLossFileSystem.Moment)]>([])
}

/// How many images of each moment to recover: `ORDERLINE_POWER_CUTS` scales the soak
/// (`LoadTests/power-cuts.sh`); the suite's share is about two thousand cuts.
private let imagesPerMoment = Int(ProcessInfo.processInfo.environment["ORDERLINE_POWER_CUTS"] ?? "") ?? 4

/// Clients run a seeded random workload (reservations, expiries, orders, snapshots every
/// 60 events with retention, segments of 2 KiB) while a watcher takes moments of the
/// disk; each moment is cut several ways and recovered.
@Test(arguments: UInt64(1)...4)
func everyAcknowledgedLSNSurvivesAnyPowerCut(seed: UInt64) async throws {
    let directory = TemporaryDirectory()
    let fileSystem = PowerLossFileSystem()
    var configuration = Engine.Configuration(dataDirectory: directory.path)
    configuration.fileSystem = fileSystem
    configuration.snapshotEveryEvents = 60
    configuration.snapshotsKept = 2
    configuration.segmentBytesMax = 2_048
    let clock = ManualClock()
    let engine = try await Engine.open(configuration, clock: clock).engine
    for tokens in RandomWorkload.setup(skuCount: 6) { _ = await engine.execute(tokens) }
    for index in 0..<6 {
        for node in RandomWorkload.nodes { _ = await engine.execute(["STOCK.SET", node, "SKU-\(index)", "40"]) }
    }
    var generator = SeededGenerator(seed: seed)
    let steps = RandomWorkload.steps(count: 360, skuCount: 6, orderHeavy: seed % 2 == 0, generator: &generator)
    let watch = Watch()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            // The watcher: the acknowledged LSN first, then the disk: all of it was
            // fsynced before the moment was taken.
            while !watch.done.load(ordering: .acquiring) {
                let lsn = watch.acknowledged.load(ordering: .acquiring)
                let moment = fileSystem.now
                watch.moments.withLockedValue { $0.append((lsn, moment)) }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        group.addTask {
            try await withThrowingTaskGroup(of: Void.self) { clients in
                for client in 0..<4 {
                    clients.addTask {
                        for (index, step) in steps.enumerated() where index % 4 == client {
                            switch step {
                            case .advanceClock(let seconds): clock.advance(by: seconds)
                            case .command(let tokens):
                                guard let command = try? CommandTable.parse(tokens) else { continue }
                                let submission = await engine.submit(command)
                                if await engine.waitUntilAcknowledged(submission.lsn) == nil {
                                    watch.acknowledged.max(submission.lsn, ordering: .acquiringAndReleasing)
                                }
                            }
                        }
                    }
                }
                try await clients.waitForAll()
            }
            watch.done.store(true, ordering: .releasing)
        }
        try await group.waitForAll()
    }
    await engine.close()
    let taken = watch.moments.withLockedValue { $0 }
    #expect(taken.count > 20, "seed \(seed): only \(taken.count) moments")
    // At most 120 moments, spread over the run.
    let stride = max(1, taken.count / 120)
    var cuts = 0
    for (index, (lsn, moment)) in taken.enumerated() where index % stride == 0 {
        for image in 0..<imagesPerMoment {
            expectRecovers(moment.image(using: &generator), acknowledged: lsn, "seed \(seed), moment \(index), image \(image)")
            cuts += 1
        }
    }
    #expect(cuts >= imagesPerMoment * min(taken.count, 100))
    if ProcessInfo.processInfo.environment["ORDERLINE_POWER_CUTS"] != nil {
        FileHandle.standardError.write(Data("power cuts: seed \(seed): \(cuts) cuts of \(taken.count) moments, acknowledged up to LSN \(taken.last?.acknowledged ?? 0)\n".utf8))
    }
}

/// A log written frame by frame, then a snapshot, then more frames into new segments,
/// with a moment kept after every operation of the file system; and the log's LSN
/// acknowledged at each of them.
private func recordEveryMoment() async throws -> [(acknowledged: LSN, moment: PowerLossFileSystem.Moment)] {
    let directory = TemporaryDirectory()
    let fileSystem = PowerLossFileSystem(recordingEveryMoment: true)
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.fileSystem = fileSystem
    configuration.segmentBytesMax = 600
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    var state = OrderlineState()
    var acknowledgedAt: [(operations: Int, lsn: LSN)] = []
    for (index, batch) in sampleBatches(count: 40).enumerated() {
        let last = try wal.append(batch)
        try await wal.waitUntilAcknowledged(last)
        for event in batch { state.apply(event, at: state.lsn + 1) }
        acknowledgedAt.append((fileSystem.moments.count, last))
        if index == 20 {
            _ = try SnapshotFile.write(state, to: DataDirectory(path: directory.path), fileSystem: fileSystem)
            wal.rollSegmentAtNextFrame()
        }
    }
    await wal.close()
    // A moment's acknowledged LSN: the last acknowledged before it was taken.
    return fileSystem.moments.enumerated().map { index, moment in
        (acknowledgedAt.last { $0.operations <= index }?.lsn ?? 0, moment)
    }
}

@Test func aCutBetweenARenameAndItsDirectoryFsyncLeavesEitherName() async throws {
    let moments = try await recordEveryMoment().filter { $0.moment.lastOperation == "rename" }
    #expect(moments.count == 1, "the snapshot's rename")
    var generator = SeededGenerator(seed: 11)
    for (lsn, moment) in moments {
        #expect(moment.pendingDirectoryOperations > 0, "the rename is not durable yet")
        var names = Set<String>()
        for image in 0..<40 {
            let files = moment.image(using: &generator)
            names.formUnion(files.keys.map { ($0 as NSString).lastPathComponent }.filter { $0.contains("snapshot") })
            expectRecovers(files, acknowledged: lsn, "image \(image)")
        }
        #expect(names.contains { $0.hasSuffix(".snap.tmp") } && names.contains { $0.hasSuffix(".snap") }, "both names came up: \(names)")
    }
}

@Test func aHalfWrittenSnapshotIsRemovedAndTheLogRecovers() async throws {
    let moments = try await recordEveryMoment().filter { $0.moment.lastOperation == "append" && $0.moment.lastPath.hasSuffix(".snap.tmp") }
    #expect(!moments.isEmpty)
    var generator = SeededGenerator(seed: 12)
    for (lsn, moment) in moments {
        for image in 0..<40 { expectRecovers(moment.image(using: &generator), acknowledged: lsn, "image \(image)") }
    }
}

@Test func aSegmentCreatedButNotYetInTheDirectoryHoldsNothingAcknowledged() async throws {
    let moments = try await recordEveryMoment().filter {
        $0.moment.lastOperation != "syncDirectory" && $0.moment.pendingDirectoryOperations > 0 && $0.moment.lastPath.hasSuffix(".log")
    }
    #expect(moments.count >= 3, "segment roll-overs")
    var generator = SeededGenerator(seed: 13)
    for (lsn, moment) in moments {
        for _ in 0..<40 { expectRecovers(moment.image(using: &generator), acknowledged: lsn, "after \(moment.lastOperation) of \(moment.lastPath)") }
    }
}

@Test func everyMomentOfALogAndASnapshotRecovers() async throws {
    let moments = try await recordEveryMoment()
    var generator = SeededGenerator(seed: 14)
    for (index, (lsn, moment)) in moments.enumerated() {
        for image in 0..<6 { expectRecovers(moment.image(using: &generator), acknowledged: lsn, "moment \(index) (\(moment.lastOperation)), image \(image)") }
    }
    if ProcessInfo.processInfo.environment["ORDERLINE_POWER_CUTS"] != nil {
        FileHandle.standardError.write(Data("power cuts: every moment: \(moments.count * 6) cuts of \(moments.count) moments\n".utf8))
    }
}
