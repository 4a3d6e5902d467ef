import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

@Test func truncatingTheLastFrameAtEveryOffsetRecoversEveryCompleteFrame() async throws {
    let original = TemporaryDirectory()
    let batches = sampleBatches(count: 40) + [[
        .skuUpserted(SKU(id: "LAST", priceCents: 1, weightGrams: 2, name: String(repeating: "long name ", count: 20))),
        .stockSet(node: "WH", sku: "LAST", onHand: 5, safety: 1),
    ]]
    let live = try await writeLog(original.path, batches: batches)
    let segment = try #require(try segmentPaths(original.path).first)
    let bytes = read(segment)
    let lastFrame = try #require(frameOffsets(bytes).last)
    let scratch = TemporaryDirectory()
    let withoutLast = try await writeLog(scratch.path, batches: Array(batches.dropLast()))

    for cut in lastFrame..<bytes.count {
        let directory = original.crashedWhileWritingTheLastFrame()
        let path = try segmentPaths(directory.path)[0]
        write(Array(bytes[0..<cut]), to: path)
        let report = try recover(directory.path)
        #expect(report.state.digest == withoutLast.digest, "cut at \(cut)")
        #expect((report.tail != nil) == (cut > lastFrame), "cut at \(cut)")
        #expect(report.tail?.isCorruption != true)
        #expect(read(path).count == lastFrame, "the torn tail is truncated")
        // The repaired log takes new appends and recovers them.
        if cut == lastFrame + 1 || cut == bytes.count - 1 {
            _ = try await writeLog(directory.path, batches: [batches.last!], lsnLast: report.state.lsn)
            #expect(try recover(directory.path).state.digest == live.digest)
        }
    }
}

@Test func singleBitFlipsAreDetectedAndNamed() async throws {
    let original = TemporaryDirectory()
    _ = try await writeLog(original.path, batches: sampleBatches(count: 60))
    let path = try segmentPaths(original.path)[0]
    let bytes = read(path)
    let offsets = frameOffsets(bytes)
    var generator = SeededGenerator(seed: 42)
    for sample in 0..<40 {
        let frameIndex = Int.random(in: 0..<offsets.count, using: &generator)
        let frameEnd = frameIndex + 1 < offsets.count ? offsets[frameIndex + 1] : bytes.count
        let byte = Int.random(in: offsets[frameIndex]..<frameEnd, using: &generator)
        let bit = UInt8(1) << UInt8.random(in: 0...7, using: &generator)
        var damaged = bytes
        damaged[byte] ^= bit
        let directory = original.copy()
        write(damaged, to: try segmentPaths(directory.path)[0])
        let context = "sample \(sample): frame \(frameIndex) byte \(byte) bit \(bit) (seed 42)"

        #expect(throws: StorageError.self, "\(context)") { try Recovery.verify(DataDirectory(path: directory.path)) }
        if frameIndex == offsets.count - 1 {
            // The last frame damaged is what a torn write looks like. But it was
            // acknowledged (the checkpoint says so): the end of the log was lost.
            do {
                _ = try recover(directory.path)
                Issue.record("a damaged acknowledged last frame was taken for a torn tail: \(context)")
            } catch let error as StorageError {
                #expect(error.message.contains("but LSN 63 was durable and acknowledged"), "\(context): \(error)")
            }
            // Had the crash come while it was being written, it is cut and reported.
            let crashed = original.crashedWhileWritingTheLastFrame()
            write(damaged, to: try segmentPaths(crashed.path)[0])
            let report = try recover(crashed.path)
            #expect(report.tail?.offset == offsets[frameIndex], "\(context)")
        } else {
            do {
                _ = try recover(directory.path)
                Issue.record("corruption in the middle was not refused: \(context)")
            } catch let error as StorageError {
                #expect(error.code == .corrupt)
                #expect(error.message.contains("offset \(offsets[frameIndex])"), "\(context): \(error)")
            }
            let repaired = try recover(directory.path, truncateAtCorruption: true)
            #expect(repaired.tail?.isCorruption == true)
            #expect(repaired.state.lsn < 63)
        }
    }
}

