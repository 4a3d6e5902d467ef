/// A sorted set kept as a list of sorted chunks of at most `chunkCapacity` elements
/// (the layout of Python's `sortedcontainers`): inserting or removing moves at most one
/// chunk's elements, finding is two binary searches, and iterating from the smallest is
/// in order at once. For the indexes that lists answer from (`ORDER.LIST`, a node's
/// work queue): sorting a million entries per request stalled the loop for 80 ms.
///
/// A copy (a snapshot's) shares the chunks; a change after it copies only the list of
/// chunks and the one chunk it touches.
public struct SortedChunks<Element: Comparable & Sendable>: Sendable, Sequence {
    private var chunks: [[Element]] = []
    /// The largest element of each chunk, for the first binary search.
    private var maxima: [Element] = []
    public private(set) var count = 0

    public static var chunkCapacity: Int { 512 }

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Where `element` is or would go: its chunk (the last one if it is past every
    /// maximum) and its index in that chunk.
    private func position(of element: Element) -> (chunk: Int, index: Int)? {
        guard !chunks.isEmpty else { return nil }
        let chunk = Swift.min(Self.firstIndex(in: maxima) { $0 >= element }, chunks.count - 1)
        return (chunk, Self.firstIndex(in: chunks[chunk]) { $0 >= element })
    }

    /// The first index whose element satisfies `predicate` (false, then true, over the array).
    private static func firstIndex(in array: [Element], where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = array.count
        while low < high {
            let middle = (low + high) / 2
            if predicate(array[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    public func contains(_ element: Element) -> Bool {
        guard let (chunk, index) = position(of: element), index < chunks[chunk].count else { return false }
        return chunks[chunk][index] == element
    }

    /// Inserts `element`; false if it was there already.
    @discardableResult
    public mutating func insert(_ element: Element) -> Bool {
        guard let (chunk, index) = position(of: element) else {
            chunks = [[element]]
            maxima = [element]
            count = 1
            return true
        }
        if index < chunks[chunk].count, chunks[chunk][index] == element { return false }
        chunks[chunk].insert(element, at: index)
        maxima[chunk] = chunks[chunk][chunks[chunk].count - 1]
        count += 1
        if chunks[chunk].count > Self.chunkCapacity {
            let upper = Array(chunks[chunk][(Self.chunkCapacity / 2)...])
            chunks[chunk].removeSubrange((Self.chunkCapacity / 2)...)
            maxima[chunk] = chunks[chunk][chunks[chunk].count - 1]
            chunks.insert(upper, at: chunk + 1)
            maxima.insert(upper[upper.count - 1], at: chunk + 1)
        }
        return true
    }

    /// Removes `element`; false if it was not there.
    @discardableResult
    public mutating func remove(_ element: Element) -> Bool {
        guard let (chunk, index) = position(of: element), index < chunks[chunk].count, chunks[chunk][index] == element else {
            return false
        }
        chunks[chunk].remove(at: index)
        count -= 1
        if chunks[chunk].isEmpty {
            chunks.remove(at: chunk)
            maxima.remove(at: chunk)
        } else {
            maxima[chunk] = chunks[chunk][chunks[chunk].count - 1]
        }
        return true
    }

    public struct Iterator: IteratorProtocol {
        let chunks: [[Element]]
        var chunk = 0
        var index = 0

        public mutating func next() -> Element? {
            guard chunk < chunks.count else { return nil }
            let element = chunks[chunk][index]
            index += 1
            if index == chunks[chunk].count {
                chunk += 1
                index = 0
            }
            return element
        }
    }

    public func makeIterator() -> Iterator { Iterator(chunks: chunks) }

    /// Debug-build check: chunks sorted, non-empty, within capacity, maxima right, count right.
    func checkInvariants() -> Bool {
        var total = 0
        var previous: Element?
        for (chunk, elements) in chunks.enumerated() {
            guard !elements.isEmpty, elements.count <= Self.chunkCapacity, maxima[chunk] == elements[elements.count - 1] else { return false }
            for element in elements {
                if let previous, previous >= element { return false }
                previous = element
            }
            total += elements.count
        }
        return total == count && maxima.count == chunks.count
    }
}

/// Merges sorted sequences into one sorted sequence (each element once per sequence that
/// holds it): how a list over several indexes (`ORDER.LIST status=` across channels)
/// reads them in order without sorting them.
public struct SortedMerge<Element: Comparable>: Sequence, IteratorProtocol {
    private var iterators: [AnyIterator<Element>]
    private var heads: [Element?]

    public init<S: Sequence>(_ sequences: [S]) where S.Element == Element {
        let iterators = sequences.map { AnyIterator($0.makeIterator()) }
        var heads: [Element?] = []
        for index in iterators.indices { heads.append(iterators[index].next()) }
        self.iterators = iterators
        self.heads = heads
    }

    public mutating func next() -> Element? {
        var smallest: Int?
        for index in heads.indices {
            guard let head = heads[index] else { continue }
            if let current = smallest, let best = heads[current], best <= head { continue }
            smallest = index
        }
        guard let smallest, let element = heads[smallest] else { return nil }
        heads[smallest] = iterators[smallest].next()
        return element
    }
}
