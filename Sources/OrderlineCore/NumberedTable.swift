import DequeModule

/// Values by a `NumberedID`, kept by number in pages of 4,096 slots.
///
/// The state hands ids out one after another (R1, R2, …), so pages fill in turn: a
/// lookup is three indexings with no hashing, and growing never moves what is stored.
/// A `Dictionary` grows by rehashing every entry into a table twice the size; for
/// reservations that was 6.5 % of the flash-sale path's CPU, plus a stall at each
/// doubling.
///
/// A shard of N shards holds about one id in N (ids are global). Once a page ends up
/// that sparse, the next ones keep their values dense, in the order their slots were
/// first set, with a 2-byte position per slot: as cheap to read as a whole state's
/// pages, at 2·N bytes of positions per value instead of N empty slots.
///
/// Values without a live page wait in one of two small dictionaries:
/// - `spilled`, for ids before the last page whose page is gone: a page that is not
///   the last and holds at most 1/8 of the values it was given, or at most 1/128 of
///   its slots, moves them there and is freed (so a few long holds cannot keep whole
///   pages alive); ids below the first page and ids past 2^62 go there too;
/// - `ahead`, for ids far past the last page (more than `pageGapMax` pages) while the
///   pages hold many values; the pages take them in when they reach them.
/// The pages start where the first id lands, and start again far ahead when an id
/// comes far past pages that hold few values, so a table reloaded from a snapshot (a
/// few old survivors, then a dense run of recent ids) is paged like a live one.
public struct NumberedTable<Kind: NumberedIDKind, Value: Sendable>: Sendable {
    public typealias ID = NumberedID<Kind>

    /// A page is direct (`values` indexed by slot, what a whole state's ids fill) or
    /// compact (`values` dense in the order their slots were first set, found through
    /// `positions`: what a shard's share of the ids leaves).
    private struct Page: Sendable {
        /// Compact pages: where each slot's value is in `values`, plus one; 0: never
        /// set. Empty for a direct page.
        private var positions: [UInt16]
        private var values: [Value?]
        private(set) var live = 0
        /// Values the page was given (a slot emptied and set again counts twice): how
        /// full the next page will be.
        private(set) var filled = 0

        init(size: Int, direct: Bool) {
            positions = direct ? [] : Array(repeating: 0, count: size)
            values = direct ? Array(repeating: nil, count: size) : []
        }

        var isDirect: Bool { positions.isEmpty }

        /// Slots a compact page was given values for; all slots for a direct page.
        var given: Int { values.count }

        subscript(slot: Int) -> Value? {
            get {
                if isDirect { return values[slot] }
                let position = Int(positions[slot])
                return position == 0 ? nil : values[position - 1]
            }
            set {
                var index = slot
                if !isDirect {
                    if positions[slot] == 0 {
                        guard newValue != nil else { return }
                        values.append(nil)
                        positions[slot] = UInt16(values.count)
                    }
                    index = Int(positions[slot]) - 1
                }
                let change = (newValue == nil ? 0 : 1) - (values[index] == nil ? 0 : 1)
                live += change
                if change > 0 { filled += 1 }
                values[index] = newValue
            }
        }

        /// What `body` reads of the value in `slot`, read in place; nil if there is none.
        func read<Result>(_ slot: Int, _ body: (Value) -> Result) -> Result? {
            let index = isDirect ? slot : Int(positions[slot]) - 1
            guard index >= 0 else { return nil }
            return values[index].map(body)
        }

        /// Changes the value in `slot` in place; nil if there is none.
        mutating func modify<Result>(_ slot: Int, _ body: (inout Value) -> Result) -> Result? {
            let index = isDirect ? slot : Int(positions[slot]) - 1
            guard index >= 0, values[index] != nil else { return nil }
            return body(&values[index]!)
        }

        /// Each slot holding a value and its value, in slot order.
        func forEach(_ body: (Int, Value) -> Void) {
            if isDirect {
                for (slot, value) in values.enumerated() { if let value { body(slot, value) } }
                return
            }
            for (slot, position) in positions.enumerated() where position != 0 {
                if let value = values[Int(position) - 1] { body(slot, value) }
            }
        }
    }

    private let pageBits: Int
    /// Empty page entries allowed between the last page and a new one (16 bytes each).
    private let pageGapMax: Int
    private var pageSize: Int { 1 << pageBits }
    private var sparseLiveMax: Int { pageSize / 8 }
    /// A page left with at most this many values (or 1/8 of what it was given) is freed.
    private func isSparse(_ page: Page) -> Bool { page.live <= page.given / 8 || page.live <= pageSize / 128 }
    /// Whether the next page is direct: the last one held more than a third of its slots.
    private var nextPageIsDirect = true
    private static var numberMax: UInt64 { 1 << 62 }

