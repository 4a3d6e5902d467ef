import OrderlineCore
import OrderlineTestSupport
import Testing

/// `CoreDriver` for the sharded state: the same steps, the same clock.
typealias ShardedDriver = Driver<ShardedState>

extension Driver where State == ShardedState {
    init(shardCount: Int) { state = ShardedState(shardCount: shardCount) }

    /// Hands the state at this cut to `shardCount` other shards (a snapshot loaded with
    /// another shard count).
    mutating func reshard(to shardCount: Int) {
        state = ShardedState(splitting: state.whole, shardCount: shardCount)
    }
}

@Test func slotsArePinned() {
    // Part of the format: a SKU's slot never changes (XXH64 of the id or its tag).
    #expect(ShardMap.slot(of: "HOT") == ShardMap.slot(of: "HOT"))
    let pinned = ["HOT", "SKU-1", "SKU-2", "FLASH-1", "{SALE}-RED", "a", ""].map(ShardMap.slot(of:))
    #expect(pinned == [9299, 773, 4128, 5607, 7455, 11867, 10649])
    #expect(ShardMap.slot(of: "{SALE}-RED") == ShardMap.slot(of: "{SALE}-BLUE"))
    #expect(ShardMap.slot(of: "{SALE}-RED") == ShardMap.slot(of: "SALE"))
    // An empty tag does not count: the whole id places it.
    #expect(ShardMap.slot(of: "{}-RED") == Int(XXH64.hash(Array("{}-RED".utf8)) & 16_383))
    #expect(ShardMap.slot(of: "NO{TAG") == Int(XXH64.hash(Array("NO{TAG".utf8)) & 16_383))
}

