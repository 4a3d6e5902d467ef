@testable import OrderlineCore
import OrderlineTestSupport
import Testing

/// The queue against the obvious model, a list sorted by (expiry, id): reservations
/// made in id order with a few TTLs and some odd ones, taken from the front, plus
/// the odd id lower than the last of its second and the odd expiry far away or at
/// the ends of Int64 (a log this server did not write, a clock jump).
@Test(arguments: 0..<20)
func expiryQueueGivesEarliestThenLowestID(seed: UInt64) {
    var random = SeededGenerator(seed: seed)
    var queue = ExpiryQueue()
    var model: [(expiresAt: Timestamp, id: UInt64)] = []
    var now: Timestamp = 1_000
    var nextID: UInt64 = 1
    for _ in 0..<3_000 {
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<6:
            let ttl: Timestamp = Bool.random(using: &random) ? [60, 900, 86_400][Int.random(in: 0...2, using: &random)] : .random(in: 1...120, using: &random)
            var id = nextID
            if Int.random(in: 0..<50, using: &random) == 0, nextID > 2 {
                id = UInt64.random(in: 1..<nextID, using: &random)  // out of order
            } else {
                nextID += 1
            }
            queue.insert(ReservationID(id), expiresAt: now + ttl)
            model.append((now + ttl, id))
            model.sort { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }
        case 9 where Int.random(in: 0..<20, using: &random) == 0:
            // A clock jump, or a log this server did not write: far from the others.
            let far: Timestamp = [.min, .max, .min + 1, .max - 1, now - 1_000_000, now + 1_000_000][Int.random(in: 0...5, using: &random)]
            queue.insert(ReservationID(nextID), expiresAt: far)
            model.append((far, nextID))
            nextID += 1
            model.sort { ($0.expiresAt, $0.id) < ($1.expiresAt, $1.id) }
        case 6..<9:
            queue.removeMin()
            if !model.isEmpty { model.removeFirst() }
        default:
            now += .random(in: 0...30, using: &random)
        }
        #expect(queue.min?.id.number == model.first?.id, "seed \(seed)")
        #expect(queue.min?.expiresAt == model.first?.expiresAt, "seed \(seed)")
        #expect(queue.count == model.count, "seed \(seed)")
    }
    while queue.min != nil {
        #expect(queue.min?.id.number == model.first?.id, "seed \(seed)")
        queue.removeMin()
        model.removeFirst()
    }
    #expect(model.isEmpty)
}
