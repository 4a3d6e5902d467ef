import ArgumentParser
import Foundation
import Histogram
import OrderlineCore
import OrderlineStorage
import Synchronization

/// Benchmarks and drills for the storage layer (release builds for any figure).
@main
struct WALBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderline-walbench",
        abstract: "Durable append throughput, compression and replay speed of the Orderline WAL.",
        subcommands: [AppendBenchmark.self, ReplayBenchmark.self, CompressionBenchmark.self, CoreBenchmark.self])
}

/// A flash-sale-like event stream: carts reserve hot SKUs; each writer keeps at most
/// `heldMax` carts, releasing the oldest beyond that (as checkouts and expiries do).
struct FlashSaleStream {
    static let hotSKUs = (1...5).map { "HOT-\($0)" }
    static let heldMax = 32

    static func setupEvents() -> [Event] {
        var events: [Event] = [
            .nodeUpserted(Node(id: "WH-RENO", kind: .warehouse, location: Coordinate(latitudeMicrodegrees: 39_529_600, longitudeMicrodegrees: -119_813_800))),
            .nodeUpserted(Node(id: "WH-MEMPHIS", kind: .warehouse, location: Coordinate(latitudeMicrodegrees: 35_149_500, longitudeMicrodegrees: -90_049_000))),
        ]
        for sku in hotSKUs {
            events.append(.skuUpserted(SKU(id: sku, priceCents: 49_999, weightGrams: 4_200, name: "Console \(sku)")))
            events.append(.stockSet(node: "WH-RENO", sku: sku, onHand: 1_000_000_000, safety: 0))
            events.append(.stockSet(node: "WH-MEMPHIS", sku: sku, onHand: 1_000_000_000, safety: 0))
        }
        return events
    }

    private var held: [ReservationID] = []
    private var count = 0
    private let writer: Int

    init(writer: Int) { self.writer = writer }

    mutating func next(id: () -> ReservationID, now: Timestamp) -> Event {
        count += 1
        if held.count >= Self.heldMax || (count % 3 == 0 && !held.isEmpty) {
            return .reservationReleased(held.removeFirst())
        }
        let reservation = Reservation(
            id: id(), sku: Self.hotSKUs[(count &+ writer) % Self.hotSKUs.count], quantity: Int64(1 + count % 2),
            node: nil, createdAt: now, expiresAt: now + 900)
        held.append(reservation.id)
        return .reservationCreated(reservation)
    }
}

struct AppendBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Concurrent writers append flash-sale events and wait for each to be acknowledged.")

    @Option(help: "Data directory (must be new or empty).") var dir: String
    @Option(help: "Concurrent writers.") var writers = 8
    @Option(help: "Events in total (after the setup events).") var events = 200_000
    @Option(help: "Events per append (one command's events).") var batch = 1
    @Option(help: "always | interval | never") var fsync = "always"
    @Option(help: "Segment size limit in MiB.") var segmentMib = 64
    @Option(help: "zstd level (default: the WAL's).") var level: Int32?
    @Flag(help: "Print 'ack <lsn>' for every acknowledged append (for kill -9 drills).") var printAcks = false

    func run() async throws {
        guard let policy = FsyncPolicy(rawValue: fsync) else { throw ValidationError("--fsync must be always, interval or never") }
        try FileReader.createDirectory(atPath: dir)
        let directory = DataDirectory(path: dir)
        let lock = try DataDirectoryLock(directory: directory)
        let recovered = try Recovery.recover(directory, options: Recovery.Options(mode: .repair))
        var configuration = WriteAheadLog.Configuration(directory: dir)
        configuration.fsyncPolicy = policy
        configuration.segmentBytesMax = segmentMib << 20
        if let level { configuration.compressionLevel = level }
        let wal = WriteAheadLog(configuration: configuration, lsnLast: recovered.state.lsn)
        if recovered.state.lsn == 0 {
            try await wal.waitUntilAcknowledged(try wal.append(FlashSaleStream.setupEvents()))
        }
        let ids = ReservationNumbers(after: recovered.state.reservationIDMax.number)
        let perWriter = events / writers
        let batch = batch
        let printAcks = printAcks
        let statisticsBefore = wal.statistics
        let started = ContinuousClock.now
        let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var stream = FlashSaleStream(writer: writer)
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    var appended = 0
                    while appended < perWriter {
                        let count = min(batch, perWriter - appended)
                        var events: [Event] = []
                        for _ in 0..<count {
                            events.append(stream.next(id: { ids.next() }, now: 1_767_225_600))
                        }
                        let start = ContinuousClock.now
                        let lsn = try wal.append(events)
                        try await wal.waitUntilAcknowledged(lsn)
                        histogram.record(UInt64((ContinuousClock.now - start) / .microseconds(1)))
                        if printAcks { AckPrinter.print(lsn) }
                        appended += count
                    }
                    return histogram
                }
            }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for try await histogram in group { merged.add(histogram) }
            return merged
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await wal.close()
        withExtendedLifetime(lock) {}
        let statistics = wal.statistics
        let total = perWriter * writers
        let frames = statistics.frames - statisticsBefore.frames
        let fsyncs = statistics.fsyncs - statisticsBefore.fsyncs
        let raw = statistics.rawBytes - statisticsBefore.rawBytes
        let disk = statistics.bytesOnDisk - statisticsBefore.bytesOnDisk
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        print("""
            writers=\(writers) batch=\(batch) fsync=\(policy.rawValue) zstd=\(configuration.compressionLevel) events=\(total) seconds=\(String(format: "%.2f", seconds))
            events/s=\(Int(Double(total) / seconds)) appends/s=\(Int(Double(total / batch) / seconds)) fsyncs/s=\(Int(Double(fsyncs) / seconds)) \
            frames=\(frames) events/frame=\(format(Double(total) / Double(max(frames, 1))))
            raw bytes/event=\(format(Double(raw) / Double(total))) disk bytes/event=\(format(Double(disk) / Double(total))) \
            disk/raw=\(format(100 * Double(disk) / Double(max(raw, 1))))%
            ack latency us: p50=\(histograms.valueAtPercentile(50)) p99=\(histograms.valueAtPercentile(99)) \
            p99.9=\(histograms.valueAtPercentile(99.9)) max=\(histograms.max)
            """)
    }
}

