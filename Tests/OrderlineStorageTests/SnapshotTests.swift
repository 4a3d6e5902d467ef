import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Drives an engine with a seeded random workload.
func drive(_ engine: Engine, clock: ManualClock, steps: Int, seed: UInt64, setup: Bool = true) async {
    if setup {
        for command in RandomWorkload.setup(skuCount: 10) { _ = await engine.execute(command) }
    }
    var generator = SeededGenerator(seed: seed)
    for step in RandomWorkload.steps(count: steps, skuCount: 10, generator: &generator) {
        switch step {
        case .command(let tokens): _ = await engine.execute(tokens)
        case .advanceClock(let seconds): clock.advance(by: seconds)
        }
    }
}

@Test func aCorruptNewestSnapshotFallsBackToTheOlderOneWithTheSameDigest() async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock)
    await drive(engine, clock: clock, steps: 200, seed: 1)
    let older = try await engine.snapshot()
    await drive(engine, clock: clock, steps: 200, seed: 2, setup: false)
    let newer = try await engine.snapshot()
    await drive(engine, clock: clock, steps: 100, seed: 3, setup: false)
    let live = try await engine.digest()
    await engine.close()
    #expect(older < newer)

    let clean = try recover(directory.path)
    #expect(clean.snapshot == SnapshotFile.fileName(lsn: newer))
    #expect(clean.state.digest == live)

    let newest = directory.file(SnapshotFile.fileName(lsn: newer))
    var bytes = read(newest)
    bytes[bytes.count / 2] ^= 0x10
    write(bytes, to: newest)
    let fallback = try recover(directory.path, mode: .readOnly)
    #expect(fallback.snapshot == SnapshotFile.fileName(lsn: older))
    #expect(fallback.skippedSnapshots.count == 1)
    #expect(fallback.eventsReplayed > clean.eventsReplayed)
    #expect(fallback.state.digest == live)
    #expect(throws: StorageError.self) { try Recovery.verify(DataDirectory(path: directory.path)) }
}

@Test func retentionKeepsTwoSnapshotsAndTheSegmentsTheOlderNeeds() async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    var configuration = Engine.Configuration(dataDirectory: directory.path)
    configuration.segmentBytesMax = 256
    configuration.snapshotEveryEvents = 0
    let engine = try await Engine.open(configuration, clock: clock).engine
    var snapshots: [LSN] = []
    for round in 0..<4 {
        await drive(engine, clock: clock, steps: 80, seed: UInt64(10 + round), setup: round == 0)
        snapshots.append(try await engine.snapshot())
    }
    let live = try await engine.digest()
    await engine.close()
    let data = DataDirectory(path: directory.path)
    #expect(try data.snapshots().map(\.lsn) == [snapshots[3], snapshots[2]])
    let segments = try data.segments()
    #expect(segments.first!.firstLSN <= snapshots[2] + 1, "the older kept snapshot can still replay its tail")
    #expect(segments.first!.firstLSN > 1, "segments covered by it were removed")
    // Even with the newest snapshot unreadable, the older one plus the WAL rebuild the state.
    try FileManager.default.removeItem(atPath: directory.file(SnapshotFile.fileName(lsn: snapshots[3])))
    #expect(try recover(directory.path, mode: .readOnly).state.digest == live)
}

@Test func crashPointsAroundSnapshotWritesRecover() async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock)
    await drive(engine, clock: clock, steps: 150, seed: 5)
    let snapshotLSN = try await engine.snapshot()
    await drive(engine, clock: clock, steps: 50, seed: 6, setup: false)
    let live = try await engine.digest()
    await engine.close()
    let snapshot = directory.file(SnapshotFile.fileName(lsn: snapshotLSN))
    let complete = read(snapshot)

    // 1. Crash while writing the temporary file: a partial .tmp is left, no rename.
    let beforeRename = directory.copy()
    try FileManager.default.removeItem(atPath: beforeRename.file(SnapshotFile.fileName(lsn: snapshotLSN)))
    write(Array(complete.prefix(complete.count / 3)), to: beforeRename.file(SnapshotFile.fileName(lsn: snapshotLSN) + ".tmp"))
    let report1 = try recover(beforeRename.path)
    #expect(report1.state.digest == live)
    #expect(report1.snapshot == nil)
    #expect(!FileManager.default.fileExists(atPath: beforeRename.file(SnapshotFile.fileName(lsn: snapshotLSN) + ".tmp")))

    // 2. Crash after the rename reached the disk but before the data did (no fsync
    //    ordering assumed): the snapshot is cut short; recovery skips it.
    let tornSnapshot = directory.copy()
    write(Array(complete.prefix(complete.count - 7)), to: tornSnapshot.file(SnapshotFile.fileName(lsn: snapshotLSN)))
    let report2 = try recover(tornSnapshot.path)
    #expect(report2.state.digest == live)
    #expect(report2.skippedSnapshots.count == 1)

    // 3. Crash after the rename, before old segments were removed: nothing to do.
    let report3 = try recover(directory.path)
    #expect(report3.state.digest == live)
    #expect(report3.snapshot == SnapshotFile.fileName(lsn: snapshotLSN))
}

@Test func aSnapshotStartsANewSegmentSoRecoveryReadsOnlyWhatFollows() async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock)
    await drive(engine, clock: clock, steps: 300, seed: 8)
    let cut = try await engine.snapshot()
    await drive(engine, clock: clock, steps: 50, seed: 9, setup: false)
    let live = try await engine.digest()
    await engine.close()
    let segments = try DataDirectory(path: directory.path).segments()
    #expect(segments.count == 2)
    #expect(segments.last!.firstLSN == cut + 1)
    let report = try recover(directory.path, mode: .readOnly)
    #expect(report.segmentsRead == 1)
    #expect(report.state.digest == live)
}

/// A snapshot is compressed a megabyte of records at a time into one zstd frame: a
/// state of several megabytes (80,000 carts) comes back whole with the same digest,
/// and the pieces are exactly the canonical encoding.
@Test func aSnapshotWrittenInPiecesReadsBackWhole() throws {
    var state = OrderlineState()
    var lsn: LSN = 0
    func apply(_ event: Event) {
        lsn += 1
        state.apply(event, at: lsn)
    }
    apply(.skuUpserted(SKU(id: "SKU-000000000001", priceCents: 100)))
    apply(.stockSet(node: "WH", sku: "SKU-000000000001", onHand: 1_000_000, safety: 0))
    for number in 1...80_000 {
        apply(.reservationCreated(Reservation(
            id: ReservationID(UInt64(number)), sku: "SKU-000000000001", quantity: 1, node: nil, createdAt: 0,
            expiresAt: Int64(number), owner: "channel:web", customer: "C-\(number % 977)")))
    }
    var pieces: [[UInt8]] = []
    state.canonicalEncoding(inPiecesOf: 1 << 20) { pieces.append($0) }
    #expect(pieces.count > 2, "\(pieces.count) pieces")
    #expect(Array(pieces.joined()) == state.canonicalEncoding())

    let bytes = try SnapshotFile.encode(state)
    let decoded = try SnapshotFile.decode(bytes, name: "pieces")
    #expect(decoded.digest == state.digest)
    #expect(decoded.reservations.count == 80_000)
}
