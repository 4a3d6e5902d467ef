/// Values by a `NumberedID`, kept by number in pages of 4,096 slots.
///
/// The state hands ids out one after another (R1, R2, …), so pages fill in turn: a
/// lookup is two array indexings with no hashing, and growing never moves what is
/// stored. A `Dictionary` grows by rehashing every entry into a table twice the size;
/// for reservations that was 6.5 % of the flash-sale path's CPU, plus a stall at each
/// doubling. A page whose values were all removed is freed.
///
/// Any id works: one far past the pages (more than `pageGapMax` pages ahead) waits in
/// a small dictionary until the pages reach it.
public struct NumberedTable<Kind: NumberedIDKind, Value: Sendable>: Sendable {
    public typealias ID = NumberedID<Kind>

    private struct Page: Sendable {
        var slots: [Value?] = Array(repeating: nil, count: NumberedTable.pageSize)
        var live = 0
    }

    private static var pageBits: Int { 12 }
    private static var pageSize: Int { 1 << pageBits }
    private static var pageGapMax: Int { 1_024 }

    private var pages: [Page?] = []
    /// Ids at or past `pages.count * pageSize`, when they came too far ahead.
    private var outliers: [UInt64: Value] = [:]
    public private(set) var count = 0

    public init() {}

    @inline(__always)
    private static func place(of id: ID) -> (page: Int, slot: Int)? {
        guard id.number < UInt64(Int.max) else { return nil }
        let number = Int(id.number)
        return (number >> pageBits, number & (pageSize - 1))
    }

    public subscript(id: ID) -> Value? {
        get {
            if let (page, slot) = Self.place(of: id), page < pages.count { return pages[page]?.slots[slot] }
            return outliers[id.number]
        }
        set {
            guard let (page, slot) = Self.place(of: id) else { return setOutlier(id.number, newValue) }
            if page >= pages.count {
                guard newValue != nil, page < pages.count + Self.pageGapMax else { return setOutlier(id.number, newValue) }
                addPages(through: page)
            }
            if pages[page] == nil {
                guard newValue != nil else { return }
                pages[page] = Page()
            }
            let change = (newValue == nil ? 0 : 1) - (pages[page]!.slots[slot] == nil ? 0 : 1)
            pages[page]!.slots[slot] = newValue
            pages[page]!.live += change
            count += change
            if pages[page]!.live == 0 { pages[page] = nil }
        }
    }

    private mutating func setOutlier(_ number: UInt64, _ value: Value?) {
        let old = if let value { outliers.updateValue(value, forKey: number) } else { outliers.removeValue(forKey: number) }
        count += (value == nil ? 0 : 1) - (old == nil ? 0 : 1)
    }

    /// Changes the value for `id` in place, if there is one; returns what `body` returned.
    public mutating func modify<Result>(_ id: ID, _ body: (inout Value) -> Result) -> Result? {
        if let (page, slot) = Self.place(of: id), page < pages.count {
            guard pages[page]?.slots[slot] != nil else { return nil }
            return body(&pages[page]!.slots[slot]!)
        }
        guard outliers[id.number] != nil else { return nil }
        return body(&outliers[id.number]!)
    }

    @discardableResult
    public mutating func removeValue(forKey id: ID) -> Value? {
        let old = self[id]
        if old != nil { self[id] = nil }
        return old
    }

    public var isEmpty: Bool { count == 0 }

    /// The ids, in increasing order.
    public var keys: [ID] {
        var keys: [ID] = []
        keys.reserveCapacity(count)
        for (index, page) in pages.enumerated() {
            guard let page else { continue }
            for (slot, value) in page.slots.enumerated() where value != nil {
                keys.append(ID(UInt64(index << Self.pageBits | slot)))
            }
        }
        keys += outliers.keys.sorted().map { ID($0) }
        return keys
    }

    /// The values, in increasing order of their ids.
    public var values: [Value] {
        var values: [Value] = []
        values.reserveCapacity(count)
        for page in pages { if let page { values += page.slots.lazy.compactMap { $0 } } }
        values += outliers.sorted { $0.key < $1.key }.map(\.value)
        return values
    }

    /// Extends the pages through `last`, taking in the outliers they now cover.
    private mutating func addPages(through last: Int) {
        let firstNew = pages.count
        pages += Array(repeating: nil, count: last + 1 - firstNew)
        guard !outliers.isEmpty else { return }
        let covered = UInt64(firstNew << Self.pageBits)..<UInt64((last + 1) << Self.pageBits)
        for (number, value) in outliers where covered.contains(number) {
            outliers.removeValue(forKey: number)
            count -= 1
            self[ID(number)] = value
        }
    }
}
