import Foundation
import Logging
import NIOConcurrencyHelpers
import OrderlineCore

/// When a write counts as acknowledged.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// `fdatasync` before any reply (group commit): the default, and the only policy
    /// under which every acknowledged command survives a power cut.
    case always
    /// Acknowledge once written to the OS; `fdatasync` at most `syncInterval` later.
    case interval
    /// Acknowledge once written to the OS; sync only on roll-over and close.
    case never
}

/// The write-ahead log: one writer thread takes every batch appended from any shard,
/// writes it as one frame of the current segment and fsyncs once for all of them
/// (group commit). Callers learn their LSNs at once (`append`) and wait for
/// durability separately (`waitUntilAcknowledged`).
///
/// After a failed write or fsync the log is failed for good: nothing is retried,
/// every waiter and every later append gets the error.
public final class WriteAheadLog: Sendable {
    public struct Configuration: Sendable {
        public var directory: String
        public var fsyncPolicy: FsyncPolicy = .always
        public var syncIntervalSeconds: Double = 1
        public var segmentBytesMax = 64 << 20
        public var compressionLevel: Int32 = 1
        /// Events waiting for the writer, at most; an append beyond it fails with
        /// `.busy` instead of queueing without bound behind a slow disk.
        public var pendingEventsMax = 1 << 18
        public var fileSystem: any FileSystem = PosixFileSystem()
        /// Told how long each fdatasync took (µs), on the writer thread (metrics).
        public var onFsync: (@Sendable (UInt64) -> Void)?

        public init(directory: String) { self.directory = directory }
    }

    public struct Statistics: Sendable, Equatable {
        /// The last LSN handed out.
        public var lsnLast: LSN
        /// The last LSN written to the OS.
        public var lsnWritten: LSN
        /// The last LSN known durable (fdatasync returned).
        public var lsnDurable: LSN
        /// Since this process opened the log: frames, the events in them, fsyncs.
        public var frames: UInt64 = 0
        public var eventsWritten: UInt64 = 0
        public var fsyncs: UInt64 = 0
        /// The slowest `fdatasync` so far, and how many took over 10 ms.
        public var fsyncMicrosecondsMax: UInt64 = 0
        public var fsyncsOver10Milliseconds: UInt64 = 0
        public var rawBytes: UInt64 = 0
        public var bytesOnDisk: UInt64 = 0
        public var segments: UInt64 = 0
        public var failure: String?
    }

    /// One append's events: encoded by the writer thread, not by the caller, whose
    /// thread (an event loop) is the busier one.
    private struct PendingBatch {
        var firstLSN: LSN
        var lastLSN: LSN
        var events: [Event]
    }

    private struct Waiter {
        var lsn: LSN
        /// Wait for `lsnDurable` rather than for acknowledgement (which, under
        /// `interval` and `never`, comes once the frame is written).
        var durable = false
        var notify: @Sendable (StorageError?) -> Void
    }

    private struct Queue {
        var pending: [PendingBatch] = []
        var pendingEvents = 0
        var waiters: [Waiter] = []
        var statistics: Statistics
        var failure: StorageError?
        var closing = false
        var closedContinuations: [CheckedContinuation<Void, Never>] = []
        var closed = false
        var observer: (@Sendable (LSN, StorageError?) -> Void)?
        var rollRequested = false
        var restart: Restart?
    }

    /// A replica's re-sync (`restart(at:replacingFiles:)`), for the writer to carry out.
    private struct Restart {
        var lsn: LSN
        var replaceFiles: @Sendable () throws(StorageError) -> Void
        var done: @Sendable (StorageError?) -> Void
    }

    public let configuration: Configuration
    private let queue: NIOLockedValueBox<Queue>
    /// `true` when the writer has something to look at. Paired with `queue`: writers of
    /// `queue` set it after they push, so a wake-up is never lost.
    private let workAvailable = ConditionLock(value: false)
    private let logger: Logger

    /// Opens the log for appending after recovery: the next LSN is `lsnLast + 1`, and
    /// the first frame starts a new segment.
    public init(configuration: Configuration, lsnLast: LSN, logger: Logger = Logger(label: "orderline.wal")) {
        self.configuration = configuration
        self.logger = logger
        queue = NIOLockedValueBox(Queue(statistics: Statistics(lsnLast: lsnLast, lsnWritten: lsnLast, lsnDurable: lsnLast)))
        // Named from inside: on Linux only the running thread's own name reaches the
        // kernel, where `top -H` and `perf` see it.
        let thread = Thread { [self] in
            Thread.current.name = "orderline-wal"
            self.runWriter()
        }
        thread.start()
    }

