import DequeModule

/// Values by a `NumberedID`, kept by number in pages of 4,096 slots.
///
/// The state hands ids out one after another (R1, R2, …), so pages fill in turn: a
/// lookup is two indexings with no hashing, and growing never moves what is stored.
/// A `Dictionary` grows by rehashing every entry into a table twice the size; for
/// reservations that was 6.5 % of the flash-sale path's CPU, plus a stall at each
/// doubling.
///
/// Values whose page is gone live in a small dictionary, `spilled`:
/// - a page left with at most 1/8 of its slots (once it is not the newest) moves them
///   there and is freed, so a few long holds cannot keep whole pages alive: a page
///   never takes more than 8 slots per value it holds, but the newest;
/// - an id below the first page, or far past the last one while the pages hold many
///   values, goes there directly.
/// The pages start wherever the first id lands, and start again far ahead when an id
/// comes far past pages that hold few values: so a table reloaded from a snapshot (a
/// few old survivors, then a dense run of recent ids) is paged like a live one. The
/// last page is never freed while it is last, so pages only grow at the end.
public struct NumberedTable<Kind: NumberedIDKind, Value: Sendable>: Sendable {
    public typealias ID = NumberedID<Kind>

    private struct Page: Sendable {
        var slots: [Value?] = Array(repeating: nil, count: NumberedTable.pageSize)
        var live = 0
    }

    private static var pageBits: Int { 12 }
    private static var pageSize: Int { 1 << pageBits }
    private static var sparseLiveMax: Int { pageSize / 8 }
    /// Freed pages between the last one and a new one, at most (8 bytes each).
    private static var pageGapMax: Int { 1 << 16 }

    /// Pages `firstPage ..< firstPage + pages.count`; nil: freed (its values spilled).
    private var pages: Deque<Page?> = []
    private var firstPage = 0
    private var spilled: [UInt64: Value] = [:]
    /// How many spilled ids lie past the last page (taken in when pages reach them;
    /// ids past 2^62 are never counted: they never get a page).
    private var spilledAhead = 0
    public private(set) var count = 0

    public init() {}

    /// Where `id` would be paged; nil for ids past 2^62, which always spill.
    @inline(__always)
    private static func place(of id: ID) -> (page: Int, slot: Int)? {
        guard id.number <= UInt64(1) << 62 else { return nil }
        let number = Int(id.number)
        return (number >> pageBits, number & (pageSize - 1))
    }

    /// The index in `pages` of a live page holding `id`.
    @inline(__always)
    private func livePage(_ page: Int) -> Int? {
        let index = page &- firstPage
        guard index >= 0, index < pages.count, pages[index] != nil else { return nil }
        return index
    }

    public subscript(id: ID) -> Value? {
        get {
            if let (page, slot) = Self.place(of: id), let index = livePage(page) { return pages[index]!.slots[slot] }
            return spilled.isEmpty ? nil : spilled[id.number]
        }
        set {
            guard let (page, slot) = Self.place(of: id) else { return spill(id.number, newValue) }
            if livePage(page) == nil {
                guard newValue != nil, makeLive(page) else { return spill(id.number, newValue) }
            }
            let index = page - firstPage
            let change = (newValue == nil ? 0 : 1) - (pages[index]!.slots[slot] == nil ? 0 : 1)
            pages[index]!.slots[slot] = newValue
            pages[index]!.live += change
            count += change
            if change < 0 { removed(fromPage: index) }
        }
    }

    /// Changes the value for `id` in place, if there is one; returns what `body` returned.
    public mutating func modify<Result>(_ id: ID, _ body: (inout Value) -> Result) -> Result? {
        if let (page, slot) = Self.place(of: id), let index = livePage(page) {
            guard pages[index]!.slots[slot] != nil else { return nil }
            return body(&pages[index]!.slots[slot]!)
        }
        guard spilled[id.number] != nil else { return nil }
        return body(&spilled[id.number]!)
    }

    @discardableResult
    public mutating func removeValue(forKey id: ID) -> Value? {
        let old = self[id]
        if old != nil { self[id] = nil }
        return old
    }

    public var isEmpty: Bool { count == 0 }

    /// The ids, in increasing order.
    public var keys: [ID] { entries.map(\.id) }

    /// The values, in increasing order of their ids.
    public var values: [Value] { entries.map(\.value) }

