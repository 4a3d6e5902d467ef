import Glibc
import OrderlineCore

/// Follows the WAL as the server writes it, from a given LSN on: reads the segments
/// (the one being written too), checks each frame, decompresses it with its segment's
/// stream and hands out its records. A primary feeds its replicas this way, from a
/// thread of its own: catching up from old segments and following the live tail are
/// the same code, and the engine's loop is never involved.
///
/// Only frames the caller says are acknowledged are read: a frame being written may
/// be there in part, and one not yet acknowledged must not reach a replica before its
/// own server's clients hear of it.
public final class LogFollower {
    /// One frame's records (each a varint length and an event), `firstLSN...lastLSN`.
    public struct Frame: Sendable {
        public var firstLSN: LSN
        public var lastLSN: LSN
        public var records: [UInt8]
    }

    private let directory: DataDirectory
    /// Events up to this LSN were asked not to be handed out.
    private let after: LSN
    private var segment: (descriptor: Int32, firstLSN: LSN, name: String)?
    /// Bytes read from the segment and not yet consumed; `position` is where the next
    /// frame starts in it, `fileOffset` where the next read in the file starts.
    private var buffer: [UInt8] = []
    private var position = 0
    private var fileOffset = 0
    private var headerRead = false
    private let decompressor = ZstdStreamDecompressor()
    /// The first LSN of the next frame.
    public private(set) var lsnNext: LSN

    /// Follows from the event after `after`, in a log whose last LSN is now `lsnLast`.
    /// Throws `.unavailable` when the segments that hold it were removed (snapshots
    /// cover them).
    public init(directory: DataDirectory, after: LSN, lsnLast: LSN) throws(StorageError) {
        self.directory = directory
        self.after = after
        let segments = try directory.segments()
        // The segment holding `after + 1` is the last one that starts at or before it.
        if let start = segments.last(where: { $0.firstLSN <= after + 1 }) {
            lsnNext = start.firstLSN
            try open(start.name, firstLSN: start.firstLSN)
        } else if let first = segments.first {
            throw StorageError(.unavailable, "the log starts at LSN \(first.firstLSN); LSN \(after + 1) is in a snapshot only")
        } else if after < lsnLast {
            throw StorageError(.unavailable, "the log holds no segment; LSN \(after + 1) is in a snapshot only")
        } else {
            lsnNext = after + 1  // the next segment the writer begins
        }
    }

    deinit {
        if let segment { close(segment.descriptor) }
    }

    /// The next frame whose last LSN is at most `acknowledged` and after `after`, or
    /// nil when there is none yet (call again once more is acknowledged).
    public func next(acknowledged: LSN) throws(StorageError) -> Frame? {
        while true {
            guard segment != nil else {
                guard try openNextSegment() else { return nil }
                continue
            }
            if !headerRead {
                guard try fill(WALFormat.segmentHeaderBytes) else { return nil }
                let firstLSN = try WALFormat.parseSegmentHeader(Array(buffer[position..<(position + WALFormat.segmentHeaderBytes)]))
                guard firstLSN == segment!.firstLSN else {
                    throw StorageError(.corrupt, "segment \(segment!.name) says it starts at LSN \(firstLSN)")
                }
                position += WALFormat.segmentHeaderBytes
                headerRead = true
                decompressor.reset()
            }
            guard lsnNext <= acknowledged else { return nil }
            switch WALFormat.checkFrame(in: buffer, at: position) {
            case .invalid(let reason):
                throw StorageError(.corrupt, "\(segment!.name) at offset \(fileOffset - (buffer.count - position)): \(reason)")
            case .truncated:
                if try readMore() { continue }
                // Nothing more in this file: the writer moved on only if the next
                // segment starts right after what was read.
                if try nextSegmentStarts() {
                    if try readMore() { continue }  // written before the next one began
                    guard buffer.count == position else {
                        throw StorageError(.corrupt, "\(segment!.name) ends in the middle of a frame, and the log goes on in the next segment")
                    }
                    closeSegment()
                    continue
                }
                return nil
            case .valid(let header):
                guard header.firstLSN == lsnNext else {
                    throw StorageError(.corrupt, "\(segment!.name): frame starts at LSN \(header.firstLSN), expected \(lsnNext)")
                }
                guard header.lastLSN <= acknowledged else { return nil }
                let payload = buffer[(position + WALFormat.frameHeaderBytes)..<(position + header.frameBytes)]
                let records = header.flags & WALFormat.flagCompressed != 0
                    ? try decompressor.decompress(payload, expectedBytes: header.rawBytes) : Array(payload)
                position += header.frameBytes
                lsnNext = header.lastLSN + 1
                compact()
                if header.lastLSN > after { return Frame(firstLSN: header.firstLSN, lastLSN: header.lastLSN, records: records) }
            }
        }
    }

