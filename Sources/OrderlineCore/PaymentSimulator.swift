/// The built-in payment gateway: deterministic, for demos and tests. A real gateway
/// answers over the network, outside the core; its answer would be logged the same
/// way, so a replay never asks again.
///
/// Test tokens: `tok_decline` is declined by the issuer, `tok_fail` finds the gateway
/// down; any other token is authorised for the order's total.
public struct PaymentSimulator: PaymentGateway {
    public init() {}

    /// What the log and replies show of a token.
    public static func mask(_ token: String) -> String {
        token.count > 8 ? String(token.prefix(4)) + "…" + String(token.suffix(4)) : token
    }

    public func authorize(token: String, amountCents: Int64) -> Order.Payment {
        let masked = Self.mask(token)
        switch token {
        case "tok_decline": return Order.Payment(token: masked, status: .declined, amountCents: amountCents, reason: "declined by the issuer")
        case "tok_fail": return Order.Payment(token: masked, status: .failed, amountCents: amountCents, reason: "payment gateway unavailable")
        default: return Order.Payment(token: masked, status: .authorized, amountCents: amountCents, reason: "")
        }
    }
}

extension PaymentSimulator {
    /// Captures up to what the authorisation has left (a partial shipment captures its
    /// part). Nothing is captured without an authorisation.
    public func capture(_ payment: Order.Payment?, amountCents: Int64) -> Int64 {
        guard let payment, payment.status == .authorized else { return 0 }
        return max(0, min(amountCents, payment.amountCents - payment.capturedCents))
    }

    /// Refunds up to what was captured and not yet refunded.
    public func refund(_ payment: Order.Payment?, amountCents: Int64) -> Int64 {
        guard let payment, payment.status == .authorized else { return 0 }
        return max(0, min(amountCents, payment.capturedCents - payment.refundedCents))
    }
}
