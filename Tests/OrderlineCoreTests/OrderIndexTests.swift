@testable import OrderlineCore
import OrderlineTestSupport
import Testing

/// The chunked sorted set against a sorted Set: random inserts and removes, enough to
/// split and drop chunks; iteration always in order.
@Test(arguments: 0..<8)
func sortedChunksBehaveLikeASortedSet(seed: UInt64) {
    var random = SeededGenerator(seed: seed)
    var chunks = SortedChunks<Int>()
    var model = Set<Int>()
    let range = seed % 2 == 0 ? 0..<3_000 : 0..<60
    for step in 0..<12_000 {
        let value = Int.random(in: range, using: &random)
        // Mostly inserts first, then mostly removes, so chunks fill, split and empty.
        if Int.random(in: 0..<10, using: &random) < (step < 6_000 ? 7 : 3) {
            #expect(chunks.insert(value) == model.insert(value).inserted, "seed \(seed)")
        } else {
            #expect(chunks.remove(value) == (model.remove(value) != nil), "seed \(seed)")
        }
        #expect(chunks.contains(value) == model.contains(value), "seed \(seed)")
        if step % 997 == 0 { #expect(Array(chunks) == model.sorted(), "seed \(seed)") }
    }
    #expect(Array(chunks) == model.sorted(), "seed \(seed)")
    #expect(chunks.count == model.count, "seed \(seed)")
}

@Test func sortedMergeReadsSeveralSortedSequencesInOrder() {
    let merged = Array(SortedMerge([[1, 4, 9], [], [2, 3, 10, 11], [5]]))
    #expect(merged == [1, 2, 3, 4, 5, 9, 10, 11])
    #expect(Array(SortedMerge([[Int]]())) == [])
}

/// `ORDER.LIST` from the index answers what a scan of every order answers, for every
/// filter, after orders went through their whole lifecycle.
@Test(arguments: UInt64(1)...6)
func orderListFromTheIndexEqualsAScanOfEveryOrder(seed: UInt64) {
    var core = CoreDriver()
    for command in RandomWorkload.setup(skuCount: 6) { core.run(command.joined(separator: " ")) }
    for index in 0..<6 {
        for node in RandomWorkload.nodes { core.run("STOCK.SET \(node) SKU-\(index) 25") }
    }
    var generator = SeededGenerator(seed: seed)
    for step in RandomWorkload.steps(count: 1_200, skuCount: 6, orderHeavy: true, generator: &generator) {
        switch step {
        case .command(let tokens): core.run(RandomWorkload.inline(tokens))
        case .advanceClock(let seconds): core.now += seconds * 40
        }
    }
    let orders = core.state.orders.values
    #expect(orders.count > 8, "seed \(seed)")
    let customers = Set(orders.map(\.customer)).sorted()
    for status in [nil] + Order.Status.allCases.map(Optional.some) {
        for channel in [nil, .web, .pos] as [Order.Channel?] {
            for customer in [nil] + customers.prefix(2).map(Optional.some) {
                for limit in [3, 1_000] {
                    let scanned = orders
                        .filter { (status == nil || $0.status == status) && (customer == nil || $0.customer == customer) && (channel == nil || $0.channel == channel) }
                        .sorted { $0.id < $1.id }.prefix(limit)
                    let expected = Reply.bulk(JSONObject.array(scanned.map(\.json)))
                    let listed = core.state.decide(.orderList(status: status, customer: customer, channel: channel, limit: limit), context: core.state.decisionContext(now: 0))
                    #expect((try? listed.get().reply) == expected, "seed \(seed) status=\(String(describing: status)) channel=\(String(describing: channel)) customer=\(String(describing: customer))")
                }
            }
        }
    }
}
