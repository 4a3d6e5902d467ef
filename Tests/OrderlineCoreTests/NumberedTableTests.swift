import OrderlineCore
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
    // A freed page comes back when an id on it is set again.
    table[ReservationID(7)] = 70
    #expect(table[ReservationID(7)] == 70)
    #expect(table.keys.first == ReservationID(7))
    #expect(table.count == 801)
}

@Test func numberedTableTakesIdsFarAheadAndBringsThemIntoThePages() {
    var table = Table()
    let far = ReservationID(UInt64(1) << 40)
    let farther = ReservationID(UInt64.max)
    table[far] = 1
    table[farther] = 2
    table[ReservationID(5)] = 3
    #expect(table.count == 3)
    #expect(table[far] == 1 && table[farther] == 2 && table[ReservationID(5)] == 3)
    #expect(table.keys == [ReservationID(5), far, farther])
    // An id more than 1,024 pages ahead waits outside the pages, and moves in once
    // the pages reach it.
    let ahead = ReservationID(4_096 * 1_500 + 2)
    var later = Table()
    later[ahead] = 9
    // Pages reach 1,000 (within 1,024 of the last), then 1,600, past the outlier.
    for page in [0, 1_000, 1_600] { later[ReservationID(UInt64(4_096 * page + 1))] = page }
    #expect(later[ahead] == 9)
    #expect(later.count == 4)
    let expected: [UInt64] = [1, 4_096 * 1_000 + 1, ahead.number, 4_096 * 1_600 + 1]
    #expect(later.keys.map(\.number) == expected)
    #expect(later.removeValue(forKey: ahead) == 9)
    #expect(later[ahead] == nil && later.count == 3)
    table[far] = nil
    #expect(table[far] == nil && table.count == 2)
}

/// The table against a dictionary, over random sets and removals.
@Test(arguments: 1...8)
func numberedTableAgreesWithADictionary(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    var table = Table()
    var model: [UInt64: Int] = [:]
    var next: UInt64 = 1
    for step in 0..<30_000 {
        let id: UInt64
        switch Int.random(in: 0..<100, using: &generator) {
        case 0..<60:
            id = next
            next += UInt64.random(in: 1...3, using: &generator)
        case 60..<95: id = UInt64.random(in: 1...next + 10, using: &generator)
        default: id = UInt64.random(in: 1...UInt64(1) << 34, using: &generator)
        }
        let key = ReservationID(id)
        if Bool.random(using: &generator) || model[id] == nil {
            table[key] = step
            model[id] = step
        } else {
            #expect(table.removeValue(forKey: key) == model.removeValue(forKey: id))
        }
    }
    #expect(table.count == model.count)
    #expect(table.keys.map(\.number) == model.keys.sorted())
    #expect(table.values == model.keys.sorted().map { model[$0]! })
    for id in model.keys { #expect(table[ReservationID(id)] == model[id]) }
}
