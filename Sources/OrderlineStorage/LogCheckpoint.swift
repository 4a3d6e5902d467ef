import OrderlineCore

/// `CHECKPOINT`: the last LSN the WAL made durable, as its writer last recorded it, and
/// whether the server then stopped cleanly. Recovery refuses a log that ends before
/// it: losing the end of the log (a deleted last segment, zeroed blocks) would
/// otherwise pass for a torn tail, silently rolling back acknowledged events.
///
/// The writer overwrites the 32 bytes in place after every fsync, without an fsync of
/// its own (a `pwrite`, ~1 µs, on the WAL thread): after a crash of the process the page
/// cache still holds the latest value; after a power cut the file may hold an older
/// one, never a newer one, because each value is written only once the WAL is durable
/// past it. A clean stop fsyncs it. A damaged checkpoint (32 bytes in one sector, written
/// in place: not something a crash leaves) stops recovery like a lost tail, and
/// `--accept-data-loss` skips it.
///
/// ```
///  0  "OLCKPT01"
///  8  durable LSN   u64
/// 16  flags         u64 (bit 0: stopped cleanly)
/// 24  XXH64(0..<24) u64
/// ```
public struct LogCheckpoint: Sendable, Equatable, CustomStringConvertible {
    public var lsnDurable: LSN
    public var stoppedCleanly: Bool

    public static let fileName = "CHECKPOINT"
    static let magic: [UInt8] = Array("OLCKPT01".utf8)
    static let bytes = 32

    public init(lsnDurable: LSN, stoppedCleanly: Bool) {
        self.lsnDurable = lsnDurable
        self.stoppedCleanly = stoppedCleanly
    }

    public var description: String {
        "LSN \(lsnDurable) durable\(stoppedCleanly ? ", stopped cleanly" : "")"
    }

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: Self.bytes)
        writer.write(contentsOf: Self.magic)
        writer.writeFixed(lsnDurable)
        writer.writeFixed(UInt64(stoppedCleanly ? 1 : 0))
        writer.writeFixed(XXH64.hash(writer.bytes))
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) -> LogCheckpoint? {
        guard bytes.count == Self.bytes, Array(bytes[0..<8]) == magic else { return nil }
        var reader = BinaryReader(bytes, offset: 8, end: Self.bytes)
        guard let lsn = try? reader.readFixed(UInt64.self), let flags = try? reader.readFixed(UInt64.self),
              let checksum = try? reader.readFixed(UInt64.self), checksum == XXH64.hash(bytes[0..<24])
        else { return nil }
        return LogCheckpoint(lsnDurable: lsn, stoppedCleanly: flags & 1 != 0)
    }

    /// The directory's checkpoint: nil when it has none (a directory older than
    /// checkpoints, or new); an error when the file is there but damaged.
    public static func read(in directory: DataDirectory) throws(StorageError) -> LogCheckpoint? {
        let path = directory.file(fileName)
        guard FileReader.fileExists(atPath: path) else { return nil }
        let bytes = try FileReader.readAll(atPath: path)
        // Created, and cut off by a power failure before its first write was synced
        // (the power-cut tests found it): as good as absent.
        if bytes.isEmpty { return nil }
        guard let checkpoint = decode(bytes) else {
            throw StorageError(.corrupt, "\(path) is damaged (\(bytes.count) bytes, expected a \(Self.bytes)-byte checkpoint)")
        }
        return checkpoint
    }
}

/// The WAL writer's handle on `CHECKPOINT` (its thread only).
final class LogCheckpointWriter {
    private let file: any OverwrittenFile
    private var warned = false

    /// Creates or opens the file and records `checkpoint` durably (file and directory).
    init(directory: String, checkpoint: LogCheckpoint, fileSystem: any FileSystem) throws(StorageError) {
        file = try fileSystem.openForOverwrite(atPath: directory + "/" + LogCheckpoint.fileName)
        try record(checkpoint)
        try sync()
        try fileSystem.syncDirectory(atPath: directory)
    }

    func record(_ checkpoint: LogCheckpoint) throws(StorageError) {
        try file.overwrite(checkpoint.encoded())
    }

    func sync() throws(StorageError) {
        try file.sync()
    }

    /// During the run a failed update is not the log's failure (the log is durable
    /// either way): it is logged once, and recovery checks against an older LSN.
    func recordQuietly(_ checkpoint: LogCheckpoint, warn: (StorageError) -> Void) {
        do {
            try record(checkpoint)
        } catch {
            if !warned { warn(error) }
            warned = true
        }
    }
}
