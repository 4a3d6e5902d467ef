import Dispatch
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
        /// Accept a log that ends before the LSN its `CHECKPOINT` says was durable
        /// (acknowledged events lost); otherwise that is an error, and nothing is repaired.
        public var acceptLostTail = false
        /// Shards to hand the state and each event to (`ShardedState`).
        public var shardCount = 1
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

    public struct Report<State: RecoverableState>: Sendable {
        public var state: State
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
    ) throws -> Report<OrderlineState> {
        try recover(directory, options: options, as: OrderlineState.self, logger: logger, onEvent: onEvent, progress: progress)
    }

    /// Recovers into `State`: the whole state, or a `ShardedState` of
    /// `options.shardCount` shards, each event applied at its owner.
    public static func recover<State: RecoverableState>(
        _ directory: DataDirectory, options: Options, as: State.Type, logger: Logger = Logger(label: "orderline.recovery"),
        onEvent: ((LSN, Event) throws -> Void)? = nil, progress: ((Progress) -> Void)? = nil
    ) throws -> Report<State> {
        let fileSystem = options.fileSystem
        if options.mode == .repair {
            for name in try FileReader.list(directory: directory.path) where name.hasSuffix(".snap.tmp") {
                logger.notice("removing an unfinished snapshot", metadata: ["file": "\(name)"])
                try fileSystem.removeFile(atPath: directory.file(name))
            }
        }

        // What the writer last knew to be durable: the log must reach it.
        var lsnRequired: LSN?
        if options.untilLSN == nil, !options.acceptLostTail {
            lsnRequired = try LogCheckpoint.read(in: directory)?.lsnDurable
        }

        var report = Report(state: State(recovered: OrderlineState(), options: options))
        if !options.ignoreSnapshots {
            for snapshot in try directory.snapshots() where options.untilLSN.map({ snapshot.lsn <= $0 }) ?? true {
                do {
                    // The orders' derived state is built once, at the end.
                    let whole = try SnapshotFile.decode(
                        try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name, deferringOrderState: true)
                    report.state = State(recovered: whole, options: options)
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
        state.deferDerivedOrderState()
        var eventsReplayed = 0

        // Events are applied a run at a time, so that a sharded state can apply each
        // shard's share of the run apart (`RecoverableState.applyChecked(run:)`).
        var run: [ShardedState.Logged] = []
        run.reserveCapacity(runLength)
        func applyRun(segment: String) throws {
            guard !run.isEmpty else { return }
            defer { run.removeAll(keepingCapacity: true) }
            let failure = state.applyChecked(run: run)
            func refuse(_ failure: (lsn: LSN, problem: String)) -> StorageError {
                StorageError(
                    .corrupt,
                    "\(directory.file(segment)): the event at LSN \(failure.lsn) \(failure.problem); the log cannot be applied past LSN \(failure.lsn - 1)")
            }
            // By index, and the event read only for `onEvent`: a copy of each would
            // retain and release its payload.
            for index in run.indices {
                let lsn = run[index].lsn
                if let failure, lsn >= failure.lsn { throw refuse(failure) }
                if let onEvent { try onEvent(lsn, run[index].event) }
                eventsReplayed += 1
                if eventsReplayed % 1_000_000 == 0 {
                    progress?(Progress(bytesRead: report.bytesRead, bytesTotal: bytesTotal, eventsReplayed: eventsReplayed, lsn: lsn))
                }
            }
            if let failure { throw refuse(failure) }
        }

        scanning: for index in segments.indices where index >= firstIndex {
            let segment = segments[index]
            let bytes = try FileReader.readAll(atPath: directory.file(segment.name))
            let scanner = SegmentScanner(name: segment.name, bytes: bytes)
            let outcome: SegmentScanner.Outcome
            do {
                outcome = try scanner.scanAhead(skippingThrough: startLSN) { lsn, event in
                    guard lsn > startLSN else { return }
                    if let until = options.untilLSN, lsn > until { throw ReachedUntil() }
                    run.append((lsn, event))
                    if run.count == runLength { try applyRun(segment: segment.name) }
                }
                try applyRun(segment: segment.name)
            } catch is ReachedUntil {
                try applyRun(segment: segment.name)
                report.segmentsRead += 1
                break scanning
            }
            report.segmentsRead += 1
            report.framesRead += outcome.frames
            report.bytesRead += bytes.count
            if outcome.stop == nil || outcome.frames > 0, outcome.firstLSN != lsnNext {
                throw StorageError(.corrupt, Self.misplaced(segment.name, startsAt: outcome.firstLSN, expected: lsnNext))
            }
            if outcome.stop == nil, outcome.frames == 0, index == segments.count - 1, options.mode == .repair {
                // A segment created just before a crash, holding only its header: the
                // writer's next segment would take its name.
                try fileSystem.removeFile(atPath: directory.file(segment.name))
                try fileSystem.syncDirectory(atPath: directory.path)
            }
            let lsnExpected = lsnNext
            lsnNext = outcome.lsnNext
            guard let stop = outcome.stop else { continue }

            let later = segments[(index + 1)...]
            let laterWithData = later.first { (FileReader.size(atPath: directory.file($0.name)) ?? 0) > 0 }
            let validFrameFollows = scanner.validFrameFollows(after: stop.offset)
            let isCorruption = !stop.mayBeTorn || validFrameFollows || laterWithData != nil
            var damage = TailDamage(
                file: segment.name, offset: stop.offset, reason: stop.reason, isCorruption: isCorruption,
                truncated: false, discardedSegments: [])
            if isCorruption && !(options.mode == .repair && options.truncateAtCorruption) {
                let why = validFrameFollows ? "a valid frame follows it in the same segment"
                    : laterWithData.map { "a later segment (\($0.name)) holds data" }
                    ?? "the frame is whole but wrong (not what a crash in the middle of a write leaves)"
                throw StorageError(
                    .corrupt,
                    "corrupt WAL frame in \(directory.file(segment.name)) at offset \(stop.offset): \(stop.reason); "
                        + "\(why), so this is not a torn write. "
                        + (options.mode == .repair
                            ? "Refusing to start; serve --truncate-corrupt cuts the log there, losing what follows"
                            : "The log cannot be read past it"))
            }
            // A torn tail is what a crash leaves after the last fsync: never events that
            // were acknowledged. If the checkpoint says they were, the end was lost.
            let lsnEnd = max(startLSN, max(stop.offset > 0 ? outcome.lsnNext : lsnExpected, 1) - 1)
            if let required = lsnRequired, lsnEnd < required, !(isCorruption && options.truncateAtCorruption) {
                throw lostTail(end: lsnEnd, required: required, where: "\(damage)", directory: directory)
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
        if let required = lsnRequired, state.lsn < required, report.tail == nil {
            let last = segments.last.map { "after \($0.name)" } ?? "with no segment at all"
            throw lostTail(end: state.lsn, required: required, where: "the log ends \(last)", directory: directory)
        }
        // A loss accepted (or a log cut at corruption) is recorded at once: a start that
        // fails later must not find the old, higher checkpoint and refuse the log again.
        if options.mode == .repair, options.untilLSN == nil,
           let checkpoint = try? LogCheckpoint.read(in: directory), checkpoint.lsnDurable > state.lsn {
            _ = try LogCheckpointWriter(
                directory: directory.path, checkpoint: LogCheckpoint(lsnDurable: state.lsn, stoppedCleanly: false), fileSystem: fileSystem)
        }
        state.rebuildDerivedOrderState()
        report.state = state
        report.eventsReplayed = eventsReplayed
        return report
    }

    /// The error for a log that ends before what its checkpoint says was durable.
    static func lostTail(end: LSN, required: LSN, where place: String, directory: DataDirectory) -> StorageError {
        StorageError(
            .corrupt,
            "the log ends at LSN \(end) (\(place)), but LSN \(required) was durable and acknowledged "
                + "(\(directory.file(LogCheckpoint.fileName))): \(required - end) acknowledged event(s) are missing. "
                + "Put the missing segment(s) back, or accept the loss with --accept-data-loss")
    }

    /// Why a segment's first LSN is not the one expected: a gap, or an overlap.
    static func misplaced(_ name: String, startsAt first: LSN, expected: LSN) -> String {
        first > expected
            ? "\(name) starts at LSN \(first), expected \(expected): a segment holding LSNs \(expected)...\(first - 1) is missing"
            : "\(name) starts at LSN \(first), expected \(expected): it overlaps the segment before it (LSNs \(first)...\(expected - 1) twice)"
    }

    /// What `verify` found.
    public struct Verification: Sendable {
        public var snapshots: Int
        public var segments: Int
        public var frames: Int
        public var lastLSN: LSN
        /// A last segment with no frame in it (empty, or a header cut short by a crash
        /// at roll-over): not an error, as recovery removes it.
        public var leftover: String?
    }

    /// Checks every snapshot and every frame of every segment (not only those
    /// recovery would read) and throws at the first bad one, naming file and offset;
    /// then that the log reaches the LSN its checkpoint says was durable.
    public static func verify(_ directory: DataDirectory, acceptLostTail: Bool = false) throws -> Verification {
        // Read first: on a live directory the log only grows past what it says.
        let checkpoint = acceptLostTail ? nil : try LogCheckpoint.read(in: directory)
        let snapshots = try directory.snapshots()
        for snapshot in snapshots {
            _ = try SnapshotFile.decode(try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name)
        }
        let segments = try directory.segments()
        var frames = 0
        var lsnNext: LSN?
        var leftover: String?
        for (index, segment) in segments.enumerated() {
            let scanner = SegmentScanner(name: segment.name, bytes: try FileReader.readAll(atPath: directory.file(segment.name)))
            let outcome = try scanner.scan { _, _ in }
            if outcome.frames == 0, index == segments.count - 1, outcome.stop.map({ $0.offset == 0 && $0.mayBeTorn }) ?? true {
                leftover = "\(segment.name) holds no frame (a segment created just before a crash)"
                break
            }
            if let stop = outcome.stop {
                throw StorageError(.corrupt, "\(directory.file(segment.name)) at offset \(stop.offset): \(stop.reason)")
            }
            if let expected = lsnNext, outcome.firstLSN != expected {
                throw StorageError(.corrupt, misplaced(directory.file(segment.name), startsAt: outcome.firstLSN, expected: expected))
            }
            frames += outcome.frames
            lsnNext = outcome.lsnNext
        }
        let lastLSN = max((lsnNext ?? 1) - 1, snapshots.first?.lsn ?? 0)
        if let checkpoint, lastLSN < checkpoint.lsnDurable {
            let last = segments.last.map { "after \($0.name)" } ?? "with no segment at all"
            throw lostTail(end: lastLSN, required: checkpoint.lsnDurable, where: "the log ends \(last)", directory: directory)
        }
        return Verification(snapshots: snapshots.count, segments: segments.count, frames: frames, lastLSN: lastLSN, leftover: leftover)
    }
}

/// A state recovery can rebuild: the whole state, or the state split by shards.
public protocol RecoverableState: Sendable {
    /// The state a snapshot holds (or the empty state), in this form.
    init(recovered whole: OrderlineState, options: Recovery.Options)
    var lsn: LSN { get }
    mutating func applyChecked(_ event: Event, at lsn: LSN) -> String?
    /// While the log is replayed, orders' parts in the derived state are rebuilt once at
    /// the end instead of event by event.
    mutating func deferDerivedOrderState()
    mutating func rebuildDerivedOrderState()
    /// Applies a run of events in LSN order, checked; the first that cannot be applied
    /// and why (the state is then not to be used: recovery stops).
    mutating func applyChecked(run: [ShardedState.Logged]) -> (lsn: LSN, problem: String)?
}

extension RecoverableState {
    public mutating func applyChecked(run: [ShardedState.Logged]) -> (lsn: LSN, problem: String)? {
        applyEachChecked(run)
    }

    /// The run one event at a time, read by index: `for (lsn, event) in run` copied each
    /// event (a retain and a release).
    mutating func applyEachChecked(_ run: [ShardedState.Logged]) -> (lsn: LSN, problem: String)? {
        for index in run.indices {
            if let problem = applyChecked(run[index].event, at: run[index].lsn) { return (run[index].lsn, problem) }
        }
        return nil
    }
}

/// Events recovery applies at a time, so that each shard's share of a run goes to a
/// thread of its own. The length was chosen, not tuned: no other was measured.
private let runLength = 8_192

extension OrderlineState: RecoverableState {
    public init(recovered whole: OrderlineState, options: Recovery.Options) { self = whole }
}

extension ShardedState: RecoverableState {
    public init(recovered whole: OrderlineState, options: Recovery.Options) {
        self.init(splitting: whole, shardCount: options.shardCount)
    }

    /// With several shards, their shares of each run are applied on Dispatch's
    /// threads (at most one per core, each shard's share by one of them).
    public mutating func applyChecked(run: [ShardedState.Logged]) -> (lsn: LSN, problem: String)? {
        guard parts.count > 1 else { return applyEachChecked(run) }
        return applyChecked(run: run) { count, job in DispatchQueue.concurrentPerform(iterations: count, execute: job) }
    }
}
