import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Everything a follower hands out from `after` on, as (LSN, event), reading only
/// frames up to `acknowledged`.
private func drain(_ follower: LogFollower, acknowledged: LSN) throws -> [(LSN, Event)] {
    var events: [(LSN, Event)] = []
    while let frame = try follower.next(acknowledged: acknowledged) {
        #expect(frame.lastLSN <= acknowledged, "a frame past what is acknowledged was handed out")
        try WALFormat.decodeRecords(frame.records, firstLSN: frame.firstLSN, lastLSN: frame.lastLSN) { events.append(($0, $1)) }
    }
    return events
}

private func flatten(_ batches: [[Event]]) -> [(LSN, Event)] {
    batches.joined().enumerated().map { (LSN($0.offset + 1), $0.element) }
}

/// The follower reads back every event with its LSN across segment rolls, from the
/// start and from the middle of a frame, never past the acknowledged LSN.
@Test func aFollowerReadsTheLogAcrossSegmentsFromAnyLSN() async throws {
    let directory = TemporaryDirectory()
    let batches = sampleBatches(count: 200)
    // Unsynced: what is read back is the same, and the test takes a second, not thirty.
    _ = try await writeLog(directory.path, batches: batches, segmentBytesMax: 1_024, fsyncPolicy: .never)
    #expect(try DataDirectory(path: directory.path).segments().count > 5)
    let logged = flatten(batches)
    let lsnLast = LSN(logged.count)

    let all = try drain(LogFollower(directory: DataDirectory(path: directory.path), after: 0, lsnLast: lsnLast), acknowledged: lsnLast)
    #expect(all.map(\.0) == logged.map(\.0))
    #expect(all.map { "\($0.1)" } == logged.map { "\($0.1)" })

    // From LSN 2, inside the first frame (LSNs 1...3): that frame comes whole.
    let fromTwo = try drain(LogFollower(directory: DataDirectory(path: directory.path), after: 2, lsnLast: lsnLast), acknowledged: lsnLast)
    #expect(fromTwo.first?.0 == 1 && fromTwo.last?.0 == lsnLast)

    // Up to an acknowledged LSN only, then on from there once more is.
    let follower = try LogFollower(directory: DataDirectory(path: directory.path), after: 100, lsnLast: lsnLast)
    let part = try drain(follower, acknowledged: 150)
    #expect(part.first?.0 == 101 && part.last?.0 == 150)
    let rest = try drain(follower, acknowledged: lsnLast)
    #expect(rest.first?.0 == 151 && rest.last?.0 == lsnLast)
    #expect(try follower.next(acknowledged: lsnLast + 10) == nil, "nothing more is written")
}

/// Following the tail as it is written: each acknowledged batch shows up, including
/// after the writer begins a new segment, and before that nothing is handed out.
@Test func aFollowerFollowsTheTailAsItIsWritten() async throws {
    let directory = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.segmentBytesMax = 512
    configuration.fsyncPolicy = .never
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    let follower = try LogFollower(directory: DataDirectory(path: directory.path), after: 0, lsnLast: 0)
    #expect(try follower.next(acknowledged: 0) == nil)
    var seen: [LSN] = []
    for batch in sampleBatches(count: 60) {
        let last = try wal.append(batch)
        try await wal.waitUntilAcknowledged(last)
        seen += try drain(follower, acknowledged: wal.lsnAcknowledged).map(\.0)
        #expect(seen.last == last)
    }
    #expect(seen == Array(1...LSN(seen.count)))
    #expect(try DataDirectory(path: directory.path).segments().count > 3)
    await wal.close()
}

/// A follower asked for events that only a snapshot holds now (their segments were
/// removed) says so instead of skipping them.
@Test func aFollowerRefusesLSNsWhoseSegmentsAreGone() async throws {
    let directory = TemporaryDirectory()
    _ = try await writeLog(directory.path, batches: sampleBatches(count: 100), segmentBytesMax: 1_024, fsyncPolicy: .never)
    let segments = try DataDirectory(path: directory.path).segments()
    try FileManager.default.removeItem(atPath: directory.file(segments[0].name))
    #expect {
        try LogFollower(directory: DataDirectory(path: directory.path), after: 0, lsnLast: 103)
    } throws: { ($0 as? StorageError)?.code == .unavailable }
    // From where the kept segments begin it reads on.
    let from = segments[1].firstLSN - 1
    let events = try drain(LogFollower(directory: DataDirectory(path: directory.path), after: from, lsnLast: 103), acknowledged: 103)
    #expect(events.first?.0 == segments[1].firstLSN && events.last?.0 == 103)
}
