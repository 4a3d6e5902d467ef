import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Concurrent clients reserve; the Nth write or fsync fails. Afterwards: every
/// acknowledged reservation is in the engine's (rebuilt) state and on disk, no
/// reservation whose command failed is in the engine's state, every later write is
/// refused with IOERR, and reads still work.
@Test(arguments: [
    FaultInjectingFileSystem.Fault.diskFullOnWrite(number: 12, bytesWritten: 9),
    .diskFullOnWrite(number: 30, bytesWritten: 0),
    .failedSync(number: 9),
    .failedSync(number: 25),
])
func aFailedWriteIsNeverAcknowledgedAndNothingAcknowledgedIsLost(fault: FaultInjectingFileSystem.Fault) async throws {
    let directory = TemporaryDirectory()
    let fileSystem = FaultInjectingFileSystem(fault)
    let engine = try await openEngine(directory.path, fileSystem: fileSystem)
    for line in ["NODE.ADD WH kind=warehouse lat=1 lon=2", "SKU.ADD HOT price=100", "STOCK.SET WH HOT 100000"] {
        let reply = await run(engine, line)
        #expect(reply == "+OK" || reply.hasPrefix(":"))
    }
    // Each client goes on until the log fails (or 500 tries): how many frames a
    // number of reservations makes depends on how group commit batches them, so a
    // fixed count might end before the Nth write.
    let replies = await withTaskGroup(of: [String].self) { group in
        for _ in 0..<8 {
            group.addTask {
                var replies: [String] = []
                for _ in 0..<500 {
                    replies.append(await run(engine, "RESERVE HOT 1"))
                    if replies.last!.hasPrefix("-IOERR") { break }
                }
                return replies
            }
        }
        return await group.reduce(into: []) { $0 += $1 }
    }
    #expect(fileSystem.hasFired)
    let acknowledged = Set(replies.filter { $0.hasPrefix("$R") }.map { String($0.dropFirst()) })
    let failed = replies.filter { $0.hasPrefix("-IOERR") }
    #expect(!failed.isEmpty)
    #expect(acknowledged.count + failed.count == replies.count, "every reply is an id or IOERR: \(Set(replies.filter { !$0.hasPrefix("$R") && !$0.hasPrefix("-IOERR") }))")

    // Later writes are refused; reads are served from the rebuilt, durable state.
    #expect(await run(engine, "RESERVE HOT 1").hasPrefix("-IOERR"))
    #expect(await run(engine, "STOCK.SET WH HOT 5").hasPrefix("-IOERR"))
    let state = await engine.stateForInspection
    let held = Set(state.reservations.values.filter { $0.status == .held }.map(\.id.description))
    #expect(held == acknowledged, "the engine shows exactly the acknowledged reservations")
    for id in acknowledged.prefix(3) {
        #expect(await run(engine, "RESERVATION.GET \(id)").contains("\"status\":\"held\""))
    }
    await engine.close()

    // On disk: everything acknowledged survived (a torn partial frame is cut off).
    let recovered = try recover(directory.path)
    let recoveredIDs = Set(recovered.state.reservations.keys.map(\.description))
    #expect(acknowledged.isSubset(of: recoveredIDs))
    #expect(recovered.state.checkInvariants())
}

/// A new segment that cannot be created (a full disk) does not stop the log: frames go
/// on into the current segment, and recovery reads them all. Only a log with no
/// segment open at all fails.
@Test func aSegmentThatCannotBeStartedLeavesTheLogWritingTheCurrentOne() async throws {
    let directory = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.fileSystem = FaultInjectingFileSystem(.failedCreate(number: 2))
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    var state = OrderlineState()
    var lsn: LSN = 0
    for (index, batch) in sampleBatches(count: 20).enumerated() {
        if index == 5 { wal.rollSegmentAtNextFrame() }
        let last = try wal.append(batch)
        try await wal.waitUntilAcknowledged(last)
        for event in batch {
            lsn += 1
            state.apply(event, at: lsn)
        }
    }
    await wal.close()
    #expect(wal.statistics.failure == nil)
    #expect(try DataDirectory(path: directory.path).segments().count == 1, "the segment that failed is not left behind")
    #expect(try recover(directory.path).state.digest == state.digest)

    let first = TemporaryDirectory()
    configuration.directory = first.path
    configuration.fileSystem = FaultInjectingFileSystem(.failedCreate(number: 1))
    let failing = WriteAheadLog(configuration: configuration, lsnLast: 0)
    await #expect(throws: StorageError.self) { try await failing.waitUntilAcknowledged(try failing.append(sampleBatches(count: 1)[0])) }
    await failing.close()
}
