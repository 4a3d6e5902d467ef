import OrderlineCore

/// Reads one WAL segment frame by frame: checks each frame, decompresses it with the
/// segment's stream and hands out its events. Recovery, `replay` and `--verify` all
/// read the log through this one type.
struct SegmentScanner {
    let name: String
    let bytes: [UInt8]
    private let decompressor = ZstdStreamDecompressor()

    init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// Where and why reading stopped before the end of the file.
    struct Stop: Error {
        var offset: Int
        var reason: String
        /// A cut-short or checksum-failing frame (what a crash mid-write leaves), as
        /// opposed to a well-formed frame that is wrong (never a crash's doing).
        var mayBeTorn: Bool
    }

    struct Outcome: Sendable {
        var firstLSN: LSN
        /// The LSN after the last complete frame.
        var lsnNext: LSN
        var frames: Int
        var stop: Stop?
        /// The offset just after the last good frame: where a repair truncates.
        var endOfValidData: Int
    }

    /// Scans the whole segment; `body` gets every event after `skippingThrough`, in
    /// order, and may throw to stop early (its error propagates). Frames at or before
    /// `skippingThrough` are still checked and decompressed (the stream needs them)
    /// but not decoded.
    /// `frameDecoded` runs after the last event of each frame `body` was given.
    func scan(
        skippingThrough: LSN = 0, frameDecoded: () throws -> Void = {}, _ body: (LSN, Event) throws -> Void
    ) throws -> Outcome {
        let firstLSN: LSN
        do {
            firstLSN = try WALFormat.parseSegmentHeader(bytes)
        } catch {
            return Outcome(
                firstLSN: 0, lsnNext: 0, frames: 0,
                // Cut short, or zeros: what a crash leaves of a header written (and
                // fsynced) just before it. A header that is there and wrong is not.
                stop: Stop(
                    offset: 0, reason: error.message,
                    mayBeTorn: bytes.count < WALFormat.segmentHeaderBytes || bytes.prefix(WALFormat.segmentHeaderBytes).allSatisfy { $0 == 0 }),
                endOfValidData: 0)
        }
        var outcome = Outcome(firstLSN: firstLSN, lsnNext: firstLSN, frames: 0, stop: nil, endOfValidData: WALFormat.segmentHeaderBytes)
        var offset = WALFormat.segmentHeaderBytes
        decompressor.reset()
        while offset < bytes.count {
            let header: WALFormat.FrameHeader
            switch WALFormat.checkFrame(in: bytes, at: offset) {
            case .truncated(let reason), .invalid(let reason):
                outcome.stop = Stop(offset: offset, reason: reason, mayBeTorn: true)
                return outcome
            case .valid(let valid):
                header = valid
            }
            guard header.firstLSN == outcome.lsnNext else {
                outcome.stop = Stop(offset: offset, reason: "frame starts at LSN \(header.firstLSN), expected \(outcome.lsnNext)", mayBeTorn: false)
                return outcome
            }
            let payload = bytes[(offset + WALFormat.frameHeaderBytes)..<(offset + header.frameBytes)]
            do {
                let raw = header.flags & WALFormat.flagCompressed != 0
                    ? try decompressor.decompress(payload, expectedBytes: header.rawBytes)
                    : Array(payload)
                if header.lastLSN > skippingThrough {
                    try WALFormat.decodeRecords(raw, header: header, body)
                    try frameDecoded()
                }
            } catch let error as StorageError where error.code == .corrupt {
                outcome.stop = Stop(offset: offset, reason: error.message, mayBeTorn: false)
                return outcome
            }
            offset += header.frameBytes
            outcome.lsnNext = header.lastLSN + 1
            outcome.frames += 1
            outcome.endOfValidData = offset
        }
        return outcome
    }

    /// Whether a checksum-valid frame starts anywhere after `offset`: if so, a bad
    /// frame at `offset` is corruption in the middle of the log, not a torn tail.
    func validFrameFollows(after offset: Int) -> Bool {
        var position = offset + 1
        while position + WALFormat.frameHeaderBytes <= bytes.count {
            if bytes[position] == WALFormat.frameMagic[0], bytes[position + 1] == WALFormat.frameMagic[1],
               bytes[position + 2] == WALFormat.frameMagic[2], bytes[position + 3] == WALFormat.frameMagic[3],
               case .valid = WALFormat.checkFrame(in: bytes, at: position) {
                return true
            }
            position += 1
        }
        return false
    }
}
