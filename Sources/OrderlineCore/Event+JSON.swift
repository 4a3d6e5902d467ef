/// Events as JSON objects, for `orderline replay --export` (one per line).
extension Event {
    public func json(lsn: LSN) -> String {
        var object = JSONObject()
        object.add("lsn", lsn)
        object.add("type", name)
        switch self {
        case .nodeUpserted(let node):
            object.add("node", node.json)
        case .skuUpserted(let sku):
            object.add("sku", sku.json)
        case .stockSet(let node, let sku, let onHand, let safety):
            object.add("node", node)
            object.add("sku", sku)
            object.add("on_hand", onHand)
            object.add("safety", safety)
        case .stockAdjusted(let node, let sku, let delta, let reason):
            object.add("node", node)
            object.add("sku", sku)
            object.add("delta", delta)
            object.add("reason", reason)
        case .reservationCreated(let reservation):
            object.add("reservation", reservation.json)
        case .reservationReleased(let id), .reservationCommitted(let id), .reservationConverted(let id):
            object.add("id", id.description)
        case .reservationExpired(let id, let at):
            object.add("id", id.description)
            object.add("at", at)
        case .idempotencyKeyRecorded(let record):
            object.add("key", record.key)
            object.add("fingerprint", record.fingerprint)
            object.add("reply", record.reply.description)
            object.add("at", record.recordedAt)
        case .transferShipped(let transfer):
            object.add("transfer", transfer.json)
        case .transferReceived(let id):
            object.add("id", id.description)
        case .routingRulesSet(let rules):
            object.add("rules", rules.json)
        case .carrierServiceSet(let service):
            object.add("service", service.json)
        case .orderPlaced(let order):
            object.add("order", order.json)
        case .orderCancelled(let id, let at):
            object.add("id", id)
            object.add("at", at)
        }
        return object.json
    }
}
