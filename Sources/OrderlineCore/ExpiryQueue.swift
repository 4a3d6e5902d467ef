import DequeModule
import HeapModule

/// Held reservations by expiry, earliest first and, within a second, by id: the order
/// `expireDue` fires them in. Derived state (rebuilt when a snapshot loads).
///
/// Most reservations arrive in expiry order: one TTL (a flash sale's carts), and ids
/// handed out in time order. Those go into a deque of per-second buckets, appended at
/// the back and taken from the front in O(1), where a heap sifted down through every
/// held reservation (~9 % of a flash-sale replay). A reservation that expires before
/// the latest second already queued (a shorter TTL than the ones before it) goes into
/// a heap beside it, so mixing TTLs costs what it always did and nothing is ever
/// inserted in the middle.
struct ExpiryQueue: Sendable {
    private struct Entry: Comparable, Sendable {
        var expiresAt: Timestamp
        var id: ReservationID
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.expiresAt, lhs.id) < (rhs.expiresAt, rhs.id) }
    }

    private struct Bucket: Sendable {
        var second: Timestamp
        var ids: Deque<ReservationID>
    }

    /// Non-empty buckets, seconds increasing; within a bucket ids increasing.
    private var inOrder = Deque<Bucket>()
    private var outOfOrder = Heap<Entry>()
    private(set) var count = 0

    init() {}

    /// The earliest entry.
    var min: (id: ReservationID, expiresAt: Timestamp)? {
        guard let entry = earliest else { return nil }
        return (entry.id, entry.expiresAt)
    }

    private var earliest: Entry? {
        guard let other = outOfOrder.min else { return nearest }
        guard let nearest else { return other }
        return Swift.min(nearest, other)
    }

    private var nearest: Entry? {
        inOrder.isEmpty ? nil : Entry(expiresAt: inOrder[0].second, id: inOrder[0].ids.first!)
    }

    mutating func insert(_ id: ReservationID, expiresAt: Timestamp) {
        count += 1
        // Read through the index, not a copy of the last bucket: a copy alive during
        // the append would make the append copy the whole bucket.
        let last = inOrder.count - 1
        guard last >= 0, expiresAt <= inOrder[last].second else {
            inOrder.append(Bucket(second: expiresAt, ids: [id]))
            return
        }
        if expiresAt == inOrder[last].second, id > inOrder[last].ids.last! {
            inOrder[last].ids.append(id)
        } else {
            outOfOrder.insert(Entry(expiresAt: expiresAt, id: id))
        }
    }

    mutating func removeMin() {
        if let other = outOfOrder.min, nearest.map({ other < $0 }) ?? true {
            outOfOrder.removeMin()
            count -= 1
            return
        }
        guard !inOrder.isEmpty else { return }
        count -= 1
        inOrder[0].ids.removeFirst()
        if inOrder[0].ids.isEmpty { inOrder.removeFirst() }
    }
}