    /// Pages `firstPage ..< firstPage + pages.count`; nil: freed (its values spilled).
    /// The last one is never nil.
    private var pages: Deque<Page?> = []
    private var firstPage = 0
    private var spilled: [UInt64: Value] = [:]
    private var ahead: [UInt64: Value] = [:]
    /// No id in `ahead` has a page below this.
    private var aheadLowestPage = Int.max
    public private(set) var count = 0

    public init() { self.init(pageBits: 12, pageGapMax: 1 << 16) }

    /// Small pages and gaps, for tests that need to reach every path.
    init(pageBits: Int, pageGapMax: Int) {
        precondition((1...15).contains(pageBits), "a page's positions are 16 bits")
        self.pageBits = pageBits
        self.pageGapMax = pageGapMax
    }

    /// Where `id` would be paged; nil for ids past 2^62, which are always spilled.
    @inline(__always)
    private func place(of number: UInt64) -> (page: Int, slot: Int)? {
        guard number <= Self.numberMax else { return nil }
        return (Int(number) >> pageBits, Int(number) & (pageSize - 1))
    }

    private var endPage: Int { firstPage + pages.count }

    /// The index in `pages` of `page` if it is live.
    @inline(__always)
    private func liveIndex(_ page: Int) -> Int? {
        let index = page &- firstPage
        guard index >= 0, index < pages.count, pages[index] != nil else { return nil }
        return index
    }

    public subscript(id: ID) -> Value? {
        get {
            if let (page, slot) = place(of: id.number), let index = liveIndex(page) { return pages[index]![slot] }
            if !spilled.isEmpty, let value = spilled[id.number] { return value }
            return ahead.isEmpty ? nil : ahead[id.number]
        }
        set {
            guard let (page, slot) = place(of: id.number) else { return setUnpaged(id.number, newValue) }
            if liveIndex(page) == nil {
                guard newValue != nil, makeLive(page) else { return setUnpaged(id.number, newValue) }
            }
            let index = page - firstPage
            let live = pages[index]!.live
            pages[index]![slot] = newValue
            let change = pages[index]!.live - live
            count += change
            if change < 0, index < pages.count - 1 { freeIfSparse(index) }
        }
    }

    /// What `body` reads of the value for `id`, read in place (no copy of the value,
    /// whose strings a copy would retain and release); nil if there is none.
    public func read<Result>(_ id: ID, _ body: (Value) -> Result) -> Result? {
        if let (page, slot) = place(of: id.number), let index = liveIndex(page) { return pages[index]!.read(slot, body) }
        if !spilled.isEmpty, let value = spilled[id.number] { return body(value) }
        return ahead.isEmpty ? nil : ahead[id.number].map(body)
    }

    /// Changes the value for `id` in place, if there is one; returns what `body` returned.
    public mutating func modify<Result>(_ id: ID, _ body: (inout Value) -> Result) -> Result? {
        if let (page, slot) = place(of: id.number), let index = liveIndex(page) { return pages[index]!.modify(slot, body) }
        if spilled[id.number] != nil { return body(&spilled[id.number]!) }
        if ahead[id.number] != nil { return body(&ahead[id.number]!) }
        return nil
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
        forEachInOrder { id, _ in keys.append(id) }
        return keys
    }

    /// The values, in increasing order of their ids.
    public var values: [Value] {
        var values: [Value] = []
        values.reserveCapacity(count)
        forEachInOrder { _, value in values.append(value) }
        return values
    }

    /// Each id and value, in increasing order of ids, read in place (no array of them).
    public func forEach(_ body: (ID, Value) -> Void) { forEachInOrder(body) }

    /// Paged values come in order; the few waiting unpaged are sorted and merged in.
    private func forEachInOrder(_ body: (ID, Value) -> Void) {
        let waiting = (Array(spilled) + Array(ahead)).sorted { $0.key < $1.key }
        var next = 0
        for (offset, page) in pages.enumerated() {
            guard let page else { continue }
            let base = (firstPage + offset) << pageBits
            page.forEach { slot, value in
                let number = UInt64(base | slot)
                while next < waiting.count, waiting[next].key < number {
                    body(ID(waiting[next].key), waiting[next].value)
                    next += 1
                }
                body(ID(number), value)
            }
        }
        for (number, value) in waiting[next...] { body(ID(number), value) }
    }

    // MARK: Pages

