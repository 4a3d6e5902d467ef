/// One SKU's stock levels by node, with a dictionary's API but stored as a short
/// array sorted by node id. A SKU is stocked at a handful of nodes, where a scan of
/// a few ids is faster than hashing one and the array takes a fraction of a
/// dictionary's memory (with 1 M SKUs × 4 nodes this is most of the state).
public struct NodeStockLevels: Hashable, Sendable, Sequence {
    private struct Entry: Hashable, Sendable {
        var node: String
        var level: StockLevel
    }

    private var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

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

    /// Where `node` is, or where it would go to keep the ids sorted.
    private func position(of node: String) -> (found: Int?, insertion: Int) {
        for (index, entry) in entries.enumerated() {
            if entry.node == node { return (index, index) }
            if node < entry.node { return (nil, index) }
        }
        return (nil, entries.count)
    }
}
