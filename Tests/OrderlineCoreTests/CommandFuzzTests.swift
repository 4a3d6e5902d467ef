import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every command of the table with random arguments drawn from edge values (negative,
/// huge, empty, malformed ids, unknown options, Unicode, long text), after a network
/// with orders in every state exists: nothing traps, every reply is a value or an
/// error with a PROTOCOL.md code, and the invariants hold after each command.
@Test(arguments: UInt64(1)...6)
func everyCommandSurvivesRandomArguments(seed: UInt64) {
    var core = orderNetwork()
    core.run("ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 \(philadelphiaShipTo) payment=tok_visa_4242")
    core.run("ORDER.CREATE O-2 channel=web customer=C-1 lines=MUG:1 mode=pickup store=ST")
    for step in ["PICK", "PACK", "SHIP", "DELIVER"] { core.run("SHIPMENT.\(step) O-1-S1") }
    core.run("RETURN.OPEN O-1 lines=HOT:1")
    let values = [
        "", "0", "-1", "1", "7", "99999999999999999999", "-9223372036854775808", "1e3", "0x10", "HOT", "MUG", "NOPE", "WH", "ST",
        "O-1", "O-2", "O-1-S1", "O-1-S0", "O-1-S99999", "O-2-S1", "O-1-R1", "O-1-R2", "-S1", "R1", "T1", "HOT:1", "HOT:-1", "HOT:0",
        "HOT:1,HOT:1", "MUG:1000000001", "40.7,-74.0", "91,0", "abc", "é", String(repeating: "x", count: 2_000), "a b",
        "tok_decline", "standard", "pickup", "web", "resellable", "damaged", "yes", "no", "cost", "GROUND",
    ]
    let keys = [
        "lines", "ship", "node", "store", "mode", "channel", "customer", "payment", "reservations", "service", "reason", "condition",
        "exchange", "status", "limit", "from", "to", "carrier", "tracking", "amount_max", "orders_max", "window", "block", "unblock",
        "distance_max", "kind", "lat", "lon", "capacity", "price", "weight", "ttl", "idem", "expect", "safety", "bogus",
    ]
    var generator = SeededGenerator(seed: seed)
    let codes = ["ERR", "INVALID", "NOTFOUND", "SOLDOUT", "CONFLICT", "NOPERM", "LIMIT"]
    var outcomes = (accepted: 0, rejected: 0)
    for spec in CommandTable.specs {
        for _ in 0..<60 {
            // Mostly the right shape (positional count, the spec's own options), so the
            // values reach the deeper checks; sometimes any shape.
            var tokens = [spec.name]
            let wellFormed = Int.random(in: 0..<5, using: &generator) > 0
            let positional = wellFormed ? Int.random(in: spec.positionalCount, using: &generator) : Int.random(in: 0...3, using: &generator)
            for _ in 0..<positional { tokens.append(values.randomElement(using: &generator)!) }
            let options = wellFormed && !spec.options.isEmpty ? spec.options.sorted() : keys
            for key in Set((0..<Int.random(in: 0...4, using: &generator)).map { _ in options.randomElement(using: &generator)! }).sorted() {
                tokens.append("\(key)=\(values.randomElement(using: &generator)!)")
            }
            let reply = core.run(tokens.map { "\"\($0)\"" }.joined(separator: " "))
            if reply.hasPrefix("-") { outcomes.rejected += 1 } else { outcomes.accepted += 1 }
            if reply.hasPrefix("-") {
                #expect(codes.contains { reply.hasPrefix("-\($0) ") }, "\(tokens.prefix(6)): \(reply.prefix(120))")
            }
            #expect(core.state.checkInvariants(), "\(tokens.prefix(6))")
        }
    }
    #expect(core.state.oversellCount == 0)
    #expect(outcomes.accepted > 40 && outcomes.rejected > 1_000, "\(outcomes)")
}