    public var statistics: Statistics { queue.withLockedValue { $0.statistics } }

    /// Assigns the next LSNs to `events`, in order, and queues them for the writer.
    /// Returns the last LSN. Call it from the one place that also applies the events,
    /// so that apply order and LSN order agree.
    ///
    /// With `wakeWriter: false` the caller promises to call `wakeWriter()` soon: an
    /// event loop appends everything it read in one pass, then wakes the writer once,
    /// so that pass becomes one frame and one fsync (as Redis does before it sleeps).
    public func append(_ events: [Event], wakeWriter: Bool = true) throws(StorageError) -> LSN {
        precondition(!events.isEmpty, "append needs at least one event")
        let result: Result<LSN, StorageError> = queue.withLockedValue { queue in
            if let failure = queue.failure { return .failure(failure) }
            if queue.closing { return .failure(StorageError(.failed, "the WAL is closing")) }
            if queue.pendingEvents > 0, queue.pendingEvents + events.count > configuration.pendingEventsMax {
                return .failure(StorageError(.busy, "the WAL's queue holds \(queue.pendingEvents) events waiting for the disk"))
            }
            queue.pendingEvents += events.count
            let first = queue.statistics.lsnLast + 1
            let last = queue.statistics.lsnLast + LSN(events.count)
            queue.statistics.lsnLast = last
            queue.pending.append(PendingBatch(firstLSN: first, lastLSN: last, events: events))
            return .success(last)
        }
        let lsn = try result.get()
        if wakeWriter { signalWriter() }
        return lsn
    }