@Test func crashPointsAroundSegmentRollOverRecover() async throws {
    let directory = TemporaryDirectory()
    let live = try await writeLog(directory.path, batches: sampleBatches(count: 50), segmentBytesMax: 512)
    let lsn = live.lsn
    // Crash right after creating the next segment: header only, or a torn header.
    for leftover in [WALFormat.segmentHeader(firstLSN: lsn + 1), Array(WALFormat.segmentHeader(firstLSN: lsn + 1).prefix(11)), []] {
        let copy = directory.copy()
        write(leftover, to: copy.file(WALFormat.segmentFileName(firstLSN: lsn + 1)))
        let report = try recover(copy.path)
        #expect(report.state.digest == live.digest)
        #expect(!FileManager.default.fileExists(atPath: copy.file(WALFormat.segmentFileName(firstLSN: lsn + 1))))
        // And the writer can start that segment again.
        let more = try await writeLog(copy.path, batches: [[.skuUpserted(SKU(id: "X", priceCents: 1))]], lsnLast: lsn)
        #expect(more.skus["X"] != nil)
        #expect(try recover(copy.path).state.lsn == lsn + 1)
    }
}

@Test func aTornFirstFrameOfANewSegmentLeavesNoSegmentBehind() async throws {
    let directory = TemporaryDirectory()
    let live = try await writeLog(directory.path, batches: sampleBatches(count: 20))
    // A crash during the first frame after a roll: header, then half a frame.
    let scratch = TemporaryDirectory()
    _ = try await writeLog(scratch.path, batches: [[.skuUpserted(SKU(id: "LOST", priceCents: 1))]], lsnLast: live.lsn)
    let next = WALFormat.segmentFileName(firstLSN: live.lsn + 1)
    let whole = read(scratch.file(next))
    write(Array(whole.prefix(WALFormat.segmentHeaderBytes + 10)), to: directory.file(next))

    let report = try recover(directory.path)
    #expect(report.state.digest == live.digest)
    #expect(report.tail?.isCorruption == false)
    #expect(!FileManager.default.fileExists(atPath: directory.file(next)))
    // The writer can start that segment again, and what it writes is recovered.
    let after = try await writeLog(directory.path, batches: [[.skuUpserted(SKU(id: "KEPT", priceCents: 1))]], lsnLast: live.lsn)
    #expect(after.skus["KEPT"] != nil)
    #expect(try recover(directory.path).state.skus["KEPT"] != nil)
}

/// An event that names what is not there (well framed, checksummed: not a torn write,
/// but not what Orderline writes either) stops recovery at its LSN, named; before, apply
/// ignored it and the state went on without it, silently.
@Test func anEventNamingMissingStateStopsRecoveryAtItsLSN() async throws {
    let directory = TemporaryDirectory()
    var batches = sampleBatches(count: 6)
    batches.append([.reservationReleased(ReservationID(999))])
    batches.append([.orderCancelled("NO-SUCH-ORDER", at: 5)])
    _ = try await writeLog(directory.path, batches: batches)
    do {
        _ = try recover(directory.path, mode: .readOnly)
        Issue.record("a release of a reservation that never was was applied")
    } catch let error as StorageError {
        #expect(error.code == .corrupt)
        #expect(error.message.contains("the event at LSN 10 names reservation R999, which does not exist"), "\(error)")
    }
    // The check, directly: LSNs in turn, and what each kind of event must find.
    let state = try recover(directory.path, mode: .readOnly, until: 9).state
    #expect(state.violation(applying: .reservationReleased(ReservationID(1)), at: 11) == "comes after LSN 9: LSNs must follow one another")
    #expect(state.violation(applying: .reservationReleased(ReservationID(3)), at: 10) == "ends reservation R3, which is released already")
    #expect(state.violation(applying: .reservationReleased(ReservationID(5)), at: 10) == nil)
    #expect(state.violation(applying: .stockSet(node: "NOPE", sku: "HOT", onHand: 1, safety: 0), at: 10) == "names node NOPE, which does not exist")
    #expect(state.violation(applying: .transferReceived(TransferID(4)), at: 10) == "names transfer T4, which does not exist")
}
