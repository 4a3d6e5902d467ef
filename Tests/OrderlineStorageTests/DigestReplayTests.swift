import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// For many seeds: a random command mix through the live engine, then replay of its
/// log gives the live digest at the end and at earlier LSNs (`--until`).
@Test(arguments: UInt64(1)...24)
func replayDigestEqualsLiveDigest(seed: UInt64) async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock, snapshotEvery: seed % 3 == 0 ? 97 : 0, keepAllSegments: true)
    for command in RandomWorkload.setup(skuCount: 10) { _ = await engine.execute(command) }
    var generator = SeededGenerator(seed: seed)
    var checkpoints: [StateDigest] = []
    for (index, step) in RandomWorkload.steps(count: 400, skuCount: 10, generator: &generator).enumerated() {
        switch step {
        case .command(let tokens): _ = await engine.execute(tokens)
        case .advanceClock(let seconds): clock.advance(by: seconds)
        }
        if index % 97 == 13 { checkpoints.append(try await engine.digest()) }
    }
    _ = await engine.tick()
    let live = try await engine.digest()
    #expect(await engine.stateForInspection.checkInvariants())
    await engine.close()

    #expect(try recover(directory.path, mode: .readOnly).state.digest == live, "seed \(seed)")
    var fromStart = Recovery.Options(mode: .readOnly)
    fromStart.ignoreSnapshots = true
    #expect(try Recovery.recover(DataDirectory(path: directory.path), options: fromStart).state.digest == live, "seed \(seed)")
    for checkpoint in checkpoints where checkpoint.lsn > 0 {
        #expect(try recover(directory.path, mode: .readOnly, until: checkpoint.lsn).state.digest == checkpoint, "seed \(seed) at LSN \(checkpoint.lsn)")
    }
}

@Test func replayUntilBeyondTheEndIsAnError() async throws {
    let directory = TemporaryDirectory()
    _ = try await writeLog(directory.path, batches: sampleBatches(count: 5))
    #expect(throws: StorageError.self) { try recover(directory.path, mode: .readOnly, until: 99) }
}

@Test func aSecondEngineCannotOpenALockedDirectory() async throws {
    let directory = TemporaryDirectory()
    let engine = try await openEngine(directory.path)
    do {
        _ = try await openEngine(directory.path)
        Issue.record("the second open succeeded")
    } catch let error as StorageError {
        #expect(error.code == .locked)
        #expect(error.message.contains("pid \(getpid())"))
    }
    await engine.close()
}