    /// Returns once `lsn` is acknowledged under the fsync policy (durable, for
    /// `always`); throws the WAL's failure if it failed before that.
    public func waitUntilAcknowledged(_ lsn: LSN) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            whenAcknowledged(lsn) { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    /// Calls `notify` once `lsn` is acknowledged (with nil) or the WAL failed first
    /// (with the failure): at once if that is already so, else from the writer
    /// thread, so it must be quick (hop to your own executor).
    public func whenAcknowledged(_ lsn: LSN, _ notify: @escaping @Sendable (StorageError?) -> Void) {
        let outcome: StorageError?? = queue.withLockedValue { queue in
            if acknowledgedLSN(queue.statistics) >= lsn { return .some(nil) }
            if let failure = queue.failure { return .some(failure) }
            queue.waiters.append(Waiter(lsn: lsn, notify: notify))
            return .none
        }
        if case .some(let error) = outcome { notify(error) }
    }

    /// The last LSN acknowledged under the fsync policy.
    public var lsnAcknowledged: LSN { queue.withLockedValue { acknowledgedLSN($0.statistics) } }

    /// Returns once `lsn` is durable (fdatasync returned), asking the writer for a
    /// sync if the policy would not do one soon: snapshots must never be ahead of the
    /// durable log.
    public func waitUntilDurable(_ lsn: LSN) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: StorageError?? = queue.withLockedValue { queue in
                if queue.statistics.lsnDurable >= lsn { return .some(nil) }
                if let failure = queue.failure { return .some(failure) }
                queue.waiters.append(Waiter(lsn: lsn, durable: true) { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                })
                return .none
            }
            switch outcome {
            case .some(.none): continuation.resume()
            case .some(.some(let error)): continuation.resume(throwing: error)
            case .none: signalWriter()
            }
        }
    }

    /// Makes the next frame start a new segment. Called when a snapshot cut is taken,
    /// so that recovery from that snapshot reads (and decompresses) only the segment
    /// written after it, not the whole segment the cut fell into.
    public func rollSegmentAtNextFrame() {
        queue.withLockedValue { $0.rollRequested = true }
    }

    /// Ends the log here and begins it again after `lsn`: the writer syncs and closes
    /// its segment, sets `CHECKPOINT` to LSN 0, calls `replaceFiles` (which puts the
    /// new start of the log in place: `DataDirectory.replaceLog`), records `lsn` as
    /// durable, and starts the next frame in a new segment `wal-<lsn + 1>.log`. Nothing
    /// may be appended meanwhile (a replica being re-synced appends nothing); if
    /// something is, the restart is refused. A failure of the files is the log's.
    public func restart(at lsn: LSN, replacingFiles replaceFiles: @escaping @Sendable () throws(StorageError) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let refusal: StorageError? = queue.withLockedValue { queue in
                if let failure = queue.failure { return failure }
                if queue.closing || queue.restart != nil { return StorageError(.busy, "the WAL is closing or restarting") }
                queue.restart = Restart(lsn: lsn, replaceFiles: replaceFiles) { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) } else { signalWriter() }
        }
    }

    /// Registers the one observer told, from the writer thread, each time the
    /// acknowledged LSN advances (and once with the failure if the WAL fails). A
    /// server uses it to release all replies up to that LSN in one go, instead of
    /// one callback per request.
    public func observeAcknowledgements(_ observer: @escaping @Sendable (LSN, StorageError?) -> Void) {
        queue.withLockedValue { $0.observer = observer }
    }

    /// Writes and syncs what is queued, stops the writer thread and closes the segment.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyClosed = queue.withLockedValue { queue in
                if queue.closed { return true }
                queue.closing = true
                queue.closedContinuations.append(continuation)
                return false
            }
            if alreadyClosed { continuation.resume() } else { signalWriter() }
        }
    }

    private func acknowledgedLSN(_ statistics: Statistics) -> LSN {
        configuration.fsyncPolicy == .always ? statistics.lsnDurable : statistics.lsnWritten
    }

    /// Tells the writer thread that appends are waiting.
    public func wakeWriter() { signalWriter() }

    private func signalWriter() {
        workAvailable.lock()
        workAvailable.unlock(withValue: true)
    }

    // MARK: The writer thread

    private func runWriter() {
        var writer = SegmentWriter(configuration: configuration)
        var lastSync = DispatchTime.now()
        let lsnOpened = queue.withLockedValue { $0.statistics.lsnDurable }
        var lsnCheckpointed = lsnOpened
        let checkpoint: LogCheckpointWriter
        do {
            // Where this run starts is durable before anything is appended (after an
            // accepted loss it is lower than what the file said).
            checkpoint = try LogCheckpointWriter(
                directory: configuration.directory, checkpoint: LogCheckpoint(lsnDurable: lsnOpened, stoppedCleanly: false),
                fileSystem: configuration.fileSystem)
        } catch {
            fail(error)
            finishClose()
            return
        }
        while true {
            if configuration.fsyncPolicy == .interval {
                if workAvailable.lock(whenValue: true, timeoutSeconds: configuration.syncIntervalSeconds) {
                    workAvailable.unlock(withValue: false)
                }
            } else {
                workAvailable.lock(whenValue: true)
                workAvailable.unlock(withValue: false)
            }
            let (batches, closing, syncRequested, restart) = queue.withLockedValue { queue in
                let restart = queue.restart
                queue.restart = nil
                let batches = queue.pending
                queue.pending.removeAll(keepingCapacity: true)
                queue.pendingEvents = 0
                let syncRequested = queue.waiters.contains(where: \.durable)
                if queue.rollRequested && !batches.isEmpty {
                    queue.rollRequested = false
                    writer.rollBeforeNextFrame = true
                }
                return (batches, queue.closing, syncRequested, restart)
            }
            do {
                if !batches.isEmpty {
                    try write(batches, with: &writer)
                }
                let unsynced = writer.hasUnsyncedBytes
                let intervalDue = Double(DispatchTime.now().uptimeNanoseconds - lastSync.uptimeNanoseconds) / 1e9
                    >= configuration.syncIntervalSeconds
                let mustSync = configuration.fsyncPolicy == .always
                    || (configuration.fsyncPolicy == .interval && intervalDue) || closing || syncRequested
                if unsynced && mustSync {
                    let syncStarted = DispatchTime.now()
                    try writer.sync()
                    lastSync = DispatchTime.now()
                    let microseconds = (lastSync.uptimeNanoseconds - syncStarted.uptimeNanoseconds) / 1_000
                    configuration.onFsync?(microseconds)
                    queue.withLockedValue { queue in
                        queue.statistics.fsyncs += 1
                        queue.statistics.fsyncMicrosecondsMax = max(queue.statistics.fsyncMicrosecondsMax, microseconds)
                        if microseconds > 10_000 { queue.statistics.fsyncsOver10Milliseconds += 1 }
                    }
                }
                if !writer.hasUnsyncedBytes {
                    let durable = queue.withLockedValue { queue in
                        queue.statistics.lsnDurable = queue.statistics.lsnWritten
                        return queue.statistics.lsnDurable
                    }
                    if durable != lsnCheckpointed {
                        checkpoint.recordQuietly(LogCheckpoint(lsnDurable: durable, stoppedCleanly: false)) { error in
                            logger.warning("cannot update the checkpoint; recovery will check against an older LSN", metadata: ["error": "\(error)"])
                        }
                        lsnCheckpointed = durable
                    }
                }
                if let restart {
                    if batches.isEmpty {
                        try restartLog(restart, writer: &writer, checkpoint: checkpoint)
                        lsnCheckpointed = restart.lsn
                    } else {
                        restart.done(StorageError(.busy, "events were appended while the log was to restart"))
                    }
                }
                resumeAcknowledgedWaiters()
                if let restart, batches.isEmpty { restart.done(nil) }
            } catch {
                fail(error)
                restart?.done(error)  // after: whoever restarted finds the log failed
                writer.close()
                finishClose()
                return
            }
            if closing {
                writer.close()
                if !writer.hasUnsyncedBytes {
                    // A clean stop: the last LSN, durably.
                    do {
                        try checkpoint.record(LogCheckpoint(lsnDurable: lsnCheckpointed, stoppedCleanly: true))
                        try checkpoint.sync()
                    } catch {
                        logger.warning("cannot record the clean stop in the checkpoint", metadata: ["error": "\(error)"])
                    }
                }
                finishClose()
                return
            }
        }
    }

    private func restartLog(_ restart: Restart, writer: inout SegmentWriter, checkpoint: LogCheckpointWriter) throws(StorageError) {
        try writer.sync()
        writer.close()
        try checkpoint.record(LogCheckpoint(lsnDurable: 0, stoppedCleanly: false))
        try checkpoint.sync()
        try restart.replaceFiles()
        try checkpoint.record(LogCheckpoint(lsnDurable: restart.lsn, stoppedCleanly: false))
        try checkpoint.sync()
        let appendedMeanwhile = queue.withLockedValue { queue in
            guard queue.pending.isEmpty else { return true }
            queue.statistics.lsnLast = restart.lsn
            queue.statistics.lsnWritten = restart.lsn
            queue.statistics.lsnDurable = restart.lsn
            return false
        }
        // The caller promised not to append: LSNs handed out meanwhile would be wrong.
        if appendedMeanwhile { throw StorageError(.failed, "events were appended while the log restarted at LSN \(restart.lsn)") }
    }

    private func write(_ batches: [PendingBatch], with writer: inout SegmentWriter) throws(StorageError) {
        // One frame per run of batches, up to the frame size limit; a batch is never
        // split across frames, so a command's events stay together.
        var frame = BinaryWriter(capacity: 4_096)
        var records = BinaryWriter(capacity: 1_024)
        var scratch = BinaryWriter(capacity: 256)
        var frameFirstLSN = batches[0].firstLSN
        var frameLastLSN: LSN = 0
        for batch in batches {
            records.reset()
            WALFormat.encodeRecords(batch.events, into: &records, scratch: &scratch)
            if !frame.bytes.isEmpty, frame.bytes.count + records.bytes.count > WALFormat.frameRawBytesMax {
                try writeFrame(frame.bytes, firstLSN: frameFirstLSN, lastLSN: frameLastLSN, with: &writer)
                frame.reset()
                frameFirstLSN = batch.firstLSN
            }
            frame.write(contentsOf: records.bytes)
            frameLastLSN = batch.lastLSN
        }
        try writeFrame(frame.bytes, firstLSN: frameFirstLSN, lastLSN: frameLastLSN, with: &writer)
    }

    private func writeFrame(_ raw: [UInt8], firstLSN: LSN, lastLSN: LSN, with writer: inout SegmentWriter) throws(StorageError) {
        let written = try writer.writeFrame(raw: raw, firstLSN: firstLSN, lastLSN: lastLSN)
        if let failure = written.rollFailure {
            logger.warning("cannot start a new WAL segment; writing on in the current one", metadata: ["error": "\(failure)"])
        }
        queue.withLockedValue { queue in
            queue.statistics.lsnWritten = lastLSN
            queue.statistics.frames += 1
            queue.statistics.eventsWritten += lastLSN - firstLSN + 1
            queue.statistics.rawBytes += UInt64(raw.count)
            queue.statistics.bytesOnDisk += UInt64(written.bytes)
            if written.newSegment { queue.statistics.segments += 1 }
        }
    }

    private func resumeAcknowledgedWaiters() {
        let (ready, acknowledged, observer) = queue.withLockedValue { queue in
            let acknowledged = acknowledgedLSN(queue.statistics)
            let durable = queue.statistics.lsnDurable
            var ready: [Waiter] = []
            queue.waiters.removeAll { waiter in
                guard waiter.lsn <= (waiter.durable ? durable : acknowledged) else { return false }
                ready.append(waiter)
                return true
            }
            return (ready, acknowledged, queue.observer)
        }
        for waiter in ready { waiter.notify(nil) }
        observer?(acknowledged, nil)
    }

    private func fail(_ error: StorageError) {
        logger.critical("WAL write failed; refusing every later write", metadata: ["error": "\(error)"])
        let failure = StorageError(.failed, "the WAL failed and accepts no more writes (\(error))", errno: error.errno)
        let (waiters, durable, observer) = queue.withLockedValue { queue in
            queue.failure = failure
            queue.statistics.failure = failure.description
            queue.pending.removeAll()
            queue.pendingEvents = 0
            let waiters = queue.waiters
            queue.waiters.removeAll()
            return (waiters, acknowledgedLSN(queue.statistics), queue.observer)
        }
        for waiter in waiters { waiter.notify(failure) }
        observer?(durable, failure)
    }

    private func finishClose() {
        let continuations = queue.withLockedValue { queue in
            queue.closed = true
            queue.closing = true
            let continuations = queue.closedContinuations
            queue.closedContinuations.removeAll()
            let waiters = queue.waiters
            queue.waiters.removeAll()
            return (continuations, waiters)
        }
        for waiter in continuations.1 {
            waiter.notify(StorageError(.failed, "the WAL closed before LSN \(waiter.lsn) was written"))
        }
        for continuation in continuations.0 { continuation.resume() }
    }
}

