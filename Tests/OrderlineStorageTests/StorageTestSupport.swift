import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Events that are valid in sequence: a network, then reservations on it.
func sampleBatches(count: Int) -> [[Event]] {
    var batches: [[Event]] = [[
        .nodeUpserted(Node(id: "WH", kind: .warehouse, location: Coordinate(latitudeMicrodegrees: 1, longitudeMicrodegrees: 2))),
        .skuUpserted(SKU(id: "HOT", priceCents: 100)),
        .stockSet(node: "WH", sku: "HOT", onHand: 1_000_000, safety: 0),
    ]]
    for index in 1...count {
        if index % 4 == 0 {
            batches.append([.reservationReleased(ReservationID(UInt64(index - 1)))])
        } else {
            batches.append([.reservationCreated(Reservation(
                id: ReservationID(UInt64(index)), sku: "HOT", quantity: 1, node: nil, createdAt: 100, expiresAt: 1_000))])
        }
    }
    return batches
}

/// Appends each batch and waits for it, so each becomes its own frame.
func writeLog(
    _ directory: String, batches: [[Event]], segmentBytesMax: Int = 64 << 20, lsnLast: LSN = 0, fsyncPolicy: FsyncPolicy = .always
) async throws -> OrderlineState {
    var configuration = WriteAheadLog.Configuration(directory: directory)
    configuration.segmentBytesMax = segmentBytesMax
    configuration.fsyncPolicy = fsyncPolicy
    let wal = WriteAheadLog(configuration: configuration, lsnLast: lsnLast)
    let state = try await append(batches, to: wal, after: lsnLast)
    await wal.close()
    return state
}

/// Appends each batch to `wal` and waits for it; returns the state they make (on top
/// of an empty one). `beforeBatch` runs with each batch's index first.
func append(
    _ batches: [[Event]], to wal: WriteAheadLog, after lsnLast: LSN = 0, beforeBatch: (Int) -> Void = { _ in }
) async throws -> OrderlineState {
    var state = OrderlineState()
    var lsn = lsnLast
    for (index, batch) in batches.enumerated() {
        beforeBatch(index)
        let last = try wal.append(batch)
        try await wal.waitUntilAcknowledged(last)
        for event in batch {
            lsn += 1
            state.apply(event, at: lsn)
        }
    }
    return state
}

extension TemporaryDirectory {
    /// A copy as a crash in the middle of writing the last frame would leave it: that
    /// frame was never fsynced, so the checkpoint never covered it. (Tests that tear
    /// the last frame of a log written to the end model that crash; with the checkpoint
    /// of a clean stop, the same damage is a lost tail, refused.)
    func crashedWhileWritingTheLastFrame() -> TemporaryDirectory {
        let copy = copy()
        try? FileManager.default.removeItem(atPath: copy.file(LogCheckpoint.fileName))
        return copy
    }
}

func recover(_ directory: String, mode: Recovery.Options.Mode = .repair, truncateAtCorruption: Bool = false, until: LSN? = nil) throws -> Recovery.Report<OrderlineState> {
    var options = Recovery.Options(mode: mode)
    options.truncateAtCorruption = truncateAtCorruption
    options.untilLSN = until
    return try Recovery.recover(DataDirectory(path: directory), options: options)
}

/// Start offsets of every frame in a segment file.
func frameOffsets(_ bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = WALFormat.segmentHeaderBytes
    while case .valid(let header) = WALFormat.checkFrame(in: bytes, at: offset) {
        offsets.append(offset)
        offset += header.frameBytes
    }
    return offsets
}

func segmentPaths(_ directory: String) throws -> [String] {
    try DataDirectory(path: directory).segments().map { directory + "/" + $0.name }
}

func write(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

func read(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

/// Runs one inline command line against an engine; the reply as a script shows it.
func run(_ engine: Engine, _ line: String) async -> String {
    let tokens: [String]
    do { tokens = try InlineTokenizer.tokenize(line) } catch { return "-\(error)" }
    switch await engine.execute(tokens) {
    case .success(let reply): return reply.description
    case .failure(let rejection): return "-\(rejection)"
    }
}

func openEngine(
    _ directory: String, clock: ManualClock = ManualClock(), fileSystem: any FileSystem = PosixFileSystem(),
    snapshotEvery: Int = 0, keepAllSegments: Bool = false, shardCount: Int = 1
) async throws -> Engine {
    var configuration = Engine.Configuration(dataDirectory: directory)
    configuration.shardCount = shardCount
    configuration.fileSystem = fileSystem
    configuration.snapshotEveryEvents = snapshotEvery
    configuration.keepAllSegments = keepAllSegments
    return try await Engine.open(configuration, clock: clock).engine
}

/// The state recovered from `directory` into `shardCount` shards, each event applied at
/// its owner.
func recoverSharded(_ directory: String, shardCount: Int, ignoreSnapshots: Bool = false) throws -> ShardedState {
    var options = Recovery.Options(mode: .readOnly)
    options.shardCount = shardCount
    options.ignoreSnapshots = ignoreSnapshots
    return try Recovery.recover(DataDirectory(path: directory), options: options, as: ShardedState.self).state
}
