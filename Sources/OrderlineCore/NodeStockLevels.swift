/// One SKU's stock levels by node, with a dictionary's API but stored as an array
/// sorted by node id (binary search). A SKU is mostly stocked at a handful of nodes,
/// where that is as fast as hashing an id and the array takes a fraction of a
/// dictionary's memory (with 1 M SKUs × 4 nodes this is most of the state).
public struct NodeStockLevels: Hashable, Sendable, Sequence {
    private struct Entry: Hashable, Sendable {
        var node: String
        var level: StockLevel
    }

    private var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }

    /// The nodes, in id order.
    public var keys: [String] { entries.map(\.node) }
    /// The levels, in node id order.
    public var values: some Collection<StockLevel> { entries.lazy.map(\.level) }

    public subscript(node: String) -> StockLevel? {
        get { position(of: node).found.map { entries[$0].level } }
        set {
            let (found, insertion) = position(of: node)
            switch (found, newValue) {
            case (let index?, let level?): entries[index].level = level
            case (let index?, nil): entries.remove(at: index)
            case (nil, let level?): entries.insert(Entry(node: node, level: level), at: insertion)
            case (nil, nil): break
            }
        }
    }

    public subscript(node: String, default defaultLevel: @autoclosure () -> StockLevel) -> StockLevel {
        get { self[node] ?? defaultLevel() }
        _modify {
            let (found, insertion) = position(of: node)
            let index: Int
            if let found {
                index = found
            } else {
                entries.insert(Entry(node: node, level: defaultLevel()), at: insertion)
                index = insertion
            }
            yield &entries[index].level
        }
    }

    public func mapValues<T>(_ transform: (StockLevel) throws -> T) rethrows -> [String: T] {
        var result: [String: T] = [:]
        for entry in entries { result[entry.node] = try transform(entry.level) }
        return result
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: StockLevel)> {
        entries.lazy.map { (key: $0.node, value: $0.level) }.makeIterator()
    }

    /// Where `node` is, or where it would go to keep the ids sorted: a binary
    /// search, after a look at the last entry (a snapshot loads levels in id order).
    private func position(of node: String) -> (found: Int?, insertion: Int) {
        guard let last = entries.last, node <= last.node else { return (nil, entries.count) }
        var low = 0
        var high = entries.count - 1
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].node < node { low = middle + 1 } else { high = middle }
        }
        return (entries[low].node == node ? low : nil, low)
    }
}
