import Foundation
import OrderlineTestSupport
import Testing

private let chromium = "/usr/bin/chromium"
/// Where the screenshots go: the test's output folder, under .build (ignored by git).
private let outputFolder = Executables.repositoryRoot + "/.build/test-output"

/// Headless Chromium on the page: the DOM once its script has run, and every console
/// line it logged (`:CONSOLE:` on standard error), or a screenshot.
private func chromium(_ url: String, _ arguments: [String], profile: String) throws -> ProcessResult {
    try runProcess(chromium, [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=6000",
    ] + arguments + [url])
}

/// What the page shows in its `data-field` elements, by field (not the script's
/// templates for them).
private func fields(_ page: String) -> [String: String] {
    let dom = page.replacingOccurrences(of: #"<script>[\s\S]*?</script>"#, with: "", options: .regularExpression)
    var fields: [String: String] = [:]
    let pattern = try! NSRegularExpression(pattern: #"data-field="([^"]+)"[^>]*>([^<]*)<"#)
    for match in pattern.matches(in: dom, range: NSRange(dom.startIndex..., in: dom)) {
        guard let name = Range(match.range(at: 1), in: dom), let value = Range(match.range(at: 2), in: dom) else { continue }
        fields[String(dom[name])] = String(dom[value]).replacingOccurrences(of: ",", with: "")
    }
    return fields
}

/// The operations page (`GET /` of `--http`) in a real browser against a live server
/// with the demo data: the figures it shows are those `INFO`, `KPI` and the commands
/// answer, a search shows the order's shipments and its routing decision, the page
/// logs nothing to the console, and its screenshots (laptop and phone width) are
/// written to `.build/test-output/`. With `--auth` the page itself loads without a
/// token (it holds no data) and its API needs one.
@Test(.timeLimit(.minutes(5)))
func theOperationsPageShowsWhatTheServerSays() async throws {
    guard FileManager.default.isExecutableFile(atPath: chromium) else {
        Issue.record("chromium is not installed (scripts/setup.sh --test-tools installs it): the page was not tested in a browser")
        return
    }
    let directory = TemporaryDirectory()
    let server = try ServerProcess(
        data: directory.file("data"), arguments: ["--seed", Executables.repositoryRoot + "/Data/seed", "--http", "127.0.0.1:0"])
    let port = try httpPort(of: server)
    let client = try server.client()
    for _ in 0..<3 { #expect(try client.call("RESERVE", "HOT-1", "2").hasPrefix("$R")) }
    #expect(try client.call("ORDER.CREATE", "W-1", "channel=web", "customer=C-1", "lines=SKU-000001:1,HOT-2:1", "ship=40.7,-74.0", "reply=id") == "$W-1")
    #expect(try client.call("ORDER.CREATE", "W-2", "channel=mobile", "customer=C-2", "lines=HOT-3:40", "ship=34.0,-118.2", "reply=id") == "$W-2")
    #expect(try client.call("ORDER.CREATE", "POS:7", "channel=pos", "customer=C-3", "lines=SKU-000002:1", "ship=40.7,-74.0", "reply=id") == "$POS:7")
    let info = try client.call("INFO", "persistence")
    let lsn = try #require(info.split(separator: "\r\n").first { $0.hasPrefix("lsn_last:") }?.dropFirst("lsn_last:".count))
    let kpi = try client.call("KPI")
    let explain = try client.call("ORDER.EXPLAIN", "W-1")
    let order = try client.call("ORDER.GET", "W-1")

    let page = try await get(port, "/")
    #expect(page.status == 200 && page.body.contains("<title>Orderline operations</title>"))
    #expect(try await contentType(port, "/") == "text/html; charset=utf-8")
    #expect(try await contentType(port, "/api/overview") == "application/json")
    #expect(try await contentType(port, "/api/sku/HOT-1") == "application/json")
    // An id a browser percent-encodes (`:`) is found.
    let colon = try await get(port, "/api/order/POS%3A7")
    #expect(colon.status == 200 && colon.body.hasPrefix(#"{"order":{"id":"POS:7""#), "\(colon.body.prefix(200))")
    let loaded = try chromium("http://127.0.0.1:\(port)/#search=W-1", ["--dump-dom"], profile: directory.file("chrome"))
    #expect(loaded.status == 0, "\(loaded.standardError.suffix(2_000))")
    let console = loaded.standardError.split(separator: "\n").filter { $0.contains(":CONSOLE") }
    #expect(console.isEmpty, "the page logged: \(console)")
    let shown = fields(loaded.standardOutput)
    #expect(shown["status"] == "ready", "\(shown)")
    #expect(shown["role"] == "primary")
    #expect(shown["lsn"] == String(lsn))
    #expect(shown["durable_lsn"] == String(lsn))
    let fsyncMax = try #require(shown["fsync_max"].flatMap(Double.init))
    #expect(fsyncMax > 0 && fsyncMax < 10_000, "the slowest fsync, in ms: \(fsyncMax)")
    #expect(shown["reservations_held"] == "3")
    #expect(shown["held:HOT-1"] == "6")
    #expect(shown["orders_total"] == "3")
    #expect(kpi.contains(#""orders":3,"#))
    #expect(shown["kpi:all:orders"] == "3" && shown["kpi:web:orders"] == "1" && shown["kpi:mobile:orders"] == "1" && shown["kpi:pos:orders"] == "1")
    for status in ["allocated", "on_hold", "backordered", "shipped"] {
        let counted = kpi.range(of: #""\#(status)":(\d+)"#, options: .regularExpression).map { kpi[$0].split(separator: ":").last.map(String.init) } ?? nil
        #expect(shown["status:\(status)"] == counted, "\(status)")
    }
    // The search: the order, its shipment at the node routing chose, and the rule.
    #expect(shown["order:id"] == "W-1" && shown["order:status"] == "allocated")
    let shipmentNode = try #require(order.range(of: #""shipments":\[\{"id":"W-1-S1","order":"W-1","node":"([^"]+)""#, options: .regularExpression))
    let node = String(order[shipmentNode].split(separator: "\"").last ?? "")
    #expect(shown["queue:\(node)"].flatMap { Int($0) }.map { $0 >= 1 } == true, "\(node) has W-1's shipment to work")
    #expect(loaded.standardOutput.contains("<td>W-1-S1</td><td>\(node)</td><td>pending</td>"))
    let rule = try #require(shown["explain:rule"])
    #expect(!rule.isEmpty && explain.contains(#""rule":"\#(rule.replacingOccurrences(of: "&gt;", with: ">"))""#), "\(rule) / \(explain.prefix(300))")

    // A SKU found by the search box.
    let sku = try chromium("http://127.0.0.1:\(port)/#search=HOT-1", ["--dump-dom"], profile: directory.file("chrome"))
    let stock = try client.call("STOCK.GET", "HOT-1")
    #expect(fields(sku.standardOutput)["sku:id"] == "HOT-1")
    #expect(stock.contains(#""atp":\#(fields(sku.standardOutput)["sku:atp"] ?? "?"),"#), "\(stock.prefix(120))")

    try FileManager.default.createDirectory(atPath: outputFolder, withIntermediateDirectories: true)
    for (name, size) in [("operations-page.png", "1280,1500"), ("operations-page-phone.png", "390,2200")] {
        let file = outputFolder + "/" + name
        try? FileManager.default.removeItem(atPath: file)
        let shot = try chromium(
            "http://127.0.0.1:\(port)/#search=W-1", ["--screenshot=\(file)", "--window-size=\(size)", "--hide-scrollbars"],
            profile: directory.file("chrome"))
        #expect(shot.status == 0)
        let png = FileManager.default.contents(atPath: file) ?? Data()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "\(file): \(png.count) bytes")
    }
    #expect(server.stop() == 0)

    // With --auth: the page loads, its data needs a bearer token of a reading role.
    let tokens = directory.file("tokens")
    try "viewer-token-0001 viewer\npos-token-000001 pos:WH-RENO\n".write(toFile: tokens, atomically: true, encoding: .utf8)
    let guarded = try ServerProcess(data: directory.file("guarded"), arguments: ["--auth", tokens, "--http", "127.0.0.1:0"])
    let guardedPort = try httpPort(of: guarded)
    #expect(try await get(guardedPort, "/").status == 200)
    #expect(try await get(guardedPort, "/api/overview").status == 401)
    #expect(try await get(guardedPort, "/api/overview", token: "pos-token-000001").status == 403)
    let overview = try await get(guardedPort, "/api/overview", token: "viewer-token-0001")
    #expect(overview.status == 200 && overview.body.hasPrefix(#"{"status":"ready""#))
    #expect(overview.body.contains(#""setup_missing":"no nodes are configured: NODE.ADD; no carrier services are configured: CARRIER.SET""#))
    #expect(try await get(guardedPort, "/api/order/NOPE", token: "viewer-token-0001") == (404, #"{"error":"NOTFOUND order NOPE"}"#))
    #expect(guarded.stop() == 0)
}
