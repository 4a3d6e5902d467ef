import OrderlineCore

/// The on-disk layout of WAL segments and frames (see docs/STORAGE.md).
///
/// A segment is `wal-<first LSN, 20 digits>.log`: a 32-byte header, then frames.
/// Segment header, little-endian:
///
///     0  magic "OLWALSEG"           8 bytes
///     8  layout version             u16 (1)
///    10  event codec version        u16
///    12  reserved (0)               u32
///    16  first LSN                  u64
///    24  XXH64 of bytes 0..<24      u64
///
/// A frame is one group-commit batch: a 40-byte header, then the payload, the batch's
/// records compressed as one flush of the segment's zstd stream.
///
///     0  magic "OLWF"               4 bytes
///     4  layout version             u8 (1)
///     5  event codec version        u8
///     6  flags                      u16 (bit 0: payload is zstd)
///     8  payload bytes (stored)     u32
///    12  raw bytes (uncompressed)   u32
///    16  first LSN                  u64
///    24  last LSN                   u64
///    32  checksum: XXH64 of the payload, seeded with XXH64 of bytes 0..<32   u64
///
/// The raw payload is `lastLSN - firstLSN + 1` records, each a varint length and
/// one event's encoding; record i has LSN `firstLSN + i`.
public enum WALFormat {
    public static let segmentMagic: [UInt8] = Array("OLWALSEG".utf8)
    public static let frameMagic: [UInt8] = Array("OLWF".utf8)
    public static let layoutVersion: UInt8 = 1
    public static let segmentHeaderBytes = 32
    public static let frameHeaderBytes = 40
    public static let flagCompressed: UInt16 = 1
    /// A frame's raw payload is at most this large; bigger batches take several frames.
    public static let frameRawBytesMax = 4 << 20

    private static let segmentNames = LSNFileName(prefix: "wal-", suffix: ".log")

    public static func segmentFileName(firstLSN: LSN) -> String { segmentNames.name(firstLSN) }

    public static func segmentFirstLSN(fileName: String) -> LSN? { segmentNames.lsn(of: fileName) }

    public static func segmentHeader(firstLSN: LSN) -> [UInt8] {
        var writer = BinaryWriter(capacity: segmentHeaderBytes)
        writer.write(contentsOf: segmentMagic)
        writer.writeFixed(UInt16(layoutVersion))
        writer.writeFixed(UInt16(Event.codecVersion))
        writer.writeFixed(UInt32(0))
        writer.writeFixed(firstLSN)
        writer.writeFixed(XXH64.hash(writer.bytes))
        return writer.bytes
    }

    /// Checks a segment header and returns its first LSN.
    public static func parseSegmentHeader(_ bytes: [UInt8]) throws(StorageError) -> LSN {
        guard bytes.count >= segmentHeaderBytes else { throw StorageError(.corrupt, "segment header is cut short at \(bytes.count) bytes") }
        guard Array(bytes[0..<8]) == segmentMagic else { throw StorageError(.corrupt, "not a WAL segment (bad magic)") }
        var reader = BinaryReader(bytes, offset: 8, end: segmentHeaderBytes)
        do {
            let layout = try reader.readFixed(UInt16.self)
            let codec = try reader.readFixed(UInt16.self)
            _ = try reader.readFixed(UInt32.self)
            let firstLSN = try reader.readFixed(UInt64.self)
            let checksum = try reader.readFixed(UInt64.self)
            guard checksum == XXH64.hash(bytes[0..<24]) else { throw StorageError(.corrupt, "segment header checksum mismatch") }
            guard layout == layoutVersion else { throw StorageError(.corrupt, "segment layout version \(layout) is unknown (this build reads \(layoutVersion))") }
            guard codec == Event.codecVersion else { throw StorageError(.corrupt, "event codec version \(codec) is unknown (this build reads \(Event.codecVersion))") }
            return firstLSN
        } catch let error as DecodingError {
            throw StorageError(.corrupt, "segment header: \(error)")
        } catch {
            throw error as! StorageError
        }
    }

    /// Builds a frame around an already compressed payload.
    public static func frame(payload: [UInt8], rawBytes: Int, firstLSN: LSN, lastLSN: LSN) -> [UInt8] {
        var writer = BinaryWriter(capacity: frameHeaderBytes + payload.count)
        writer.write(contentsOf: frameMagic)
        writer.write(layoutVersion)
        writer.write(Event.codecVersion)
        writer.writeFixed(flagCompressed)
        writer.writeFixed(UInt32(payload.count))
        writer.writeFixed(UInt32(rawBytes))
        writer.writeFixed(firstLSN)
        writer.writeFixed(lastLSN)
        writer.writeFixed(frameChecksum(header: writer.bytes[...], payload: payload[...]))
        writer.write(contentsOf: payload)
        return writer.bytes
    }

    /// The payload's XXH64 seeded with the header's: both covered, nothing copied.
    static func frameChecksum(header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>) -> UInt64 {
        XXH64.hash(payload, seed: XXH64.hash(header))
    }

