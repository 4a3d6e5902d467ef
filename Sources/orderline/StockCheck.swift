import Foundation
import OrderlineCore
import OrderlineProtocol

/// `orderline import --kind stock --all-or-nothing`: every row checked as the server's
/// `STOCK.SET` checks it (the core's `SKUInventory.levelAfterSet`), in file order,
/// against the server's nodes and the stock of the SKUs the file names, read first;
/// each row's change counts for the rows after it. Nothing is written.
enum StockCheck {
    static func check(
        _ requests: [ImportRequest], send: ([[String]]) async throws -> [RESPValue], into outcome: inout ImportOutcome
    ) async throws {
        let nodes = Set(try objects(in: try await send([["NODE.LIST"]])[0]).compactMap { $0["id"] as? String })
        var inventories: [String: SKUInventory] = [:]
        var skus: [String] = []
        var named = Set<String>()
        for request in requests where named.insert(request.tokens[2]).inserted { skus.append(request.tokens[2]) }
        for start in stride(from: 0, to: skus.count, by: ImportCommand.window) {
            let chunk = Array(skus[start..<min(start + ImportCommand.window, skus.count)])
            for (sku, reply) in zip(chunk, try await send(chunk.map { ["STOCK.GET", $0] })) {
                if case .error(let message) = reply, message.hasPrefix("NOTFOUND sku") { continue }
                inventories[sku] = try inventory(from: reply)
            }
        }
        for request in requests {
            guard case .stockSet(let node, let sku, let onHand, let safety, let expectedOnHand)? = try? CommandTable.parse(request.tokens) else {
                continue
            }
            do throws(Rejection) {
                guard nodes.contains(node) else { throw .notFound("node \(node)") }
                guard var item = inventories[sku] else { throw .notFound("sku \(sku)") }
                let level = try item.levelAfterSet(at: node, sku: sku, onHand: onHand, safety: safety, expectedOnHand: expectedOnHand)
                item.levels[node] = level
                inventories[sku] = item
            } catch {
                outcome.reject(line: request.line, column: ImportCommand.column(of: error.description, among: request.columns), error: error.description)
            }
        }
    }

    /// A SKU's stock as `STOCK.GET` answers it.
    private static func inventory(from reply: RESPValue) throws -> SKUInventory {
        guard let object = try objects(in: reply, array: false).first, let levels = object["nodes"] as? [[String: Any]] else {
            throw ServerConnection.Failure(description: "STOCK.GET answered \(reply)")
        }
        var item = SKUInventory()
        item.networkReserved = (object["network_reserved"] as? NSNumber)?.int64Value ?? 0
        for entry in levels {
            guard let node = entry["node"] as? String else { continue }
            func value(_ key: String) -> Int64 { (entry[key] as? NSNumber)?.int64Value ?? 0 }
            item.levels[node] = StockLevel(
                onHand: value("on_hand"), safety: value("safety"), reserved: value("reserved"),
                allocated: value("allocated"), inTransit: value("in_transit"))
        }
        return item
    }

    /// The JSON objects of a bulk reply: the elements of an array, or the one object.
    private static func objects(in reply: RESPValue, array: Bool = true) throws -> [[String: Any]] {
        guard case .bulk(let text?) = reply, let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else {
            throw ServerConnection.Failure(description: "the server answered \(reply)")
        }
        if array, let list = parsed as? [[String: Any]] { return list }
        if !array, let object = parsed as? [String: Any] { return [object] }
        throw ServerConnection.Failure(description: "the server answered \(text.prefix(200))")
    }
}