/// Hands out reservation ids to concurrent writers.
final class ReservationNumbers: Sendable {
    private let last: Atomic<UInt64>
    init(after number: UInt64) { last = Atomic(number) }
    func next() -> ReservationID { ReservationID(last.add(1, ordering: .relaxed).newValue) }
}

/// Prints acknowledged LSNs line by line, flushed at once, so a drill that kills this
/// process knows exactly what was acknowledged.
enum AckPrinter {
    private static let lock = Mutex(())

    static func print(_ lsn: LSN) {
        lock.withLock { _ in
            // A raw write(2): unbuffered, so nothing acknowledged sits in a buffer
            // when the process is killed.
            let line = Array("ack \(lsn)\n".utf8)
            _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
    }
}

struct ReplayBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Recovery time and replay speed of a data directory.")

    @Option(help: "Data directory.") var dir: String
    @Flag(help: "Ignore snapshots.") var noSnapshot = false
    @Flag(help: "Write a snapshot of the recovered state first, then time recovery from it.") var snapshotFirst = false

    func run() throws {
        let directory = DataDirectory(path: dir)
        if snapshotFirst {
            let started = ContinuousClock.now
            let state = try Recovery.recover(directory, options: Recovery.Options(mode: .readOnly)).state
            let name = try SnapshotFile.write(state, to: directory, fileSystem: PosixFileSystem())
            print("snapshot \(name) written (recovery + write took \(ContinuousClock.now - started))")
        }
        var options = Recovery.Options(mode: .readOnly)
        options.ignoreSnapshots = noSnapshot
        let started = ContinuousClock.now
        let report = try Recovery.recover(directory, options: options)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("""
            recovered lsn=\(report.state.lsn) from \(report.snapshot ?? "no snapshot") in \(String(format: "%.3f", seconds)) s: \
            \(report.eventsReplayed) events replayed (\(Int(Double(report.eventsReplayed) / max(seconds, 1e-9))) events/s), \
            \(report.framesRead) frames, \(report.bytesRead) bytes
            """)
    }
}

struct CompressionBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compression",
        abstract: "Compares per-frame zstd with one stream per segment, at several batch sizes.")

    @Option(help: "Events to encode.") var events = 200_000
    @Option(help: "zstd level.") var level: Int32 = 1

    func run() throws {
        var stream = FlashSaleStream(writer: 0)
        var id: UInt64 = 0
        var records: [[UInt8]] = []
        for _ in 0..<events {
            let event = stream.next(id: { id += 1; return ReservationID(id) }, now: 1_767_225_600)
            var writer = BinaryWriter()
            writer.writeVarUInt(UInt64(event.encoded.count))
            writer.write(contentsOf: event.encoded)
            records.append(writer.bytes)
        }
        let raw = records.reduce(0) { $0 + $1.count }
        print("events=\(events) raw bytes/event=\(String(format: "%.1f", Double(raw) / Double(events))) (frame header \(WALFormat.frameHeaderBytes) bytes not included)")
        print("batch  independent-frames  stream-per-segment   (compressed / raw)")
        for batch in [1, 4, 16, 64, 256, 1024] {
            var independent = 0
            var streamed = 0
            let compressor = ZstdStreamCompressor(level: level)
            var index = 0
            while index < records.count {
                let chunk = records[index..<min(index + batch, records.count)].flatMap { $0 }
                independent += try Zstd.compress(chunk, level: level).count
                streamed += try compressor.compressAndFlush(chunk).count
                index += batch
            }
            print(String(format: "%5d  %17.1f%%  %17.1f%%", batch, 100 * Double(independent) / Double(raw), 100 * Double(streamed) / Double(raw)))
        }
    }
}
