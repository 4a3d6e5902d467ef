import OrderlineCore
import OrderlineTestSupport
import Testing

/// The array against a Dictionary: random sets, removals and default-modifies over up
/// to 40 nodes; iteration always in id order; equality and hashing independent of
/// the order levels were added.
@Test(arguments: 0..<12)
func nodeStockLevelsBehaveLikeADictionaryInIDOrder(seed: UInt64) {
    var random = SeededGenerator(seed: seed)
    var levels = NodeStockLevels()
    var model: [String: StockLevel] = [:]
    let nodes = (0..<40).map { "N-\($0 * 7 % 40)" }
    for _ in 0..<2_000 {
        let node = nodes[Int.random(in: 0..<nodes.count, using: &random)]
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let level = StockLevel(onHand: .random(in: 0...100, using: &random))
            levels[node] = level
            model[node] = level
        case 1:
            levels[node] = nil
            model[node] = nil
        case 2:
            levels[node, default: StockLevel()].reserved += 1
            model[node, default: StockLevel()].reserved += 1
        default:
            #expect(levels[node] == model[node], "seed \(seed)")
        }
        #expect(levels.count == model.count, "seed \(seed)")
    }
    #expect(levels.keys == model.keys.sorted(), "seed \(seed)")
    #expect(levels.map(\.key) == model.keys.sorted(), "seed \(seed)")
    #expect(Array(levels.values) == model.keys.sorted().map { model[$0]! }, "seed \(seed)")
    #expect(levels.mapValues(\.reserved) == model.mapValues(\.reserved), "seed \(seed)")
    var reversed = NodeStockLevels()
    for node in model.keys.sorted().reversed() { reversed[node] = model[node] }
    #expect(reversed == levels, "seed \(seed)")
    #expect(reversed.hashValue == levels.hashValue, "seed \(seed)")
}

@Test func anEventIsNoBiggerThanAReservationPayload() {
    // Order-sized payloads are indirect; an inline one would make every event 304 bytes.
    #expect(MemoryLayout<Event>.size <= 96)
}
