/// A sellable item of the catalog.
public struct SKU: Hashable, Sendable {
    public var id: String
    public var priceCents: Int64
    public var weightGrams: Int64
    public var name: String

    public init(id: String, priceCents: Int64, weightGrams: Int64 = 0, name: String = "") {
        self.id = id
        self.priceCents = priceCents
        self.weightGrams = weightGrams
        self.name = name
    }
}
