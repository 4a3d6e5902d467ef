import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

@Test func acknowledgedBatchesRecoverWithTheSameDigest() async throws {
    let directory = TemporaryDirectory()
    let live = try await writeLog(directory.path, batches: sampleBatches(count: 100))
    let report = try recover(directory.path)
    #expect(report.state.lsn == 103)
    #expect(report.state.digest == live.digest)
    #expect(report.tail == nil)
    #expect(report.framesRead == 101)
}

@Test func groupCommitSharesFsyncsAmongConcurrentWriters() async throws {
    let directory = TemporaryDirectory()
    let wal = WriteAheadLog(configuration: .init(directory: directory.path), lsnLast: 0)
    let writers = 64
    let appendsPerWriter = 20
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for index in 0..<appendsPerWriter {
                    let lsn = try wal.append([.skuUpserted(SKU(id: "S\(writer)-\(index)", priceCents: Int64(index)))])
                    try await wal.waitUntilAcknowledged(lsn)
                    #expect(wal.statistics.lsnDurable >= lsn)
                }
            }
        }
        try await group.waitForAll()
    }
    await wal.close()
    let statistics = wal.statistics
    #expect(statistics.lsnDurable == LSN(writers * appendsPerWriter))
    #expect(statistics.frames < UInt64(writers * appendsPerWriter), "group commit should put several appends in a frame")
    #expect(statistics.fsyncs <= statistics.frames + 2)
    let report = try recover(directory.path)
    #expect(report.state.skus.count == writers * appendsPerWriter)
}

@Test func segmentsRollOverAndRecoveryReadsThemAll() async throws {
    let directory = TemporaryDirectory()
    let live = try await writeLog(directory.path, batches: sampleBatches(count: 300), segmentBytesMax: 1_024)
    let segments = try DataDirectory(path: directory.path).segments()
    #expect(segments.count > 5)
    #expect(segments.first?.firstLSN == 1)
    let verified = try Recovery.verify(DataDirectory(path: directory.path))
    #expect(verified.lastLSN == 303)
    #expect(try recover(directory.path).state.digest == live.digest)
    // A missing middle segment is a gap, never silently skipped.
    try FileManager.default.removeItem(atPath: directory.file(segments[2].name))
    #expect(throws: StorageError.self) { try recover(directory.path, mode: .readOnly) }
}

@Test func appendAfterRecoveryContinuesInANewSegment() async throws {
    let directory = TemporaryDirectory()
    _ = try await writeLog(directory.path, batches: sampleBatches(count: 10))
    let first = try recover(directory.path)
    _ = try await writeLog(directory.path, batches: [[.skuUpserted(SKU(id: "LATE", priceCents: 1))]], lsnLast: first.state.lsn)
    let second = try recover(directory.path)
    #expect(second.state.lsn == first.state.lsn + 1)
    #expect(second.state.skus["LATE"] != nil)
    #expect(try DataDirectory(path: directory.path).segments().map(\.firstLSN) == [1, first.state.lsn + 1])
}

@Test func compressionStreamCarriesItsWindowAcrossFrames() throws {
    // Records that repeat across frames compress far better as one stream.
    let record = Array("reservation_created HOT-1 qty=1 node=- expires=1767226500".utf8)
    let compressor = ZstdStreamCompressor(level: 1)
    var streamed = 0
    var independent = 0
    var chunks: [[UInt8]] = []
    for _ in 0..<200 {
        let chunk = try compressor.compressAndFlush(record)
        chunks.append(chunk)
        streamed += chunk.count
        independent += try Zstd.compress(record, level: 1).count
    }
    #expect(streamed * 3 < independent)
    let decompressor = ZstdStreamDecompressor()
    for chunk in chunks {
        #expect(try decompressor.decompress(chunk[...], expectedBytes: record.count) == record)
    }
}

@Test(arguments: [FsyncPolicy.interval, .never])
func weakerPoliciesAcknowledgeOnWriteAndSyncLater(policy: FsyncPolicy) async throws {
    let directory = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.fsyncPolicy = policy
    configuration.syncIntervalSeconds = 3_600  // no interval sync during the test
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    for index in 0..<50 {
        let lsn = try wal.append([.skuUpserted(SKU(id: "S\(index)", priceCents: 1))])
        try await wal.waitUntilAcknowledged(lsn)
    }
    let statistics = wal.statistics
    #expect(statistics.lsnWritten == 50)
    #expect(statistics.lsnDurable < 50, "acknowledged without waiting for fdatasync")
    // A snapshot asks for durability explicitly and gets it.
    try await wal.waitUntilDurable(50)
    #expect(wal.statistics.lsnDurable == 50)
    await wal.close()
    #expect(try recover(directory.path).state.skus.count == 50)
}

@Test func aFullWriteQueueRefusesAppendsInsteadOfGrowingWithoutBound() async throws {
    let directory = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.pendingEventsMax = 20
    configuration.fileSystem = FaultInjectingFileSystem(.none, syncDelayMilliseconds: 300)  // a slow disk
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    var accepted: LSN = 0
    var refusal: StorageError?
    for index in 0..<10_000 {
        do {
            accepted = try wal.append([.skuUpserted(SKU(id: "S\(index)", priceCents: 1, name: String(repeating: "n", count: 50)))])
        } catch {
            refusal = error
            break
        }
    }
    #expect(refusal?.code == .busy)
    #expect(accepted >= 10, "the queue took appends up to its limit")
    // Once the writer has caught up, appends are taken again, and nothing refused was written.
    try await wal.waitUntilAcknowledged(accepted)
    let next = try wal.append([.skuUpserted(SKU(id: "LATER", priceCents: 1))])
    #expect(next == accepted + 1)
    try await wal.waitUntilAcknowledged(next)
    await wal.close()
    #expect(try recover(directory.path).state.skus.count == Int(next))
}
