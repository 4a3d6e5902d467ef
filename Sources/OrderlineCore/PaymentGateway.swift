/// A payment gateway as the core sees it. Its answers are values written into the
/// events that use them (the authorisation into the order, captures into shipment
/// steps, refunds into received returns), so a replay never asks again.
///
/// `decide` is pure, so a gateway handed to it must answer deterministically from its
/// inputs. A gateway on the network belongs in the shell: it asks first, then hands
/// the answers in through a conforming value in the `DecisionContext`. The built-in
/// `PaymentSimulator` is the default.
public protocol PaymentGateway: Sendable {
    /// Authorises `amountCents` on `token`; the result keeps only a masked token.
    func authorize(token: String, amountCents: Int64) -> Order.Payment
    /// Captures up to `amountCents` of an authorisation (as shipments leave).
    func capture(_ payment: Order.Payment?, amountCents: Int64) -> Int64
    /// Refunds up to `amountCents` of what was captured (as returns are received).
    func refund(_ payment: Order.Payment?, amountCents: Int64) -> Int64
}
