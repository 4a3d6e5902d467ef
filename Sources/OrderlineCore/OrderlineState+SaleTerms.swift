/// A flash sale's terms on a SKU (`SaleTerms`): the window it is on sale in, and how
/// many units one customer may hold and buy.
extension OrderlineState {
    /// Checks `units` more of `sku` for `customer` (nil: nobody named, so no limit can
    /// apply), with `exempt` units already held for them in carts being converted (they
    /// count once, and were checked when reserved).
    func checkSaleTerms(
        _ terms: SaleTerms, sku: String, units: Int64, customer: String?, now: Timestamp,
        convertingCarts: [ReservationID] = [], replacingOrder: String? = nil, exempt: Int64 = 0
    ) throws(Rejection) {
        if !terms.isOnSale(at: now), units > exempt {
            let from = terms.saleStart.map { " from \(CalendarDate.formatDateTime($0))" } ?? ""
            let to = terms.saleEnd.map { " until \(CalendarDate.formatDateTime($0))" } ?? ""
            throw .conflict("\(sku) is on sale\(from)\(to)")
        }
        guard let limit = terms.limitPerCustomer, let customer else { return }
        let taken = unitsTaken(by: customer, of: sku, convertingCarts: convertingCarts, replacingOrder: replacingOrder)
        guard taken + units <= limit else {
            throw Rejection(.limit, "customer \(customer) may buy at most \(limit) of \(sku)")
        }
    }

    /// Units of `sku` the customer holds in carts and has ordered (not cancelled),
    /// leaving out carts being converted and the order being replaced by an edit.
    func unitsTaken(by customer: String, of sku: String, convertingCarts: [ReservationID] = [], replacingOrder: String? = nil) -> Int64 {
        var units: Int64 = 0
        for id in heldByCustomer[customer] ?? [] where !convertingCarts.contains(id) {
            guard let reservation = reservations[id], reservation.sku == sku, reservation.status == .held else { continue }
            units += reservation.quantity
        }
        for id in orderIndex.orderIDs(ofCustomer: customer) where id != replacingOrder {
            guard let order = orders[id], order.status != .rejected else { continue }
            for line in order.lines where line.sku == sku { units += line.quantity - line.cancelled }
        }
        return units
    }
}
