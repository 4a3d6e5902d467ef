import DequeModule
import HeapModule

/// Held reservations by expiry, earliest first and, within a second, by id: the order
/// `expireDue` fires them in. Derived state (rebuilt when a snapshot loads).
///
/// A calendar of one bucket per second, not a heap entry per reservation: TTLs are at
/// most a day, so expiries fall within a day or so of the earliest one, and ids are
/// handed out in time order, so a second's bucket fills at its back in id order and
/// empties from its front. Taking the earliest is O(1), where the heap sifted down
/// through every held reservation (~9 % of a flash-sale log's replay). An expiry
/// further than `calendarSeconds` from the calendar's start (only a clock jump or a
/// log this server did not write) waits in a small heap beside it.
struct ExpiryQueue: Sendable {
    private struct Entry: Comparable, Sendable {
        var expiresAt: Timestamp
        var id: ReservationID
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.expiresAt, lhs.id) < (rhs.expiresAt, rhs.id) }
    }

    /// Buckets for consecutive seconds from `firstSecond`; the first is never empty.
    private var calendar = Deque<Deque<ReservationID>>()
    private var firstSecond: Timestamp = 0
    private var far = Heap<Entry>()
    private(set) var count = 0
    static let calendarSeconds: Timestamp = 1 << 18

    init() {}

    /// The earliest entry.
    var min: (id: ReservationID, expiresAt: Timestamp)? {
        guard let entry = earliest else { return nil }
        return (entry.id, entry.expiresAt)
    }

    private var earliest: Entry? {
        guard let farMin = far.min else { return nearest }
        guard let nearest else { return farMin }
        return Swift.min(nearest, farMin)
    }

    private var nearest: Entry? {
        calendar.first.map { Entry(expiresAt: firstSecond, id: $0.first!) }
    }

    mutating func insert(_ id: ReservationID, expiresAt: Timestamp) {
        count += 1
        guard !calendar.isEmpty else {
            firstSecond = expiresAt
            calendar.append([id])
            return
        }
        let (offset, overflow) = expiresAt.subtractingReportingOverflow(firstSecond)
        guard !overflow, offset < Self.calendarSeconds, offset > -Self.calendarSeconds else {
            far.insert(Entry(expiresAt: expiresAt, id: id))
            return
        }
        if offset < 0 {
            calendar.prepend(contentsOf: repeatElement([], count: Int(-offset)))
            firstSecond = expiresAt
        } else if offset >= calendar.count {
            calendar.append(contentsOf: repeatElement([], count: Int(offset) - calendar.count + 1))
        }
        let index = Int(expiresAt - firstSecond)
        // An id lower than the last of its second only comes from a log this server
        // did not write; it still goes where its id says.
        if let last = calendar[index].last, id < last {
            calendar[index].insert(id, at: calendar[index].firstIndex { $0 > id }!)
        } else {
            calendar[index].append(id)
        }
    }

    mutating func removeMin() {
        if let farMin = far.min, nearest.map({ farMin < $0 }) ?? true {
            far.removeMin()
            count -= 1
            return
        }
        guard !calendar.isEmpty else { return }
        count -= 1
        calendar[0].removeFirst()
        while calendar.first?.isEmpty == true {
            calendar.removeFirst()
            firstSecond &+= 1  // wraps only once the calendar is empty, where it is unused
        }
    }
}