    public struct FrameHeader: Sendable, Equatable {
        public var codecVersion: UInt8
        public var flags: UInt16
        public var payloadBytes: Int
        public var rawBytes: Int
        public var firstLSN: LSN
        public var lastLSN: LSN
        public var checksum: UInt64

        public var frameBytes: Int { WALFormat.frameHeaderBytes + payloadBytes }
    }

    public enum FrameCheck: Equatable {
        case valid(FrameHeader)
        /// The bytes end before the frame does.
        case truncated(String)
        /// The frame is complete but wrong.
        case invalid(String)
    }

    /// Checks the frame at `offset`: header fields, bounds and checksum.
    public static func checkFrame(in bytes: [UInt8], at offset: Int) -> FrameCheck {
        guard bytes.count - offset >= frameHeaderBytes else {
            return .truncated("frame header cut short (\(bytes.count - offset) of \(frameHeaderBytes) bytes)")
        }
        for index in 0..<4 where bytes[offset + index] != frameMagic[index] {
            return .invalid("bad frame magic")
        }
        var reader = BinaryReader(bytes, offset: offset + 4, end: offset + frameHeaderBytes)
        // The reads cannot fail: the header's 40 bytes are there.
        let layout = (try? reader.readByte()) ?? 0
        let codec = (try? reader.readByte()) ?? 0
        let flags = (try? reader.readFixed(UInt16.self)) ?? 0
        let payloadBytes = Int((try? reader.readFixed(UInt32.self)) ?? 0)
        let rawBytes = Int((try? reader.readFixed(UInt32.self)) ?? 0)
        let firstLSN = (try? reader.readFixed(UInt64.self)) ?? 0
        let lastLSN = (try? reader.readFixed(UInt64.self)) ?? 0
        let checksum = (try? reader.readFixed(UInt64.self)) ?? 0
        guard bytes.count - offset - frameHeaderBytes >= payloadBytes else {
            return .truncated("frame payload cut short (\(bytes.count - offset - frameHeaderBytes) of \(payloadBytes) bytes)")
        }
        let payload = bytes[(offset + frameHeaderBytes)..<(offset + frameHeaderBytes + payloadBytes)]
        guard frameChecksum(header: bytes[offset..<(offset + 32)], payload: payload) == checksum else {
            return .invalid("frame checksum mismatch")
        }
        guard layout == layoutVersion else { return .invalid("frame layout version \(layout) is unknown") }
        guard codec == Event.codecVersion else {
            return .invalid("event codec version \(codec) is unknown (this build reads \(Event.codecVersion))")
        }
        guard firstLSN >= 1, lastLSN >= firstLSN, rawBytes <= frameRawBytesMax else {
            return .invalid("frame header out of range (LSN \(firstLSN)...\(lastLSN), \(rawBytes) raw bytes)")
        }
        return .valid(FrameHeader(
            codecVersion: codec, flags: flags, payloadBytes: payloadBytes, rawBytes: rawBytes,
            firstLSN: firstLSN, lastLSN: lastLSN, checksum: checksum))
    }

    /// Appends `events` to `records` as records (a varint length, then the event).
    /// `scratch` is any writer, reused from call to call.
    public static func encodeRecords(_ events: [Event], into records: inout BinaryWriter, scratch: inout BinaryWriter) {
        for event in events {
            scratch.reset()
            event.encode(into: &scratch)
            records.writeVarUInt(UInt64(scratch.bytes.count))
            records.write(contentsOf: scratch.bytes)
        }
    }

    /// Splits a frame's raw payload into events.
    public static func decodeRecords(_ raw: [UInt8], header: FrameHeader, _ body: (LSN, Event) throws -> Void) throws {
        try decodeRecords(raw, firstLSN: header.firstLSN, lastLSN: header.lastLSN, body)
    }

    /// Splits raw records into events, which must be `firstLSN...lastLSN` exactly (a
    /// replica checks what its primary sent the same way).
    public static func decodeRecords(_ raw: [UInt8], firstLSN: LSN, lastLSN: LSN, _ body: (LSN, Event) throws -> Void) throws {
        var reader = BinaryReader(raw)
        var lsn = firstLSN
        while !reader.isAtEnd {
            guard lsn <= lastLSN else { throw StorageError(.corrupt, "frame holds more records than its LSN range") }
            let length = try reader.readVarUInt()
            guard length <= UInt64(reader.remaining) else { throw StorageError(.corrupt, "record at LSN \(lsn) runs past the frame") }
            let end = reader.offset + Int(length)
            var record = BinaryReader(raw, offset: reader.offset, end: end)
            let event: Event
            do { event = try Event.decode(from: &record) } catch { throw StorageError(.corrupt, "event at LSN \(lsn): \(error)") }
            guard record.isAtEnd else { throw StorageError(.corrupt, "event at LSN \(lsn) has trailing bytes") }
            _ = try reader.readBytes(Int(length))
            try body(lsn, event)
            lsn += 1
        }
        guard lsn == lastLSN + 1 else { throw StorageError(.corrupt, "frame holds fewer records than its LSN range") }
    }
}
