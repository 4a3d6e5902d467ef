/// Which shard owns a SKU: through a fixed space of 16,384 slots, as Redis Cluster
/// does, so the layout of SKUs over slots never depends on the number of shards, and
/// a SKU's slot is the same on every machine and in every release (it is part of the
/// format: tests pin its values).
///
/// A SKU id with a `{tag}` is placed by the tag alone, so SKUs sold together (a bundle,
/// a flash sale's variants) can share a shard and their orders stay on one: `{SALE}-RED`
/// and `{SALE}-BLUE` share a slot. As in Redis Cluster, the tag is what lies between the
/// first `{` and the next `}`, when that is not empty; otherwise the whole id counts.
///
/// Shards own contiguous slot ranges of (almost) equal size: shard `s` of `n` owns
/// slots `s·16384/n ..< (s+1)·16384/n`.
public struct ShardMap: Hashable, Sendable {
    public static let slotCount = 16_384
    /// At most one shard per slot; far more than the cores of any machine.
    public static let shardCountMax = 1_024

    public let shardCount: Int

    public init(shardCount: Int) {
        precondition((1...Self.shardCountMax).contains(shardCount), "shard count \(shardCount) out of 1...\(Self.shardCountMax)")
        self.shardCount = shardCount
    }

    /// The slot of a SKU id: XXH64 of its tag (or of the whole id) modulo 16,384.
    public static func slot(of sku: String) -> Int {
        var sku = sku
        return sku.withUTF8 { bytes in
            let placing = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[tag(in: bytes)]))
            return Int(XXH64.hash(placing) & UInt64(slotCount - 1))
        }
    }

    /// The bytes that place the id: its non-empty `{tag}`, or all of it.
    private static func tag(in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")),
              let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        else { return bytes.indices }
        return (open + 1)..<close
    }

    /// The shard that owns `slot`.
    @inline(__always)
    public func shard(ofSlot slot: Int) -> Int { slot * shardCount / Self.slotCount }

    public func shard(of sku: String) -> Int {
        shardCount == 1 ? 0 : shard(ofSlot: Self.slot(of: sku))
    }

    /// The slots shard `shard` owns.
    public func slots(of shard: Int) -> Range<Int> {
        // The first slot s with s·n/16384 ≥ shard is ⌈shard·16384/n⌉.
        let lower = (shard * Self.slotCount + shardCount - 1) / shardCount
        let upper = ((shard + 1) * Self.slotCount + shardCount - 1) / shardCount
        return lower..<upper
    }
}