/// The current segment file and its compression stream; owned by the writer thread.
struct SegmentWriter {
    let configuration: WriteAheadLog.Configuration
    private var file: (any AppendableFile)?
    private var segmentBytes = 0
    private let compressor: ZstdStreamCompressor
    private(set) var hasUnsyncedBytes = false
    var rollBeforeNextFrame = false

    init(configuration: WriteAheadLog.Configuration) {
        self.configuration = configuration
        compressor = ZstdStreamCompressor(level: configuration.compressionLevel)
    }

    /// Writes one frame, starting a new segment first when one is due. If the new
    /// segment cannot be started (no room for it) while the current one is open, the
    /// frame goes into the current one and the failure is returned, not thrown: a
    /// segment may grow past its size, but the log does not stop for it.
    mutating func writeFrame(
        raw: [UInt8], firstLSN: LSN, lastLSN: LSN
    ) throws(StorageError) -> (bytes: Int, newSegment: Bool, rollFailure: StorageError?) {
        var newSegment = false
        var rollFailure: StorageError?
        if file == nil || segmentBytes >= configuration.segmentBytesMax || rollBeforeNextFrame {
            rollBeforeNextFrame = false
            rollFailure = try roll(firstLSN: firstLSN)
            newSegment = rollFailure == nil
        }
        let payload = try compressor.compressAndFlush(raw)
        let frame = WALFormat.frame(payload: payload, rawBytes: raw.count, firstLSN: firstLSN, lastLSN: lastLSN)
        hasUnsyncedBytes = true
        try file!.append(frame)
        segmentBytes += frame.count
        return (frame.count, newSegment, rollFailure)
    }

