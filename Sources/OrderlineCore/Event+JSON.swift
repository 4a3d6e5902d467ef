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
            object.addObject("order") { order.writeFields(into: &$0) }
        case .orderCancelled(let id, let at), .orderUnheld(let id, let at):
            object.add("id", id)
            object.add("at", at)
        case .orderEdited(let order):
            object.addObject("order") { order.writeFields(into: &$0) }
        case .orderHeld(let id, let hold, let at):
            object.add("id", id)
            object.add("hold", hold.json)
            object.add("at", at)
        case .shipmentAdvanced(let progress):
            object.add("shipment", progress.shipment.description)
            object.add("status", progress.status.rawValue)
            object.add("at", progress.at)
            object.add("carrier", progress.carrier)
            object.add("service", progress.service)
            object.add("cost", progress.costCents)
            object.add("tracking", progress.tracking)
            object.add("captured", progress.capturedCents)
        case .returnOpened(let id, let returned):
            object.add("return", id.description)
            object.add("node", returned.node)
            object.add("lines", returned.lines.map(\.json))
            object.add("reason", returned.reason)
            object.add("exchange_order", returned.exchangeOrder)
            object.add("at", returned.openedAt)
        case .returnReceived(let id, let condition, let refundCents, let at):
            object.add("return", id.description)
            object.add("condition", condition.rawValue)
            object.add("refund", refundCents)
            object.add("at", at)
        case .fraudRulesSet(let rules):
            object.add("rules", rules.json)
        }
        return object.json
    }
}
