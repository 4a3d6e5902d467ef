import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Shard counts the live engine runs with, by seed; replays use others.
private func shardCount(seed: UInt64) -> Int { [1, 4, 3, 8][Int(seed % 4)] }

/// For many seeds: a random command mix through the live engine (at 1, 3, 4 or 8
/// shards), then replay of its log gives the live digest at the end and at earlier
/// LSNs (`--until`), into the whole state and into other shard counts.
@Test(arguments: UInt64(1)...24)
func replayDigestEqualsLiveDigest(seed: UInt64) async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(
        directory.path, clock: clock, snapshotEvery: seed % 3 == 0 ? 97 : 0, keepAllSegments: true, shardCount: shardCount(seed: seed))
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
    for shards in [2, 5] {
        #expect(try recoverSharded(directory.path, shardCount: shards).digest == live, "seed \(seed) into \(shards) shards")
    }
    for checkpoint in checkpoints where checkpoint.lsn > 0 {
        #expect(try recover(directory.path, mode: .readOnly, until: checkpoint.lsn).state.digest == checkpoint, "seed \(seed) at LSN \(checkpoint.lsn)")
    }
}

/// The same for an order-heavy mix: shipments, returns, holds, edits, fraud rules. The
/// derived state (KPIs, work queues) also comes back the same, from the log alone and
/// from a snapshot plus the log.
@Test(arguments: UInt64(1)...16)
func orderHeavyReplayDigestEqualsLiveDigest(seed: UInt64) async throws {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(
        directory.path, clock: clock, snapshotEvery: seed % 2 == 0 ? 53 : 0, keepAllSegments: true, shardCount: shardCount(seed: seed))
    #expect(await engine.shardedStateForInspection.map.shardCount == shardCount(seed: seed))
    for command in RandomWorkload.setup(skuCount: 6) + [["STOCK.SET", "WH-1", "SKU-1", "40"], ["STOCK.SET", "ST-1", "SKU-2", "40"]] {
        _ = await engine.execute(command)
    }
    for index in 0..<6 {
        for node in RandomWorkload.nodes { _ = await engine.execute(["STOCK.SET", node, "SKU-\(index)", "30"]) }
    }
    var generator = SeededGenerator(seed: seed &+ 1_000)
    for step in RandomWorkload.steps(count: 900, skuCount: 6, orderHeavy: true, generator: &generator) {
        switch step {
        case .command(let tokens): _ = await engine.execute(tokens)
        case .advanceClock(let seconds): clock.advance(by: seconds * 40)
        }
    }
    let live = try await engine.digest()
    let liveState = await engine.stateForInspection
    #expect(liveState.checkInvariants())
    #expect(liveState.orders.values.contains { $0.status == .delivered || $0.status == .pickedUp }, "seed \(seed): some orders complete")
    await engine.close()

    var fromStart = Recovery.Options(mode: .readOnly)
    fromStart.ignoreSnapshots = true
    for recovered in [try recover(directory.path, mode: .readOnly).state, try Recovery.recover(DataDirectory(path: directory.path), options: fromStart).state] {
        #expect(recovered.digest == live, "seed \(seed)")
        for query in [Command.kpi(channel: nil, from: nil, to: nil), .kpi(channel: .web, from: 0, to: 10_000_000), .shipmentList(node: "WH-1", status: nil, limit: 1_000)] {
            #expect(
                try recovered.decide(query, context: recovered.decisionContext(now: 0)).get().reply
                    == liveState.decide(query, context: liveState.decisionContext(now: 0)).get().reply, "seed \(seed) \(query)")
        }
    }
    for shards in [1, 6] {
        #expect(try recoverSharded(directory.path, shardCount: shards, ignoreSnapshots: seed % 4 == 0).digest == live, "seed \(seed) into \(shards) shards")
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
