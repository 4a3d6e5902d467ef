import Foundation
import OrderlineCore
@testable import OrderlineStorage
import OrderlineTestSupport
import Testing

/// A segment of frames built by hand, so a frame can be well framed and checksummed
/// yet not decode to the end (what a bug, never a crash, would write).
private func segment(frames: [(events: [Event], lastLSNClaimed: LSN?)]) throws -> [UInt8] {
    var bytes = WALFormat.segmentHeader(firstLSN: 1)
    let compressor = ZstdStreamCompressor(level: 1)
    var lsn: LSN = 1
    for frame in frames {
        var records = BinaryWriter(capacity: 256)
        var scratch = BinaryWriter(capacity: 256)
        WALFormat.encodeRecords(frame.events, into: &records, scratch: &scratch)
        let lastLSN = frame.lastLSNClaimed ?? lsn + LSN(frame.events.count) - 1
        let payload = try compressor.compressAndFlush(records.bytes)
        bytes += WALFormat.frame(payload: payload, rawBytes: records.bytes.count, firstLSN: lsn, lastLSN: lastLSN)
        lsn = lastLSN + 1
    }
    return bytes
}

private func collect(_ scan: ((LSN, Event) throws -> Void) throws -> SegmentScanner.Outcome) rethrows -> ([LSN], SegmentScanner.Outcome) {
    var lsns: [LSN] = []
    let outcome = try scan { lsn, _ in lsns.append(lsn) }
    return (lsns, outcome)
}

@Test func readingAheadGivesWhatScanningGivesAtEveryCut() throws {
    let events = sampleBatches(count: 9_000).flatMap { $0 }
    let batches = stride(from: 0, to: events.count, by: 700).map { Array(events[$0..<min($0 + 700, events.count)]) }
    let whole = try segment(frames: batches.map { ($0, nil) })
    let cuts = [whole.count] + frameOffsets(whole).flatMap { [$0, $0 + 1, $0 + 45] }.filter { $0 < whole.count }
    for cut in cuts {
        let bytes = Array(whole.prefix(cut))
        let (scanned, expected) = try collect { try SegmentScanner(name: "s", bytes: bytes).scan(skippingThrough: 1_500, $0) }
        let (readAhead, outcome) = try collect { try SegmentScanner(name: "s", bytes: bytes).scanAhead(skippingThrough: 1_500, $0) }
        #expect(readAhead == scanned, "cut at \(cut)")
        #expect(outcome.lsnNext == expected.lsnNext && outcome.frames == expected.frames && outcome.stop?.offset == expected.stop?.offset)
    }
}

@Test func aFrameThatFailsToDecodeIsGivenNoneOfItsEvents() throws {
    let events = sampleBatches(count: 12).flatMap { $0 }
    // The second frame claims one event more than it holds: it decodes two, then fails.
    let bytes = try segment(frames: [(Array(events[0..<5]), nil), (Array(events[5..<7]), 7 + 1), (Array(events[7...]), nil)])
    let (lsns, outcome) = try collect { try SegmentScanner(name: "s", bytes: bytes).scanAhead($0) }
    #expect(lsns == Array(1...5), "nothing of the broken frame, nothing after it")
    #expect(outcome.lsnNext == 6 && outcome.frames == 1)
    #expect(outcome.stop?.mayBeTorn == false && outcome.stop?.reason.contains("fewer records") == true, "\(String(describing: outcome.stop))")
}

@Test func readingAheadStopsWhenTheApplyingSideThrows() throws {
    struct Enough: Error {}
    let events = sampleBatches(count: 60_000).flatMap { $0 }
    let batches = stride(from: 0, to: events.count, by: 500).map { Array(events[$0..<min($0 + 500, events.count)]) }
    let bytes = try segment(frames: batches.map { ($0, nil) })
    var seen = 0
    #expect(throws: Enough.self) {
        _ = try SegmentScanner(name: "s", bytes: bytes).scanAhead { lsn, _ in
            seen += 1
            if lsn == 10_000 { throw Enough() }
        }
    }
    #expect(seen == 10_000)
}
