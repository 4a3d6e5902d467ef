import Dispatch
import OrderlineCore
import OrderlineTestSupport
import Testing

/// `ShardedState.applyChecked(run:runShards:)`, which recovery uses with several
/// shards: a run of logged events, each shard's share applied apart (on threads, in
/// any order), must give exactly the state that applying the events one at a time
/// gives, and stop where that stops.
@Test(arguments: 1...6)
func runsAppliedShardByShardGiveTheStateOfOneEventAtATime(seed: UInt64) {
    let log = workloadLog(seed: seed)
    for shardCount in [2, 4, 7] {
        var oneByOne = ShardedState(shardCount: shardCount)
        for (lsn, event) in log {
            if let problem = oneByOne.applyChecked(event, at: lsn) { Issue.record("seed \(seed) LSN \(lsn): \(problem)") }
        }
        var inRuns = ShardedState(shardCount: shardCount)
        var generator = SeededGenerator(seed: seed &+ UInt64(shardCount))
        var start = 0
        while start < log.count {
            let end = min(log.count, start + Int.random(in: 1...300, using: &generator))
            let failure = inRuns.applyChecked(run: Array(log[start..<end]), runShards: shardCount == 7 ? onThreads : lastShardFirst)
            #expect(failure == nil, "seed \(seed) shards \(shardCount): \(String(describing: failure))")
            start = end
        }
        #expect(inRuns.digest == oneByOne.digest, "seed \(seed) shards \(shardCount)")
        #expect(inRuns.lsn == oneByOne.lsn && inRuns.timeLast == oneByOne.timeLast)
        #expect(inRuns.reservationIDMax == oneByOne.reservationIDMax && inRuns.transferIDMax == oneByOne.transferIDMax)
        #expect(inRuns.crossShardOrderEvents == oneByOne.crossShardOrderEvents)
        #expect(inRuns.whole.oversellCount == oneByOne.whole.oversellCount)
        // What the digest does not hold: each shard's derived state.
        #expect(inRuns.nextExpiring?.id == oneByOne.nextExpiring?.id && inRuns.nextExpiring?.expiresAt == oneByOne.nextExpiring?.expiresAt)
        for shard in 0..<shardCount {
            #expect(inRuns.parts[shard].heldByCustomer == oneByOne.parts[shard].heldByCustomer)
            #expect(inRuns.parts[shard].heldReservationsByOwner == oneByOne.parts[shard].heldReservationsByOwner)
            #expect(inRuns.parts[shard].nextExpiring?.id == oneByOne.parts[shard].nextExpiring?.id)
        }
        if seed % 3 != 0 { #expect(inRuns.crossShardOrderEvents > 0, "seed \(seed): orders spanned shards") }
    }
}

/// A bad event (a reservation ended twice, at its shard; an order placed twice, at
/// home; a reservation created twice, found while routing; an LSN out of place) stops
/// a run at the same LSN, with the same words, as applying one event at a time does;
/// the lowest LSN wins when several are bad.
@Test func aRunStopsWhereOneEventAtATimeStops() throws {
    let log = workloadLog(seed: 2)
    let endIndex = try #require(log.firstIndex { if case .reservationReleased = $0.event { true } else { false } })
    let placedIndex = try #require(log.firstIndex { if case .orderPlaced = $0.event { true } else { false } })
    let createdIndex = try #require(log.firstIndex { if case .reservationCreated = $0.event { true } else { false } })
    // Both originals come before `first`, so each copy inserted there or later is bad.
    let first = max(endIndex, placedIndex) + 10, second = first + 30
    let bad: [(String, [ShardedState.Logged])] = [
        ("an end twice", renumbered(inserting: [log[endIndex].event], at: first, into: log)),
        ("an order twice", renumbered(inserting: [log[placedIndex].event], at: first, into: log)),
        ("a reservation created twice", renumbered(inserting: [log[createdIndex].event], at: first, into: log)),
        ("both, the end first", renumbered(inserting: [log[endIndex].event], at: first,
                                          into: renumbered(inserting: [log[placedIndex].event], at: second, into: log))),
        ("both, the order first", renumbered(inserting: [log[placedIndex].event], at: first,
                                            into: renumbered(inserting: [log[endIndex].event], at: second, into: log))),
        ("an LSN skipped", Array(log[..<100]) + log[101...]),
    ]
    for (what, events) in bad {
        for shardCount in [2, 5] {
            var oneByOne = ShardedState(shardCount: shardCount)
            var expected: (lsn: LSN, problem: String)?
            for (lsn, event) in events {
                if let problem = oneByOne.applyChecked(event, at: lsn) {
                    expected = (lsn, problem)
                    break
                }
            }
            let stop = try #require(expected, "\(what): one event at a time stops")
            var inRuns = ShardedState(shardCount: shardCount)
            var failure: (lsn: LSN, problem: String)?
            for start in stride(from: 0, to: events.count, by: 500) where failure == nil {
                failure = inRuns.applyChecked(run: Array(events[start..<min(events.count, start + 500)]), runShards: onThreads)
            }
            #expect(failure?.lsn == stop.lsn && failure?.problem == stop.problem, "\(what) at \(shardCount) shards: \(String(describing: failure)) vs \(stop)")
        }
    }
}

/// More than the FIFO of ended reservations keeps: exactly the oldest ended ones are
/// forgotten, each by its own shard, as one event at a time forgets them. (Checked
/// by what is kept rather than against a second, one-at-a-time pass: two million
/// events twice took two minutes in a debug build.)
@Test(.timeLimit(.minutes(5)))
func theEndedReservationsFIFODropsTheOldestInRuns() {
    let skus = ["A", "B", "C", "D", "E"]
    var log: [ShardedState.Logged] = []
    func add(_ event: Event) { log.append((LSN(log.count + 1), event)) }
    add(.nodeUpserted(Node(id: "WH-1", kind: .warehouse, location: Coordinate(latitudeMicrodegrees: 0, longitudeMicrodegrees: 0))))
    for sku in skus {
        add(.skuUpserted(SKU(id: sku, priceCents: 100)))
        add(.stockSet(node: "WH-1", sku: sku, onHand: 1_000, safety: 0))
    }
    let dropped = 1_000, reservations = OrderlineState.endedReservationsMax + dropped
    for number in 1...reservations {
        let id = ReservationID(UInt64(number))
        add(.reservationCreated(Reservation(id: id, sku: skus[number % skus.count], quantity: 1, node: "WH-1", createdAt: 10, expiresAt: 99)))
        add(.reservationReleased(id))
    }
    var state = ShardedState(shardCount: 3)
    for start in stride(from: 0, to: log.count, by: 8_192) {
        #expect(state.applyChecked(run: Array(log[start..<min(log.count, start + 8_192)]), runShards: onThreads) == nil)
    }
    for number in [1, dropped / 2, dropped] { #expect(state.parts[state.shard(ofReservation: ReservationID(UInt64(number)))].reservations[ReservationID(UInt64(number))] == nil) }
    for number in [dropped + 1, reservations / 2, reservations] {
        let id = ReservationID(UInt64(number))
        let shard = state.map.shard(of: skus[number % skus.count])
        #expect(state.shard(ofReservation: id) == shard && state.parts[shard].reservations[id]?.status == .released, "R\(number)")
    }
    #expect(state.parts.reduce(0) { $0 + $1.reservations.count } == OrderlineState.endedReservationsMax)
    #expect(state.whole.endedReservations.first == ReservationID(UInt64(dropped + 1)))
}

/// The log of a seeded workload (as `shardedStateAnswersAsTheWholeState` runs it).
private func workloadLog(seed: UInt64) -> [ShardedState.Logged] {
    var driver = CoreDriver()
    let skuCount = 12
    for line in RandomWorkload.setup(skuCount: skuCount) { driver.run(line.joined(separator: " ")) }
    driver.run("SKU.ADD SKU-1 price=107 weight=51 limit=6")
    var generator = SeededGenerator(seed: seed)
    for step in RandomWorkload.steps(count: 400, skuCount: skuCount, orderHeavy: seed % 3 != 0, generator: &generator) {
        switch step {
        case .command(let tokens): driver.run(RandomWorkload.inline(tokens))
        case .advanceClock(let seconds): driver.now += seconds
        }
    }
    return driver.logged
}

private func renumbered(inserting events: [Event], at index: Int, into log: [ShardedState.Logged]) -> [ShardedState.Logged] {
    let events = log[..<index].map(\.event) + events + log[index...].map(\.event)
    return events.enumerated().map { (LSN($0.offset + 1), $0.element) }
}

/// The shards' shares on Dispatch's threads, as recovery runs them.
private func onThreads(_ count: Int, _ job: @Sendable (Int) -> Void) {
    DispatchQueue.concurrentPerform(iterations: count, execute: job)
}

/// One after another, the last shard first: no order between shards may matter.
private func lastShardFirst(_ count: Int, _ job: @Sendable (Int) -> Void) {
    for shard in (0..<count).reversed() { job(shard) }
}