@Test(arguments: [1, 2, 3, 4, 7, 16, 1_024])
func everySlotHasExactlyOneShard(shardCount: Int) {
    let map = ShardMap(shardCount: shardCount)
    var owned = 0
    for shard in 0..<shardCount {
        let slots = map.slots(of: shard)
        #expect(!slots.isEmpty)
        #expect(slots.lowerBound == owned, "shards own contiguous ranges in order")
        for slot in [slots.lowerBound, slots.upperBound - 1] { #expect(map.shard(ofSlot: slot) == shard) }
        owned = slots.upperBound
    }
    #expect(owned == ShardMap.slotCount)
}

/// The seeded workloads (reservations, expiries, transfers, multi-line orders with
/// carts, shipments, returns with exchanges, edits, cancels, sale terms): every reply
/// and the digest are the whole state's at 1, 2, 4 and 7 shards; half-way the state is
/// handed to another shard count, as a snapshot loaded elsewhere would be.
@Test(arguments: 1...12)
func shardedStateAnswersAsTheWholeState(seed: UInt64) throws {
    let shardCounts = [1, 2, 4, 7]
    var whole = CoreDriver()
    var sharded = shardCounts.map { ShardedDriver(shardCount: $0) }
    func run(_ line: String, _ step: Int) {
        let expected = whole.run(line)
        for index in sharded.indices {
            let reply = sharded[index].run(line)
            #expect(reply == expected, "seed \(seed) step \(step) shards \(shardCounts[index]): \(line)")
        }
    }
    let skuCount = 12
    for line in RandomWorkload.setup(skuCount: skuCount) { run(line.joined(separator: " "), -1) }
    // Sale terms on some SKUs, so limits and windows are decided across shards too.
    run("SKU.ADD SKU-1 price=107 weight=51 limit=6", -1)
    run("SKU.ADD SKU-2 price=114 weight=52 limit=9 sale_start=500 sale_end=900000", -1)
    var crossShard = shardCounts.map { _ in 0 }
    var generator = SeededGenerator(seed: seed)
    let steps = RandomWorkload.steps(count: 400, skuCount: skuCount, orderHeavy: seed % 3 != 0, generator: &generator)
    for (index, step) in steps.enumerated() {
        switch step {
        case .command(let tokens): run(RandomWorkload.inline(tokens), index)
        case .advanceClock(let seconds):
            whole.now += seconds
            for shard in sharded.indices { sharded[shard].now += seconds }
        }
        if index == steps.count / 2 {
            for shard in sharded.indices {
                crossShard[shard] += sharded[shard].state.crossShardOrderEvents
                sharded[shard].reshard(to: [3, 1, 8, 2][shard])
            }
        }
    }
    let expected = whole.state.digest
    for (index, driver) in sharded.enumerated() {
        crossShard[index] += driver.state.crossShardOrderEvents
        #expect(driver.state.digest == expected, "seed \(seed): digest at \(driver.state.map.shardCount) shards")
        #expect(driver.state.whole.checkInvariants())
        let restored = try OrderlineState.decodeCanonical(driver.state.whole.canonicalEncoding())
        #expect(restored.digest == expected)
    }
    if seed % 3 != 0 { #expect(crossShard.reduce(0, +) > 0, "seed \(seed): some orders spanned shards") }
    #expect(whole.state.oversellCount == 0)
}

@Test func ordersAcrossShardsMoveStockAtEachShard() throws {
    var whole = CoreDriver()
    var sharded = ShardedDriver(shardCount: 4)
    // SKUs on different shards.
    let skus = (0..<40).map { "S\($0)" }
    let spread = Dictionary(grouping: skus, by: { sharded.state.shard(ofSKU: $0) })
    let lines = spread.keys.sorted().prefix(3).map { spread[$0]![0] }
    #expect(Set(lines.map { sharded.state.shard(ofSKU: $0) }).count == 3)
    var commands = [
        "NODE.ADD WH kind=warehouse lat=40.7 lon=-74.0",
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5",
    ]
    for sku in lines { commands += ["SKU.ADD \(sku) price=100 weight=10", "STOCK.SET WH \(sku) 5"] }
    commands += [
        "RESERVE \(lines[0]) 2",
        "ORDER.CREATE O1 channel=web customer=C1 ship=40.7,-74.0 lines=\(lines[0]):2,\(lines[1]):1,\(lines[2]):5 reservations=R1",
        "STOCK.GET \(lines[2])",
        "ORDER.CANCEL O1",
        "STOCK.GET \(lines[0])",
    ]
    for line in commands { #expect(sharded.run(line) == whole.run(line), "\(line)") }
    #expect(sharded.state.crossShardOrderEvents == 2)
    #expect(sharded.state.digest == whole.state.digest)
    // No shard holds another's stock.
    for (index, part) in sharded.state.parts.enumerated() {
        #expect(part.inventory.keys.allSatisfy { sharded.state.shard(ofSKU: $0) == index })
    }
    #expect(sharded.state.home.inventory.isEmpty)
}

/// A customer's limit counts carts at the SKU's shard and orders at home, whichever
/// decides; a scope's quota counts its holds on every shard.
@Test func limitsAndQuotasCountAcrossShards() {
    var whole = CoreDriver()
    var sharded = ShardedDriver(shardCount: 8)
    let skus = (0..<60).map { "S\($0)" }
    let byShard = Dictionary(grouping: skus, by: { sharded.state.shard(ofSKU: $0) })
    let (limited, other) = (byShard[0]![0], byShard[1]![0])
    var lines = [
        "NODE.ADD WH kind=warehouse lat=40.7 lon=-74.0",
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5",
        "SKU.ADD \(limited) price=100 weight=10 limit=3", "STOCK.SET WH \(limited) 50",
        "SKU.ADD \(other) price=100 weight=10", "STOCK.SET WH \(other) 50",
    ]
    for line in lines { #expect(sharded.run(line) == whole.run(line)) }
    lines = [
        "ORDER.CREATE O1 channel=web customer=C1 ship=40.7,-74.0 lines=\(limited):2,\(other):1",
        "RESERVE \(limited) 1 customer=C1",
        "RESERVE \(limited) 1 customer=C1",
        "ORDER.CANCEL O1",
        "RESERVE \(limited) 2 customer=C1",
        "ORDER.CREATE O2 channel=web customer=C1 ship=40.7,-74.0 lines=\(limited):1,\(other):4",
        "ORDER.CREATE O3 channel=web customer=C1 ship=40.7,-74.0 lines=\(limited):3 reservations=R1,R2",
        "ORDER.EDIT O3 lines=\(limited):4",
    ]
    let expected = ["$", "$R1", "-LIMIT", "+OK", "$R2", "-LIMIT", "$", "-LIMIT"]
    for (line, prefix) in zip(lines, expected) {
        let reply = sharded.run(line)
        #expect(reply == whole.run(line), "\(line)")
        #expect(reply.hasPrefix(prefix), "\(line) → \(reply.prefix(80))")
    }
    #expect(sharded.state.digest == whole.state.digest)

    // channel:web may hold 2 reservations in all; the second shard sees the first's.
    var quotas = OwnerQuotas()
    quotas.heldReservationsMax = 2
    let web = Role.channel("web")
    func reserve(_ sku: String) -> String {
        let command = Command.reserve(sku: sku, quantity: 1, node: nil, ttlSeconds: 600, idempotencyKey: nil, customer: nil)
        let outcome = sharded.state.decide(command, context: sharded.state.decisionContext(now: 2_000, role: web, quotas: quotas))
        guard case .success(let decision) = outcome else { return "-\(outcome)" }
        for event in decision.events {
            sharded.lsn += 1
            sharded.state.apply(event, at: sharded.lsn)
        }
        return decision.reply.description
    }
    #expect(reserve(other).hasPrefix("$R"))
    #expect(reserve(limited).hasPrefix("$R"))
    #expect(reserve(other).contains("LIMIT"))
}
