import OrderlineCore
import OrderlineTestSupport
import Testing

/// Recovery stops moving orders' parts in the derived state (KPIs, order index, work
/// queues, each node's daily load) event by event and rebuilds them once at the end.
/// For seeded order-heavy workloads, in the whole state and at 3 shards, everything
/// that shows them answers as after tracking event by event, and decisions that read
/// them (orders routed by daily capacity) come out the same; so they do when recovery
/// starts from a snapshot (decoded with the orders' part left for the end).
@Test(arguments: [1, 2, 4, 5, 7])
func derivedOrderStateRebuiltAtTheEndIsTheTrackedOne(seed: UInt64) throws {
    var tracked = CoreDriver()
    let skuCount = 12
    for line in RandomWorkload.setup(skuCount: skuCount) { tracked.run(line.joined(separator: " ")) }
    tracked.run("NODE.ADD WH-3 kind=warehouse lat=39.9526 lon=-75.1652 capacity=4")  // fills up within a day
    tracked.run("STOCK.SET WH-3 SKU-1 1000")
    var generator = SeededGenerator(seed: seed)
    for step in RandomWorkload.steps(count: 500, skuCount: skuCount, orderHeavy: true, generator: &generator) {
        switch step {
        case .command(let tokens): tracked.run(RandomWorkload.inline(tokens))
        case .advanceClock(let seconds): tracked.now += seconds
        }
    }
    var whole = OrderlineState(), sharded = ShardedState(shardCount: 3)
    whole.deferDerivedOrderState()
    sharded.deferDerivedOrderState()
    // As recovery from a snapshot half way: the snapshot decoded with the orders' part
    // left for the end, then the rest of the log.
    let half = tracked.logged.count / 2
    var upToHalf = OrderlineState()
    for (lsn, event) in tracked.logged[..<half] { upToHalf.apply(event, at: lsn) }
    var fromSnapshot = ShardedState(
        splitting: try OrderlineState.decodeCanonical(upToHalf.canonicalEncoding(), deferringOrderState: true), shardCount: 3)
    fromSnapshot.deferDerivedOrderState()
    for (index, (lsn, event)) in tracked.logged.enumerated() {
        whole.apply(event, at: lsn)
        sharded.apply(event, at: lsn)
        if index >= half { fromSnapshot.apply(event, at: lsn) }
    }
    whole.rebuildDerivedOrderState()
    sharded.rebuildDerivedOrderState()
    fromSnapshot.rebuildDerivedOrderState()
    // A snapshot at the end: no order event follows it, and the rebuild still happens.
    var atEnd = ShardedState(splitting: try OrderlineState.decodeCanonical(tracked.state.canonicalEncoding(), deferringOrderState: true), shardCount: 3)
    atEnd.deferDerivedOrderState()
    atEnd.rebuildDerivedOrderState()
    #expect(atEnd.home.workQueues.mapValues(Array.init) == tracked.state.workQueues.mapValues(Array.init))
    #expect(atEnd.home.dailyShipments.filter { $0.value != 0 } == tracked.state.dailyShipments.filter { $0.value != 0 })
    #expect(fromSnapshot.home.workQueues.mapValues(Array.init) == tracked.state.workQueues.mapValues(Array.init))
    // A node whose count went back to 0 keeps an entry when tracked: the same load.
    let load = tracked.state.dailyShipments.filter { $0.value != 0 }
    #expect(whole.capacityDay == tracked.state.capacityDay && whole.dailyShipments.filter { $0.value != 0 } == load)
    #expect(whole.workQueues.mapValues(Array.init) == tracked.state.workQueues.mapValues(Array.init))
    #expect(sharded.home.dailyShipments.filter { $0.value != 0 } == load)

    var rebuilt = CoreDriver(), rebuiltSharded = ShardedDriver(shardCount: 3), restored = ShardedDriver(shardCount: 3)
    rebuilt.state = whole
    rebuiltSharded.state = sharded
    restored.state = fromSnapshot
    rebuilt.now = tracked.now
    rebuiltSharded.now = tracked.now
    restored.now = tracked.now
    rebuilt.lsn = tracked.lsn
    rebuiltSharded.lsn = tracked.lsn
    restored.lsn = tracked.lsn
    var reads = ["KPI", "KPI channel=web", "KPI channel=pos", "KPI from=0 to=7200", "ORDER.LIST", "ORDER.LIST limit=1000"]
    reads += ["allocated", "shipped", "delivered", "cancelled", "backordered", "on_hold"].map { "ORDER.LIST status=\($0) limit=1000" }
    reads += (1...6).map { "ORDER.LIST customer=C-\($0) limit=1000" }
    reads += (RandomWorkload.nodes + ["WH-3"]).map { "SHIPMENT.LIST node=\($0) limit=1000" }
    // Orders WH-3 can take until its daily capacity is used: the same in all three.
    reads += (1...6).map { "ORDER.CREATE Z-\($0) channel=web customer=C-9 lines=SKU-1:1 ship=39.9526,-75.1652" }
    for read in reads {
        let expected = tracked.run(read)
        #expect(rebuilt.run(read) == expected, "seed \(seed): \(read)")
        #expect(rebuiltSharded.run(read) == expected, "seed \(seed), 3 shards: \(read)")
        #expect(restored.run(read) == expected, "seed \(seed), from a snapshot half way: \(read)")
    }
    #expect(rebuilt.state.digest == tracked.state.digest && rebuiltSharded.state.digest == tracked.state.digest)
    #expect(restored.state.digest == tracked.state.digest)
}
