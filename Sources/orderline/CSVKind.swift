import ArgumentParser
import OrderlineCore

/// What `orderline import` reads and `orderline export` writes: one kind of row per
/// file, its columns (named by the header row), the command a row stands for, and the
/// rows the state gives. A cell is a command's argument as written on the wire, so
/// every check is the server's own; an empty cell leaves the option out.
enum CSVKind: String, CaseIterable, ExpressibleByArgument {
    case skus, stock, nodes, orders

    /// The columns export writes, in this order.
    var columns: [String] {
        switch self {
        case .skus: ["sku", "price", "weight", "name", "limit", "sale_start", "sale_end"]
        case .nodes: ["node", "kind", "lat", "lon", "ship", "pickup", "returns", "capacity", "cost"]
        case .stock: ["node", "sku", "on_hand", "safety", "reserved", "allocated", "in_transit", "atp"]
        case .orders:
            ["order", "channel", "customer", "status", "placed_at", "sku", "qty", "price",
             "allocated", "shipped", "backordered", "cancelled", "returned"]
        }
    }

    /// The columns a row must give.
    var requiredColumns: [String] {
        switch self {
        case .skus: ["sku", "price"]
        case .nodes: ["node", "kind", "lat", "lon"]
        case .stock: ["node", "sku", "on_hand"]
        case .orders: []
        }
    }

    /// Columns import reads that export does not write (a recount's compare-and-set).
    var importOnlyColumns: [String] { self == .stock ? ["expect"] : [] }

    /// Columns export writes for people and import reads past: what the server derives.
    var derivedColumns: Set<String> { self == .stock ? ["reserved", "allocated", "in_transit", "atp"] : [] }

    /// Whether `import` takes this kind (orders are placed with `ORDER.CREATE`, not loaded).
    var isImportable: Bool { self != .orders }

    /// The request one row stands for, and beside each token the column it came from
    /// (nil for the command's name), so that an error can name its column. `cells` has
    /// one value per column of the header (empty: not given).
    func request(_ cells: [String: String]) throws(CSVRowProblem) -> (tokens: [String], columns: [String?]) {
        for column in requiredColumns where (cells[column] ?? "").isEmpty {
            throw CSVRowProblem(column: column, rejection: .invalid("\(column) is empty: this column is required"))
        }
        let name: String
        let positional: [String]
        switch self {
        case .skus: (name, positional) = ("SKU.ADD", ["sku"])
        case .nodes: (name, positional) = ("NODE.ADD", ["node"])
        case .stock: (name, positional) = ("STOCK.SET", ["node", "sku", "on_hand"])
        case .orders: throw CSVRowProblem(column: nil, rejection: .invalid("orders cannot be imported"))
        }
        var tokens = [name] + positional.map { cells[$0] ?? "" }
        var sources: [String?] = [nil] + positional
        for column in importedColumns where !positional.contains(column) && !derivedColumns.contains(column) {
            guard let value = cells[column], !value.isEmpty else { continue }
            tokens.append("\(column)=\(value)")
            sources.append(column)
        }
        return (tokens, sources)
    }

    /// What a row changes: the SKU, the node, or the node and SKU of a stock level
    /// (two rows of one key must be applied in file order).
    func key(of tokens: [String]) -> String {
        self == .stock ? tokens[1] + " " + tokens[2] : tokens[1]
    }

    /// The columns import accepts in a header.
    var importedColumns: [String] { columns + importOnlyColumns }

    /// Every row of this kind in `state`, in id order, as `columns` names them.
    func rows(of state: OrderlineState) -> [[String]] {
        func optional(_ value: Int64?) -> String { value.map(String.init) ?? "" }
        func flag(_ value: Bool) -> String { value ? "yes" : "no" }
        switch self {
        case .skus:
            return state.skus.keys.sorted().compactMap { state.skus[$0] }.map { sku -> [String] in
                [sku.id, String(sku.priceCents), String(sku.weightGrams), sku.name,
                 optional(sku.terms?.limitPerCustomer), optional(sku.terms?.saleStart), optional(sku.terms?.saleEnd)]
            }
        case .nodes:
            return state.nodes.keys.sorted().compactMap { state.nodes[$0] }.map { node -> [String] in
                let place = [Coordinate.format(node.location.latitudeMicrodegrees), Coordinate.format(node.location.longitudeMicrodegrees)]
                let flags = [flag(node.ships), flag(node.offersPickup), flag(node.acceptsReturns)]
                return [node.id, node.kind.name] + place + flags + [String(node.capacityPerDay), String(node.handlingCostCents)]
            }
        case .stock:
            var rows: [[String]] = []
            for sku in state.inventory.keys.sorted() {
                for (node, level) in state.inventory[sku]?.levels ?? NodeStockLevels() {
                    let units = [level.onHand, level.safety, level.reserved, level.allocated, level.inTransit, level.atp]
                    rows.append([node, sku] + units.map { String($0) })
                }
            }
            return rows
        case .orders:
            return state.orders.keys.sorted().compactMap { state.orders[$0] }.flatMap { order in
                order.lines.map { line -> [String] in
                    let progress = order.progress(of: line.sku)
                    let placed = [order.id, order.channel.rawValue, order.customer, order.status.rawValue, String(order.placedAt)]
                    let bought = [line.sku, String(line.quantity), String(line.priceCents)]
                    let units = [progress.allocated, progress.shipped, progress.backordered, line.cancelled, progress.returned]
                    return placed + bought + units.map { String($0) }
                }
            }
        }
    }
}

/// Why one row was not applied: the column at fault when known, and the error as
/// the server words it.
struct CSVRowProblem: Error {
    var column: String?
    var rejection: Rejection
}
