import Logging
import OrderlineCore

/// Rebuilds state from a data directory: the newest valid snapshot (falling back to
/// older ones), then the WAL after it, applied with `OrderlineState.apply`, the same
/// function the live server uses. The server's start-up and `orderline replay` both
/// come here; only `mode` differs.
public enum Recovery {
    public struct Options: Sendable {
        public enum Mode: Sendable {
            /// Never changes the directory (replay, drills, reads after a WAL failure).
            case readOnly
            /// Server start-up: truncates a torn tail, removes leftovers.
            case repair
        }

        public var mode: Mode
        /// With `.repair`: cut the log at a corrupt frame instead of refusing to start,
        /// moving later segments aside as `*.discarded`.
        public var truncateAtCorruption = false
        /// Stop after this LSN.
        public var untilLSN: LSN?
        /// Replay from the start of the WAL, ignoring snapshots.
        public var ignoreSnapshots = false
        public var fileSystem: any FileSystem = PosixFileSystem()

        public init(mode: Mode) { self.mode = mode }
    }

    /// How the log ended, when it did not end on a frame boundary.
    public struct TailDamage: Sendable, CustomStringConvertible {
        public var file: String
        public var offset: Int
        public var reason: String
        public var isCorruption: Bool
        /// Whether the file was cut there (repair mode).
        public var truncated: Bool
        public var discardedSegments: [String]

        public var description: String {
            let kind = isCorruption ? "corrupt frame" : "torn tail"
            return "\(kind) in \(file) at offset \(offset): \(reason)\(truncated ? "; truncated there" : "")"
                + (discardedSegments.isEmpty ? "" : "; moved aside: \(discardedSegments.joined(separator: ", "))")
        }
    }

    public struct Report: Sendable {
        public var state: OrderlineState
        public var snapshot: String?
        public var skippedSnapshots: [String] = []
        public var tail: TailDamage?
        public var segmentsRead = 0
        public var framesRead = 0
        public var eventsReplayed = 0
        public var bytesRead = 0
    }

    public struct Progress: Sendable {
        public var bytesRead: Int
        public var bytesTotal: Int
        public var eventsReplayed: Int
        public var lsn: LSN
    }

    private struct ReachedUntil: Error {}