    /// Hands `body` each event after `after`, in order, from the frames acknowledged
    /// up to `acknowledged`, until it returns false or the log has no more.
    public func forEachEvent(acknowledged: LSN, _ body: (LSN, Event) throws -> Bool) throws {
        var going = true
        while going, let frame = try next(acknowledged: acknowledged) {
            try WALFormat.decodeRecords(frame.records, firstLSN: frame.firstLSN, lastLSN: frame.lastLSN) { lsn, event in
                guard going, lsn > after else { return }
                going = try body(lsn, event)
            }
        }
    }

    // MARK: Files

    private func open(_ name: String, firstLSN: LSN) throws(StorageError) {
        let path = directory.file(name)
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open \(path)") }
        segment = (descriptor, firstLSN, name)
        buffer.removeAll(keepingCapacity: true)
        position = 0
        fileOffset = 0
        headerRead = false
    }

    private func closeSegment() {
        if let segment { close(segment.descriptor) }
        segment = nil
    }

    /// Opens the segment that starts at `lsnNext`, if the writer has begun it.
    private func openNextSegment() throws(StorageError) -> Bool {
        let name = WALFormat.segmentFileName(firstLSN: lsnNext)
        guard FileReader.fileExists(atPath: directory.file(name)) else {
            if let first = try directory.segments().first, first.firstLSN > lsnNext {
                throw StorageError(.unavailable, "the log starts at LSN \(first.firstLSN); LSN \(lsnNext) is gone")
            }
            return false
        }
        try open(name, firstLSN: lsnNext)
        return true
    }

    private func nextSegmentStarts() throws(StorageError) -> Bool {
        FileReader.fileExists(atPath: directory.file(WALFormat.segmentFileName(firstLSN: lsnNext)))
    }

    /// Reads until `count` bytes from `position` are there; false if the file has fewer.
    private func fill(_ count: Int) throws(StorageError) -> Bool {
        while buffer.count - position < count {
            guard try readMore() else { return false }
        }
        return true
    }

    /// Reads what the file has beyond what was read; false when it has nothing more.
    private func readMore() throws(StorageError) -> Bool {
        guard let segment else { return false }
        var info = stat()
        guard fstat(segment.descriptor, &info) == 0 else { throw .io("cannot stat \(segment.name)") }
        let available = min(Int(info.st_size) - fileOffset, Self.readBytesMax)
        guard available > 0 else { return false }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: available))
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { pread(segment.descriptor, $0.baseAddress! + start, available, off_t(fileOffset)) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else {
            buffer.removeSubrange(start...)
            throw .io("read of \(segment.name) failed")
        }
        buffer.removeSubrange((start + count)...)
        fileOffset += count
        return count > 0
    }

    private static let readBytesMax = 4 << 20

    /// Drops consumed bytes once they are most of the buffer.
    private func compact() {
        guard position > 1 << 20, position * 2 > buffer.count else { return }
        buffer.removeSubrange(0..<position)
        position = 0
    }
}
