import OrderlineCore
import OrderlineStorage

/// A `SOLDOUT` to `RESERVE` waits only for the events that sold the SKU out, not for
/// everything else in the WAL's queue: once a hot SKU is gone, its answers go out at
/// once while the other SKUs' writes wait for their fsync.
///
/// A rejection reveals the state it was decided on, so it is sent once the log holds
/// that state. For `SOLDOUT` what it read is one SKU's stock: the LSN at which the
/// engine first saw the SKU sold out covers it for as long as the stock stays the same
/// value (equal stock gives the same answer from the state at that LSN).
extension Engine {
    struct SoldOutSighting {
        var lsn: LSN
        var stock: SKUInventory?
    }

    /// Sold-out SKUs remembered at most; past it the memory starts again (a SKU not
    /// remembered waits for the state's LSN, as any other rejection does).
    static var soldOutSightingsMax: Int { 4_096 }

    /// The LSN a `SOLDOUT` for `sku` must wait for.
    func soldOutReplyLSN(_ sku: String) -> LSN {
        soldOutReplies += 1
        let stock = state.stock(ofSKU: sku)
        if let seen = soldOutSightings[sku], seen.stock == stock { return seen.lsn }
        if soldOutSightings.count >= Self.soldOutSightingsMax { soldOutSightings.removeAll(keepingCapacity: true) }
        soldOutSightings[sku] = SoldOutSighting(lsn: state.lsn, stock: stock)
        return state.lsn
    }
}