    public static func recover(
        _ directory: DataDirectory, options: Options, logger: Logger = Logger(label: "orderline.recovery"),
        onEvent: ((LSN, Event) throws -> Void)? = nil, progress: ((Progress) -> Void)? = nil
    ) throws -> Report {
        let fileSystem = options.fileSystem
        if options.mode == .repair {
            for name in try FileReader.list(directory: directory.path) where name.hasSuffix(".snap.tmp") {
                logger.notice("removing an unfinished snapshot", metadata: ["file": "\(name)"])
                try fileSystem.removeFile(atPath: directory.file(name))
            }
        }

        var report = Report(state: OrderlineState())
        if !options.ignoreSnapshots {
            for snapshot in try directory.snapshots() where options.untilLSN.map({ snapshot.lsn <= $0 }) ?? true {
                do {
                    report.state = try SnapshotFile.decode(try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name)
                    report.snapshot = snapshot.name
                    break
                } catch {
                    logger.warning("skipping a bad snapshot", metadata: ["file": "\(snapshot.name)", "error": "\(error)"])
                    report.skippedSnapshots.append("\(snapshot.name): \(error)")
                }
            }
        }
        let startLSN = report.state.lsn
        if let until = options.untilLSN, until < startLSN {
            throw StorageError(.unavailable, "LSN \(until) is before every readable snapshot")
        }

        let segments = try directory.segments()
        let firstIndex = segments.lastIndex { $0.firstLSN <= startLSN + 1 } ?? 0
        if let first = segments.first, segments[firstIndex].firstLSN > startLSN + 1 {
            throw StorageError(
                .unavailable,
                "the WAL starts at LSN \(first.firstLSN) (\(first.name)) but the state before it is missing: "
                    + (report.snapshot.map { "the snapshot \($0) ends at LSN \(startLSN)" } ?? "no readable snapshot"))
        }
        let bytesTotal = segments[firstIndex...].reduce(0) { total, segment in
            total + (FileReader.size(atPath: directory.file(segment.name)) ?? 0)
        }
        var lsnNext = segments.isEmpty ? startLSN + 1 : segments[firstIndex].firstLSN
        var state = report.state
        var eventsReplayed = 0

        scanning: for index in segments.indices where index >= firstIndex {
            let segment = segments[index]
            let bytes = try FileReader.readAll(atPath: directory.file(segment.name))
            let scanner = SegmentScanner(name: segment.name, bytes: bytes)
            let outcome: SegmentScanner.Outcome
            do {
                outcome = try scanner.scan(skippingThrough: startLSN) { lsn, event in
                    guard lsn > startLSN else { return }
                    if let until = options.untilLSN, lsn > until { throw ReachedUntil() }
                    state.apply(event, at: lsn)
                    try onEvent?(lsn, event)
                    eventsReplayed += 1
                    if eventsReplayed % 1_000_000 == 0 {
                        progress?(Progress(bytesRead: report.bytesRead, bytesTotal: bytesTotal, eventsReplayed: eventsReplayed, lsn: lsn))
                    }
                }
            } catch is ReachedUntil {
                report.segmentsRead += 1
                break scanning
            }
            report.segmentsRead += 1
            report.framesRead += outcome.frames
            report.bytesRead += bytes.count
            if outcome.stop == nil, outcome.firstLSN != lsnNext {
                throw StorageError(.corrupt, "\(segment.name) starts at LSN \(outcome.firstLSN), expected \(lsnNext): a segment is missing")
            }
            if outcome.stop == nil, outcome.frames == 0, index == segments.count - 1, options.mode == .repair {
                // A segment created just before a crash, holding only its header: the
                // writer's next segment would take its name.
                try fileSystem.removeFile(atPath: directory.file(segment.name))
                try fileSystem.syncDirectory(atPath: directory.path)
            }
            lsnNext = outcome.lsnNext
            guard let stop = outcome.stop else { continue }

            let later = segments[(index + 1)...]
            let laterHaveData = later.contains { (FileReader.size(atPath: directory.file($0.name)) ?? 0) > 0 }
            let isCorruption = !stop.mayBeTorn || scanner.validFrameFollows(after: stop.offset) || laterHaveData
            var damage = TailDamage(
                file: segment.name, offset: stop.offset, reason: stop.reason, isCorruption: isCorruption,
                truncated: false, discardedSegments: [])
            if isCorruption && !(options.mode == .repair && options.truncateAtCorruption) {
                throw StorageError(
                    .corrupt,
                    "corrupt WAL frame in \(directory.file(segment.name)) at offset \(stop.offset): \(stop.reason); "
                        + "valid data follows, so this is not a torn write. "
                        + (options.mode == .repair
                            ? "Refusing to start; serve --truncate-corrupt cuts the log there, losing what follows"
                            : "The log cannot be read past it"))
            }
            if options.mode == .repair {
                if stop.offset == 0 || outcome.endOfValidData <= WALFormat.segmentHeaderBytes {
                    // Nothing valid in it: remove it, or the writer could not create
                    // a segment of the same name (same first LSN) again.
                    try fileSystem.removeFile(atPath: directory.file(segment.name))
                } else {
                    try fileSystem.truncateFile(atPath: directory.file(segment.name), toBytes: outcome.endOfValidData)
                }
                for discarded in later {
                    try fileSystem.rename(atPath: directory.file(discarded.name), toPath: directory.file(discarded.name + ".discarded"))
                    damage.discardedSegments.append(discarded.name)
                }
                try fileSystem.syncDirectory(atPath: directory.path)
                damage.truncated = true
                logger.warning("cut the WAL at a damaged frame", metadata: ["damage": "\(damage)"])
            }
            report.tail = damage
            break
        }
        if let until = options.untilLSN, state.lsn < until {
            throw StorageError(.unavailable, "LSN \(until) is past the end of the log (last LSN \(state.lsn))")
        }
        report.state = state
        report.eventsReplayed = eventsReplayed
        return report
    }

    /// Checks every snapshot and every frame of every segment (not only those
    /// recovery would read) and throws at the first bad one, naming file and offset.
    public static func verify(_ directory: DataDirectory) throws -> (snapshots: Int, segments: Int, frames: Int, lastLSN: LSN) {
        let snapshots = try directory.snapshots()
        for snapshot in snapshots {
            _ = try SnapshotFile.decode(try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name)
        }
        let segments = try directory.segments()
        var frames = 0
        var lsnNext: LSN?
        for segment in segments {
            let scanner = SegmentScanner(name: segment.name, bytes: try FileReader.readAll(atPath: directory.file(segment.name)))
            let outcome = try scanner.scan { _, _ in }
            if let stop = outcome.stop {
                throw StorageError(.corrupt, "\(directory.file(segment.name)) at offset \(stop.offset): \(stop.reason)")
            }
            if let expected = lsnNext, outcome.firstLSN != expected {
                throw StorageError(.corrupt, "\(directory.file(segment.name)) starts at LSN \(outcome.firstLSN), expected \(expected)")
            }
            frames += outcome.frames
            lsnNext = outcome.lsnNext
        }
        return (snapshots.count, segments.count, frames, (lsnNext ?? 1) - 1)
    }
}
