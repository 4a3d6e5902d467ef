import OrderlineCore

/// Snapshots: the canonical records of the whole state at one LSN, zstd-compressed.
///
/// `snapshot-<LSN, 20 digits>.snap`, little-endian:
///
///     0  magic "OLSNAP01"          8 bytes
///     8  event codec version       u16
///    10  reserved (0)              u16 + u32
///    16  LSN                       u64
///    24  raw bytes                 u64
///    32  payload bytes             u64
///    40  XXH64 of the payload, seeded with XXH64 of bytes 0..<40   u64
///    48  payload: one zstd frame (content checksum on)
///
/// Written to `<name>.tmp`, fsynced, renamed, and the directory fsynced, so a crash
/// leaves either the old set of snapshots or the new one.
public enum SnapshotFile {
    public static let magic: [UInt8] = Array("OLSNAP01".utf8)
    public static let headerBytes = 48

    private static let names = LSNFileName(prefix: "snapshot-", suffix: ".snap")

    public static func fileName(lsn: LSN) -> String { names.name(lsn) }

    public static func lsn(fileName: String) -> LSN? { names.lsn(of: fileName) }

    public static func encode(_ state: OrderlineState, compressionLevel: Int32 = 3) throws(StorageError) -> [UInt8] {
        // One zstd frame fed a megabyte of records at a time: the uncompressed state is
        // never in memory whole (at 5 M carts it was hundreds of MB, kept by the
        // process after each snapshot).
        let compressor = ZstdStreamCompressor(level: compressionLevel, checksum: true)
        var payload: [UInt8] = []
        var rawCount = 0
        var failure: StorageError?
        state.canonicalEncoding(inPiecesOf: 1 << 20) { piece in
            guard failure == nil else { return }
            rawCount += piece.count
            do throws(StorageError) { payload += try compressor.compress(piece, .none) } catch { failure = error }
        }
        if let failure { throw failure }
        payload += try compressor.compress([], .endFrame)
        var writer = BinaryWriter(capacity: headerBytes + payload.count)
        writer.write(contentsOf: magic)
        writer.writeFixed(UInt16(Event.codecVersion))
        writer.writeFixed(UInt16(0))
        writer.writeFixed(UInt32(0))
        writer.writeFixed(state.lsn)
        writer.writeFixed(UInt64(rawCount))
        writer.writeFixed(UInt64(payload.count))
        writer.writeFixed(XXH64.hash(payload, seed: XXH64.hash(writer.bytes)))
        writer.write(contentsOf: payload)
        return writer.bytes
    }

    /// Checks and decodes a snapshot; any damage is a `.corrupt` error naming the file.
    /// `deferringOrderState`: see `OrderlineState.restoreDerivedState(deferringOrders:)`.
    public static func decode(_ bytes: [UInt8], name: String, deferringOrderState: Bool = false) throws(StorageError) -> OrderlineState {
        func corrupt(_ why: String) -> StorageError { StorageError(.corrupt, "snapshot \(name): \(why)") }
        guard bytes.count >= headerBytes, Array(bytes[0..<8]) == magic else { throw corrupt("bad header") }
        var reader = BinaryReader(bytes, offset: 8, end: headerBytes)
        do {
            let codec = try reader.readFixed(UInt16.self)
            _ = try reader.readFixed(UInt16.self)
            _ = try reader.readFixed(UInt32.self)
            let lsn = try reader.readFixed(UInt64.self)
            let rawBytes = try reader.readFixed(UInt64.self)
            let payloadBytes = try reader.readFixed(UInt64.self)
            let checksum = try reader.readFixed(UInt64.self)
            guard UInt64(bytes.count - headerBytes) == payloadBytes else {
                throw corrupt("payload is \(bytes.count - headerBytes) bytes, header says \(payloadBytes)")
            }
            guard XXH64.hash(bytes[headerBytes...], seed: XXH64.hash(bytes[0..<40])) == checksum else {
                throw corrupt("checksum mismatch")
            }
            guard codec == Event.codecVersion else { throw corrupt("codec version \(codec) is unknown") }
            guard rawBytes <= 1 << 40 else { throw corrupt("raw size \(rawBytes) out of range") }
            let raw = try Zstd.decompress(bytes[headerBytes...], expectedBytes: Int(rawBytes))
            let state = try OrderlineState.decodeCanonical(raw, deferringOrderState: deferringOrderState)
            guard state.lsn == lsn else { throw corrupt("state is at LSN \(state.lsn), header says \(lsn)") }
            return state
        } catch let error as DecodingError {
            throw corrupt("\(error)")
        } catch let error as StorageError {
            throw error.code == .corrupt && !error.message.hasPrefix("snapshot") ? corrupt(error.message) : error
        } catch {
            throw corrupt("\(error)")
        }
    }

    /// Writes a snapshot durably: temporary file, fsync, rename, directory fsync.
    public static func write(
        _ state: OrderlineState, to directory: DataDirectory, fileSystem: any FileSystem, compressionLevel: Int32 = 3
    ) throws(StorageError) -> String {
        let bytes = try encode(state, compressionLevel: compressionLevel)
        let name = fileName(lsn: state.lsn)
        do {
            try directory.writeDurably(bytes, as: name, fileSystem: fileSystem)
            return name
        } catch {
            throw StorageError(
                error.code, "snapshot at LSN \(state.lsn) (\(bytes.count) bytes) not written, its temporary file removed: \(error.message)",
                errno: error.errno)
        }
    }

    /// Keeps the newest `snapshotsKept` snapshots and removes older ones, and the WAL
    /// segments wholly covered by the oldest kept snapshot (unless `keepSegments`).
    /// Never removes the newest segment.
    public static func applyRetention(
        in directory: DataDirectory, fileSystem: any FileSystem, snapshotsKept: Int, keepSegments: Bool
    ) throws(StorageError) -> [String] {
        var removed: [String] = []
        let snapshots = try directory.snapshots()
        guard snapshots.count >= snapshotsKept, let oldestKept = snapshots.prefix(snapshotsKept).last else { return [] }
        for old in snapshots.dropFirst(snapshotsKept) {
            try fileSystem.removeFile(atPath: directory.file(old.name))
            removed.append(old.name)
        }
        if !keepSegments {
            let segments = try directory.segments()
            for (index, segment) in segments.enumerated().dropLast() where segments[index + 1].firstLSN - 1 <= oldestKept.lsn {
                try fileSystem.removeFile(atPath: directory.file(segment.name))
                removed.append(segment.name)
            }
        }
        if !removed.isEmpty { try fileSystem.syncDirectory(atPath: directory.path) }
        return removed
    }
}
