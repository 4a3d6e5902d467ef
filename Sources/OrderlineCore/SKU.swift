/// A sellable item of the catalog.
public struct SKU: Hashable, Sendable {
    public var id: String
    public var priceCents: Int64
    public var weightGrams: Int64
    public var name: String
    /// A flash sale's terms, if one is set (`SKU.ADD … limit= sale_start= sale_end=`).
    public var terms: SaleTerms?

    public init(id: String, priceCents: Int64, weightGrams: Int64 = 0, name: String = "", terms: SaleTerms? = nil) {
        self.id = id
        self.priceCents = priceCents
        self.weightGrams = weightGrams
        self.name = name
        self.terms = terms
    }
}

/// What a flash sale sets on a SKU: how many units one customer may hold and buy at most
/// (carts held and orders placed together; released, expired and cancelled units count
/// again), and the window it is on sale in (`[start, end)`, either side open).
public struct SaleTerms: Hashable, Sendable {
    public var limitPerCustomer: Int64?
    public var saleStart: Timestamp?
    public var saleEnd: Timestamp?

    public init(limitPerCustomer: Int64? = nil, saleStart: Timestamp? = nil, saleEnd: Timestamp? = nil) {
        self.limitPerCustomer = limitPerCustomer
        self.saleStart = saleStart
        self.saleEnd = saleEnd
    }

    /// Whether `now` is inside the window.
    public func isOnSale(at now: Timestamp) -> Bool {
        (saleStart.map { now >= $0 } ?? true) && (saleEnd.map { now < $0 } ?? true)
    }
}