    /// Paged values come out in order; spilled ones are sorted and merged in.
    private var entries: [(id: ID, value: Value)] {
        var paged: [(id: ID, value: Value)] = []
        paged.reserveCapacity(count - spilled.count)
        for (offset, page) in pages.enumerated() {
            guard let page else { continue }
            let base = (firstPage + offset) << Self.pageBits
            for (slot, value) in page.slots.enumerated() {
                if let value { paged.append((ID(UInt64(base | slot)), value)) }
            }
        }
        guard !spilled.isEmpty else { return paged }
        let others = spilled.sorted { $0.key < $1.key }
        var merged: [(id: ID, value: Value)] = []
        merged.reserveCapacity(count)
        var next = 0
        for (number, value) in others {
            while next < paged.count, paged[next].id.number < number {
                merged.append(paged[next])
                next += 1
            }
            merged.append((ID(number), value))
        }
        merged += paged[next...]
        return merged
    }

    // MARK: Pages

    /// Makes `page` live if a new value may go there: the first page, a page not far
    /// past the last, or any page past the last while the pages hold few values (they
    /// are spilled and the pages start again). False: the value spills.
    private mutating func makeLive(_ page: Int) -> Bool {
        let end = firstPage + pages.count
        if !pages.isEmpty, page < end { return false }
        if !pages.isEmpty, page - end < Self.pageGapMax {
            addPage(page)
        } else if pages.isEmpty || count - spilled.count <= Self.sparseLiveMax {
            restartPages(at: page)
        } else {
            return false
        }
        return true
    }

    /// Spills every paged value and starts the pages at `page`, taking in the spilled
    /// values it covers and counting those past it.
    private mutating func restartPages(at page: Int) {
        for (offset, live) in pages.enumerated() {
            guard let live else { continue }
            let base = (firstPage + offset) << Self.pageBits
            for (slot, value) in live.slots.enumerated() {
                if let value { spilled[UInt64(base | slot)] = value }
            }
        }
        pages = [Page()]
        firstPage = page
        spilledAhead = 0
        for (number, value) in spilled {
            guard let (valuePage, slot) = Self.place(of: ID(number)) else { continue }
            if valuePage == page {
                spilled.removeValue(forKey: number)
                pages[0]!.slots[slot] = value
                pages[0]!.live += 1
            } else if valuePage > page {
                spilledAhead += 1
            }
        }
    }

    /// Adds `page` after the last one, frees the page that was last if it is sparse,
    /// and takes in the spilled ids that were ahead of the pages.
    private mutating func addPage(_ page: Int) {
        let end = firstPage + pages.count
        freeIfSparse(pages.count - 1)
        pages.append(contentsOf: repeatElement(nil, count: page - firstPage - pages.count))
        pages.append(Page())
        dropFreedPagesInFront()
        guard spilledAhead > 0 else { return }
        let covered = UInt64(end << Self.pageBits)..<UInt64((page + 1) << Self.pageBits)
        for (number, value) in spilled where covered.contains(number) {
            spilledAhead -= 1
            guard Int(number) >> Self.pageBits == page else { continue }  // a gap page: stays spilled
            spilled.removeValue(forKey: number)
            pages[pages.count - 1]!.slots[Int(number) & (Self.pageSize - 1)] = value
            pages[pages.count - 1]!.live += 1
        }
    }

    private mutating func removed(fromPage index: Int) {
        guard count > 0 else {
            self = NumberedTable()
            return
        }
        if index < pages.count - 1 { freeIfSparse(index) }
    }

    /// Frees a page holding at most 1/8 of its slots, moving them to `spilled`.
    /// Never called on the last page while it is last.
    private mutating func freeIfSparse(_ index: Int) {
        guard let page = pages[index], page.live <= Self.sparseLiveMax else { return }
        let base = (firstPage + index) << Self.pageBits
        for (slot, value) in page.slots.enumerated() {
            if let value { spilled[UInt64(base | slot)] = value }
        }
        pages[index] = nil
        dropFreedPagesInFront()
    }

    private mutating func dropFreedPagesInFront() {
        while let first = pages.first, first == nil {
            pages.removeFirst()
            firstPage += 1
        }
    }

    private mutating func spill(_ number: UInt64, _ value: Value?) {
        let old = if let value { spilled.updateValue(value, forKey: number) } else { spilled.removeValue(forKey: number) }
        let change = (value == nil ? 0 : 1) - (old == nil ? 0 : 1)
        count += change
        if !pages.isEmpty, let place = Self.place(of: ID(number)), place.page >= firstPage + pages.count { spilledAhead += change }
        if count == 0 { self = NumberedTable() }
    }
}

extension NumberedTable {
    /// Values held in pages and in the spill dictionary (for tests and `INFO`).
    public var storage: (pages: Int, paged: Int, spilled: Int) {
        let live = pages.compactMap { $0 }
        return (live.count, live.reduce(0) { $0 + $1.live }, spilled.count)
    }
}
