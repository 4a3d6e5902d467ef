/// Shadow-mode routing: how other routing rules or another rate card would have routed
/// an order, against the inventory and capacity as they were when it was placed.
/// `orderline replay --shadow-routing` asks this for every order of a log.
extension OrderlineState {
    /// The order routed again, as if `changes` (`ROUTING.SET` and `CARRIER.SET`,
    /// applied in order on top of the rules in force) had been made before it. Call it
    /// on the state just before the order was placed. Backorders are allowed, so that
    /// an order the other rules could not fill shows as backordered instead of refused.
    public func shadowRouted(_ order: Order, changes: [Command]) -> Result<Order, Rejection> {
        var alternative = self
        for command in changes {
            switch command {
            case .routingSet, .carrierSet: break
            default: return .failure(.invalid("shadow routing takes ROUTING.SET and CARRIER.SET only"))
            }
            switch alternative.decide(command, context: alternative.decisionContext(now: order.placedAt)) {
            case .success(let decision):
                for event in decision.events { alternative.apply(event, at: lsn) }
            case .failure(let rejection):
                return .failure(rejection)
            }
        }
        do {
            return .success(try alternative.routedOrder(order, now: order.placedAt, backorderAllowed: true))
        } catch {
            return .failure(error)
        }
    }
}
