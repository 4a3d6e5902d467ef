/// What an event says about itself beyond its payload: when it happened and which
/// order it concerns. Replay tools, the change feed and `ORDER.HISTORY` ask this.
extension Event {
    /// The time stamped into the event, for those that carry one. The log's time at an
    /// event that carries none is the last time stamped before it (`timeLast`).
    @inlinable public var stampedTime: Timestamp? {
        switch self {
        case .reservationCreated(let reservation): reservation.createdAt
        case .reservationExpired(_, let at), .orderCancelled(_, let at), .orderHeld(_, _, let at), .orderUnheld(_, let at),
             .returnReceived(_, _, _, let at):
            at
        case .idempotencyKeyRecorded(let record): record.recordedAt
        case .transferShipped(let transfer): transfer.shippedAt
        case .orderPlaced(let order): order.placedAt
        case .shipmentAdvanced(let progress): progress.at
        case .returnOpened(_, let returned): returned.openedAt
        case .nodeUpserted, .skuUpserted, .stockSet, .stockAdjusted, .reservationReleased, .reservationCommitted,
             .reservationConverted, .transferReceived, .routingRulesSet, .carrierServiceSet, .orderEdited, .fraudRulesSet:
            nil
        }
    }

    /// The order the event changes (its shipments and returns included), if any.
    @inlinable public var orderID: String? {
        switch self {
        case .orderPlaced(let order), .orderEdited(let order): order.id
        case .orderCancelled(let id, _), .orderHeld(let id, _, _), .orderUnheld(let id, _): id
        case .shipmentAdvanced(let progress): progress.shipment.order
        case .returnOpened(let id, _), .returnReceived(let id, _, _, _): id.order
        case .nodeUpserted, .skuUpserted, .stockSet, .stockAdjusted, .reservationCreated, .reservationReleased,
             .reservationCommitted, .reservationExpired, .reservationConverted, .idempotencyKeyRecorded, .transferShipped,
             .transferReceived, .routingRulesSet, .carrierServiceSet, .fraudRulesSet:
            nil
        }
    }
}

extension Event {
    /// Every event type's `name` (`order_placed`, …): what `EVENTS.READ … TYPES` takes.
    public static let typeNames: Set<String> = Set(Tag.allCases.map { tag in
        String(describing: tag).reduce(into: "") { name, character in
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
    })
}