    /// Makes `page` live for a new value if it may be: the first page, a page not far
    /// past the last, or any page past the last while the pages hold few values (they
    /// are spilled and the pages start again). False: the value waits unpaged.
    private mutating func makeLive(_ page: Int) -> Bool {
        if pages.isEmpty {
            restartPages(at: page)
        } else if page < endPage {
            return false
        } else if page - endPage < pageGapMax {
            addPage(page)
        } else if count - spilled.count - ahead.count <= sparseLiveMax {
            restartPages(at: page)
        } else {
            return false
        }
        return true
    }

    /// Adds `page` after the last one and frees the page that was last if it is
    /// sparse. Ids waiting ahead that the pages now reach move in, or to `spilled`
    /// if they fall on the gap.
    private mutating func addPage(_ page: Int) {
        let end = endPage
        nextPageIsDirect = pages.last!!.filled > pageSize / 3
        freeIfSparse(pages.count - 1)
        pages.append(contentsOf: repeatElement(nil, count: page - firstPage - pages.count))
        pages.append(Page(size: pageSize, direct: nextPageIsDirect))
        dropFreedPagesInFront()
        if page >= aheadLowestPage { takeInAhead(reached: end...page) }
    }

    /// Spills every paged value and starts the pages at `page`.
    private mutating func restartPages(at page: Int) {
        for (offset, live) in pages.enumerated() {
            guard let live else { continue }
            let base = (firstPage + offset) << pageBits
            live.forEach { slot, value in spilled[UInt64(base | slot)] = value }
        }
        pages = [Page(size: pageSize, direct: nextPageIsDirect)]
        firstPage = page
        if !ahead.isEmpty { takeInAhead(reached: Int.min...page) }
    }

    /// Moves the ids waiting ahead whose page is in `reached`: into the last page if
    /// they are on it, to `spilled` if not.
    private mutating func takeInAhead(reached: ClosedRange<Int>) {
        let last = endPage - 1
        var lowest = Int.max
        for (number, value) in ahead {
            let (page, slot) = place(of: number)!
            guard reached.contains(page) else {
                lowest = min(lowest, page)
                continue
            }
            ahead.removeValue(forKey: number)
            if page == last {
                pages[pages.count - 1]![slot] = value
            } else {
                spilled[number] = value
            }
        }
        aheadLowestPage = lowest
    }

    /// Frees a sparse page (`isSparse`), moving its values to `spilled`. Called on the
    /// last page only as it stops being last (`addPage`).
    private mutating func freeIfSparse(_ index: Int) {
        guard let page = pages[index], isSparse(page) else { return }
        let base = (firstPage + index) << pageBits
        page.forEach { slot, value in spilled[UInt64(base | slot)] = value }
        pages[index] = nil
        dropFreedPagesInFront()
    }

    private mutating func dropFreedPagesInFront() {
        while let first = pages.first, first == nil {
            pages.removeFirst()
            firstPage += 1
        }
    }

    /// Sets or removes a value that has no live page: past the last page (and within
    /// 2^62) it waits `ahead`, anywhere else in `spilled`.
    private mutating func setUnpaged(_ number: UInt64, _ value: Value?) {
        let isAhead = !pages.isEmpty && (place(of: number).map { $0.page >= endPage } ?? false)
        let old: Value?
        if isAhead {
            old = if let value { ahead.updateValue(value, forKey: number) } else { ahead.removeValue(forKey: number) }
            if value != nil { aheadLowestPage = min(aheadLowestPage, place(of: number)!.page) }
        } else {
            old = if let value { spilled.updateValue(value, forKey: number) } else { spilled.removeValue(forKey: number) }
        }
        count += (value == nil ? 0 : 1) - (old == nil ? 0 : 1)
    }
}

extension NumberedTable {
    /// Live pages, the values they hold, and the values waiting unpaged.
    public var storage: (pages: Int, paged: Int, spilled: Int) {
        let live = pages.compactMap { $0 }
        return (live.count, live.reduce(0) { $0 + $1.live }, spilled.count + ahead.count)
    }

    /// Every internal rule holds (for tests): each value in exactly one place, the
    /// counts right, the last page live, no sparse page but the last, `ahead` only
    /// past the last page.
    var isConsistent: Bool {
        if let last = pages.last, last == nil { return false }
        var paged = 0
        for (index, page) in pages.enumerated() {
            guard let page else { continue }
            var live = 0
            page.forEach { _, _ in live += 1 }
            guard live == page.live, index == pages.count - 1 || !isSparse(page) else { return false }
            paged += live
        }
        guard count == paged + spilled.count + ahead.count else { return false }
        for number in spilled.keys {
            if let (page, _) = place(of: number), liveIndex(page) != nil || page >= endPage { return false }
        }
        for number in ahead.keys {
            guard let (page, _) = place(of: number), page >= endPage, page >= aheadLowestPage else { return false }
        }
        return true
    }
}