    mutating func sync() throws(StorageError) {
        try file?.sync()
        hasUnsyncedBytes = false
    }

    /// Syncs the current segment and starts `wal-<firstLSN>.log` (header fsynced, then
    /// the directory, so the new name survives a crash). A failed sync of the current
    /// segment is the log's failure (thrown). A new segment that cannot be made is
    /// removed again; with a current segment open its failure is returned and writing
    /// goes on there, without one it is thrown.
    private mutating func roll(firstLSN: LSN) throws(StorageError) -> StorageError? {
        if file != nil { try sync() }
        let path = configuration.directory + "/" + WALFormat.segmentFileName(firstLSN: firstLSN)
        let header = WALFormat.segmentHeader(firstLSN: firstLSN)
        var created: (any AppendableFile)?
        do {
            created = try configuration.fileSystem.createFile(atPath: path)
            try created!.append(header)
            try created!.sync()
            try configuration.fileSystem.syncDirectory(atPath: configuration.directory)
        } catch {
            created?.close()
            try? configuration.fileSystem.removeFile(atPath: path)
            if file == nil { throw error }
            return error
        }
        file?.close()
        file = created
        compressor.reset()
        segmentBytes = header.count
        return nil
    }

    mutating func close() {
        file?.close()
        file = nil
    }
}
