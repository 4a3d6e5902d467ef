@testable import OrderlineCore
import OrderlineTestSupport
import Testing

private typealias Table = NumberedTable<ReservationIDKind, Int>

@Test func numberedTableKeepsValuesByNumberAcrossPages() {
    var table = Table()
    for number in 1...10_000 { table[ReservationID(UInt64(number))] = number * 2 }
    #expect(table.count == 10_000)
    #expect(table[ReservationID(1)] == 2)
    #expect(table[ReservationID(4_096)] == 8_192)
    #expect(table[ReservationID(10_000)] == 20_000)
    #expect(table[ReservationID(10_001)] == nil)
    #expect(table[ReservationID(0)] == nil)
    #expect(table.keys.map(\.number) == Array(1...10_000))
    #expect(table.values == (1...10_000).map { $0 * 2 })
}

@Test func numberedTableRemovesAndModifiesInPlace() {
    var table = Table()
    for number in 1...5_000 { table[ReservationID(UInt64(number))] = number }
    // Empty the first page (ids 1...4,095; slot 0 is id 0) and part of the second.
    for number in 1...4_200 { #expect(table.removeValue(forKey: ReservationID(UInt64(number))) == number) }
    #expect(table.count == 800)
    #expect(table.removeValue(forKey: ReservationID(1)) == nil, "removing twice removes nothing")
    #expect(table.modify(ReservationID(4_201)) { value -> Int in value += 1; return value } == 4_202)
    #expect(table[ReservationID(4_201)] == 4_202)
    #expect(table.modify(ReservationID(3)) { _ in 0 } == nil, "nothing to modify")
    // An id on a freed page is still kept (spilled).
    table[ReservationID(7)] = 70
    #expect(table[ReservationID(7)] == 70)
    #expect(table.keys.first == ReservationID(7))
    #expect(table.count == 801)
}

@Test func numberedTableSpillsIdsPastTheRangeItPages() {
    var table = Table()
    let far = ReservationID(UInt64(1) << 40)
    let farthest = ReservationID(UInt64.max)
    table[far] = 1
    table[farthest] = 2
    table[ReservationID(5)] = 3
    #expect(table.count == 3)
    #expect(table[far] == 1 && table[farthest] == 2 && table[ReservationID(5)] == 3)
    #expect(table.keys == [ReservationID(5), far, farthest])
    table[far] = nil
    #expect(table[far] == nil && table.count == 2)
    #expect(table.removeValue(forKey: farthest) == 2)
    #expect(table.keys == [ReservationID(5)])
}

@Test func numberedTableTakesInIdsThatCameFarAheadOnceItsPagesReachThem() {
    var table = Table()
    for number in 1...5_000 { table[ReservationID(UInt64(number))] = number }  // pages 0 and 1
    let gap = 1 << 16
    let ahead = ReservationID(UInt64((2 + gap + 10) << 12 | 7))
    table[ahead] = -1
    #expect(table.storage.spilled == 1, "far past pages that hold many values: spilled")
    let bridge = ReservationID(UInt64((2 + gap - 1) << 12))
    table[bridge] = -2
    #expect(table.storage.spilled == 1, "the bridge's page is within reach of the last one")
    let covering = ReservationID(UInt64((2 + gap + 10) << 12 | 8))
    table[covering] = -3
    #expect(table[ahead] == -1 && table[bridge] == -2 && table[covering] == -3)
    #expect(table.storage.spilled == 1, "ahead moved into its page; the bridge, alone on its page, spilled")
    #expect(table.count == 5_003)
    let expected: [UInt64] = Array(1...5_000) + [bridge.number, ahead.number, covering.number]
    #expect(table.keys.map(\.number) == expected)
}

@Test func numberedTableReloadedFromSurvivorsPagesTheRecentRun() {
    // A snapshot's reservations in id order: a few old long holds, then the recent run.
    var table = Table()
    for old in [100, 50_000, 4_000_000, 300_000_000] { table[ReservationID(UInt64(old))] = old }
    for recent in 900_000_000..<900_100_000 { table[ReservationID(UInt64(recent))] = recent }
    #expect(table.storage.spilled == 4)
    #expect(table.storage.paged == 100_000)
    table[ReservationID(900_100_000)] = 1  // the next id handed out
    #expect(table.storage.spilled == 4)
    #expect(table.count == 100_005)
    let oldest: [UInt64] = [100, 50_000, 4_000_000, 300_000_000, 900_000_000]
    #expect(Array(table.keys.prefix(5).map(\.number)) == oldest)
}

@Test func numberedTableFreesPagesThatOnlyLongHoldsKeep() {
    var table = Table()
    let total = 4_096 * 40
    for number in 1...total { table[ReservationID(UInt64(number))] = number }
    // Everything ends, in id order as carts do, but one long hold per page.
    for number in 1...total where number % 4_096 != 17 { table[ReservationID(UInt64(number))] = nil }
    #expect(table.count == 40)
    #expect(table.storage.pages <= 1, "only the last page may stay")
    let held: [Int] = (0..<40).map { $0 * 4_096 + 17 }
    #expect(table.keys.map { Int($0.number) } == held)
    #expect(table.values == held)
}

@Test func aShardsShareOfIdsStaysPaged() {
    // A shard of 16 gets about one id in 16 (ids are global): once its first page
    // shows it, its pages are compact and stay, however many ids it takes and ends.
    var table = Table()
    let total = 4_096 * 64
    for number in stride(from: 5, through: total, by: 16) { table[ReservationID(UInt64(number))] = number }
    #expect(table.storage.spilled == 256 && table.storage.pages == 63, "only the first page, direct and 1/16 full, spilled")
    for number in stride(from: 5, through: total / 2, by: 16) where number % 64 != 5 { table[ReservationID(UInt64(number))] = nil }
    #expect(table.storage.spilled == 64 && table.storage.pages == 63, "a quarter of each page left: kept")
    for number in stride(from: 5, through: total / 2, by: 64) { table[ReservationID(UInt64(number))] = nil }
    #expect(table.storage.pages == 32 && table.storage.spilled == 0, "emptied pages freed")
    #expect(table.isConsistent)
    #expect(table.keys.map { Int($0.number) } == Array(stride(from: total / 2 + 5, through: total, by: 16)))
}

@Test func aCopyOfANumberedTableIsIndependent() {
    var original = Table()
    for number in 1...10_000 { original[ReservationID(UInt64(number))] = number }
    var copy = original
    for number in 1...9_000 { copy[ReservationID(UInt64(number))] = nil }
    copy[ReservationID(20_000)] = 0
    _ = copy.modify(ReservationID(9_500)) { $0 = -1 }
    #expect(original.count == 10_000)
    #expect(original.values == Array(1...10_000))
    #expect(copy.count == 1_001)
    #expect(copy[ReservationID(9_500)] == -1 && original[ReservationID(9_500)] == 9_500)
}

@Test func numberedTableKeepsIdsAroundTwoToTheSixtySecond() {
    let top = UInt64(1) << 62
    var table = Table()
    for number in 1...513 { table[ReservationID(UInt64(number))] = number }
    table[ReservationID(top)] = -1  // far ahead of pages holding many values: waits
    table[ReservationID(top + 1)] = -2  // past 2^62: never paged
    table[ReservationID(1)] = nil
    table[ReservationID(top - 4_096)] = -3  // pages now hold few: they restart there
    table[ReservationID(top)] = -4  // on the next page: taken in, past 2^62 stays out
    #expect(table.isConsistent)
    #expect(table[ReservationID(top + 1)] == -2)
    #expect(table.modify(ReservationID(top + 1)) { $0 } == -2)
    #expect(table[ReservationID(top)] == -4 && table[ReservationID(top - 4_096)] == -3)
    #expect(table.count == 515)
    #expect(table.removeValue(forKey: ReservationID(top + 1)) == -2)
    #expect(table.count == 514 && table.isConsistent)
    table[ReservationID(UInt64.max)] = 9
    table[ReservationID(0)] = 8
    let keys = table.keys.map(\.number)
    #expect(keys.first == 0 && keys.last == UInt64.max && keys == keys.sorted() && keys.count == 516)
}

@Test func emptyingANumberedTableAndFillingItAgainKeepsItsPage() {
    var table = Table()
    for number in 1...10_000 {
        table[ReservationID(UInt64(number))] = number
        table[ReservationID(UInt64(number))] = nil
    }
    #expect(table.isEmpty && table.isConsistent)
    #expect(table.storage.pages <= 1, "one page at a time, reused")
    table[ReservationID(3)] = 3  // below the pages now: kept all the same
    #expect(table[ReservationID(3)] == 3 && table.count == 1 && table.isConsistent)
}

/// The table against a dictionary, over random sets, removals and in-place changes,
/// with the internal rules checked as it goes. With pages of 8 slots and gaps of 4
/// pages every path is reached (pages restarting, ids waiting ahead and taken in,
/// sparse pages freed); the real geometry runs the same mix, scaled.
@Test(arguments: 1...40)
func numberedTableWithSmallPagesAgreesWithADictionary(seed: UInt64) {
    checkAgainstADictionary(Table(pageBits: 3, pageGapMax: 4), pageSize: 8, steps: 4_000, seed: seed)
}

@Test(arguments: 1...8)
func numberedTableAgreesWithADictionary(seed: UInt64) {
    checkAgainstADictionary(Table(), pageSize: 4_096, steps: 30_000, seed: seed)
}

private func checkAgainstADictionary(_ empty: Table, pageSize: UInt64, steps: Int, seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    var table = empty
    var model: [UInt64: Int] = [:]
    var next: UInt64 = 1
    for step in 0..<steps {
        let id: UInt64
        switch Int.random(in: 0..<100, using: &generator) {
        case 0..<45:
            id = next
            next += 1
        case 45..<80: id = UInt64.random(in: 0...next + 4, using: &generator)
        case 80..<95: id = next + UInt64.random(in: 0...pageSize * 50, using: &generator)
        case 95..<98: id = (UInt64(1) << 62) - pageSize * 5 + UInt64.random(in: 0...pageSize * 10, using: &generator)
        default: id = UInt64.random(in: 0...UInt64.max, using: &generator)
        }
        let key = ReservationID(id)
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<5:
            table[key] = step
            model[id] = step
        case 5..<9:
            #expect(table.removeValue(forKey: key) == model.removeValue(forKey: id))
        default:
            #expect(table.modify(key) { value -> Int in value += 1; return value } == model[id].map { $0 + 1 })
            if model[id] != nil { model[id]! += 1 }
        }
        if step % (steps / 40) == 0 { #expect(table.isConsistent, "seed \(seed) step \(step)") }
    }
    #expect(table.isConsistent, "seed \(seed)")
    #expect(table.count == model.count)
    #expect(table.keys.map(\.number) == model.keys.sorted())
    #expect(table.values == model.keys.sorted().map { model[$0]! })
    for (id, value) in model { #expect(table[ReservationID(id)] == value) }
    let copy = table
    table[ReservationID(next + 1_000)] = 1
    #expect(copy.count == model.count, "a copy is not changed by the original")
}
