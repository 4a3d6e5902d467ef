import Foundation
import OrderlineTestSupport
import Testing

/// The README's walkthrough, run by redis-cli against the real server on the demo
/// data with the demo token file: a web order from a warehouse, a ship-from-store
/// order, a BOPIS order, a return in store (BORIS) by the store's POS token, a
/// customer who sees only their own orders, and KPIs.
@Test func theReadmeWalkthroughWorksWithRedisCLI() throws {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(
        data: directory.path,
        arguments: ["--seed", Executables.repositoryRoot + "/Data/seed", "--auth", Executables.repositoryRoot + "/Data/tokens.txt"])
    func cli(_ token: String, _ arguments: String...) throws -> String {
        let result = try runProcess("/usr/bin/redis-cli", ["-p", String(server.port), "-a", token, "--no-auth-warning"] + arguments)
        return result.standardOutput.trimmingCharacters(in: .newlines)
    }
    let ops = "demo-ops-secret-token"

    // 1. A web order, shipped from the warehouse routing chose.
    let web = try cli(
        "demo-web-channel-token", "ORDER.CREATE", "W-1001", "channel=web", "customer=C-42", "lines=SKU-000007:2,SKU-000042:1",
        "ship=40.7484,-73.9857", "address=350 5th Ave, New York", "service=express", "payment=tok_visa_4242")
    #expect(web.contains(#""status":"allocated""#) && web.contains(#""node":"WH-ALLENTOWN""#), "\(web)")
    #expect(try cli(ops, "ORDER.EXPLAIN", "W-1001").contains(#""rule":"cost: WH-ALLENTOWN has every line at the lowest cost""#))
    #expect(try cli(ops, "SHIPMENT.LIST", "node=WH-ALLENTOWN").contains(#""id":"W-1001-S1""#))
    for step in ["PICK", "PACK"] { #expect(try cli(ops, "SHIPMENT.\(step)", "W-1001-S1") == "OK") }
    let shipped = try cli(ops, "SHIPMENT.SHIP", "W-1001-S1")
    #expect(shipped.contains(#""status":"shipped""#) && shipped.contains(#""tracking":"LOC"#) && shipped.contains(#""captured":23197"#), "\(shipped)")
    #expect(try cli(ops, "SHIPMENT.DELIVER", "W-1001-S1") == "OK")

    // 2. Ship from store: only the Seattle store has it within a day.
    let fromStore = try cli(
        "demo-mobile-channel-token", "ORDER.CREATE", "M-2001", "channel=mobile", "customer=C-7", "lines=SKU-000085:1",
        "ship=47.6205,-122.3493", "service=nextday", "payment=tok_mc_5555")
    #expect(fromStore.contains(#""node":"ST-SEA-PINE""#), "\(fromStore)")

    // 3. BOPIS at the Philadelphia store.
    let pickup = try cli(
        "demo-web-channel-token", "ORDER.CREATE", "P-3001", "channel=web", "customer=C-42", "lines=SKU-000017:2", "mode=pickup",
        "store=ST-PHL-CENTER", "payment=tok_amex_0005")
    #expect(pickup.contains(#""mode":"pickup""#) && pickup.contains(#""node":"ST-PHL-CENTER""#), "\(pickup)")
    for step in ["PICK", "PACK", "READY", "PICKEDUP"] { #expect(try cli(ops, "SHIPMENT.\(step)", "P-3001-S1") == "OK") }

    // 4. The customer sees their orders, not others', and starts a return.
    #expect(try cli("demo-customer-42-token", "ORDER.STATUS", "W-1001").contains(#""status":"delivered""#))
    #expect(try cli("demo-customer-42-token", "ORDER.STATUS", "M-2001").hasPrefix("NOTFOUND order M-2001"))
    #expect(try cli("demo-customer-42-token", "ORDER.LIST", "customer=C-42").contains(#""id":"P-3001""#))
    #expect(try cli("demo-customer-42-token", "RETURN.OPEN", "W-1001", "lines=SKU-000007:1", "node=ST-NYC-5TH", "reason=too small") == "W-1001-R1")

    // 5. The NYC store receives it (BORIS): back on its shelf, refunded.
    let received = try cli("demo-pos-nyc-token", "RETURN.RECEIVE", "W-1001-R1", "condition=resellable")
    #expect(received.contains(#""status":"refunded","node":"ST-NYC-5TH","boris":true,"condition":"resellable","restocked":1,"refund":3199"#), "\(received)")
    #expect(try cli("demo-pos-nyc-token", "RETURN.RECEIVE", "W-1001-R1").hasPrefix("CONFLICT"))

    // 6. KPIs.
    let kpi = try cli("demo-viewer-token", "KPI")
    #expect(kpi.contains(#""orders":3,"fulfillment_rate":0.6667"#) && kpi.contains(#""return_rate":0.5000,"oversell_count":0"#), "\(kpi)")
    #expect(try cli("demo-viewer-token", "KPI", "channel=mobile").contains(#""orders":1"#))
    let info = try cli(ops, "INFO", "orders")
    #expect(info.contains("orders:3") && info.contains("shipments_in_work_queues:1") && info.contains("oversell_count:0"), "\(info)")
    #expect(server.stop() == 0)
}
