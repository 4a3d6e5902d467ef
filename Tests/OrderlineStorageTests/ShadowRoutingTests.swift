import Foundation
import FoundationXML
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")

/// The demo data (`Data/seed`) and 200 orders of 1–3 demo SKUs to places across the
/// USA, over four days, logged by a live engine.
private func demoOrderLog() async throws -> TemporaryDirectory {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock, keepAllSegments: true)
    let seed = Executables.repositoryRoot + "/Data/seed"
    var skus: [String] = []
    for file in try FileManager.default.contentsOfDirectory(atPath: seed).sorted() where file.hasSuffix(".txt") {
        for line in try String(contentsOfFile: seed + "/" + file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let tokens = try InlineTokenizer.tokenize(line)
            guard !tokens.isEmpty else { continue }
            if tokens[0] == "SKU.ADD", skus.count < 60, !tokens[1].hasPrefix("FLASH") { skus.append(tokens[1]) }
            _ = await engine.execute(tokens)
        }
    }
    #expect(skus.count == 60)
    var generator = SeededGenerator(seed: 7)
    var placed = 0
    for index in 0..<200 {
        if index % 50 == 49 { clock.advance(by: 86_400) }
        let lines = (0..<Int.random(in: 1...3, using: &generator)).map { _ in skus.randomElement(using: &generator)! }
        let ship = String(format: "%.4f,%.4f", Double.random(in: 26...48, using: &generator), Double.random(in: -122 ... -70, using: &generator))
        let reply = await run(engine, "ORDER.CREATE O-\(index) channel=web customer=C-\(index % 17) lines=\(Set(lines).map { "\($0):1" }.joined(separator: ",")) ship=\(ship) reply=id")
        if reply.hasPrefix("$O-") { placed += 1 }
    }
    #expect(placed > 150, "most orders are placed")
    await engine.close()
    return directory
}

/// A `<measure> actual=<a> shadow=<b>` line of the summary.
private func measure(_ summary: String, _ name: String) -> (actual: Double, shadow: Double)? {
    guard let line = summary.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return nil }
    let values = line.split(separator: " ").dropFirst().compactMap { $0.split(separator: "=").last.flatMap { Double($0) } }
    return values.count == 2 ? (values[0], values[1]) : nil
}

/// `replay --shadow-routing`: the same rules as the demo's plan every order as it was
/// planned (a zero diff); `strategy=fastest` instead of `cost` costs more and promises
/// sooner; the report is well-formed XHTML with three labelled charts of both series.
@Test(.timeLimit(.minutes(5)))
func shadowRoutingComparesOtherRulesWithWhatWasDecided() async throws {
    let log = try await demoOrderLog()
    let rules = TemporaryDirectory()
    let same = rules.file("same.txt")
    try "# the demo's own rules\nROUTING.SET strategy=cost split=yes split_penalty=450 ship_from_store=yes\n".write(toFile: same, atomically: true, encoding: .utf8)
    let identical = try runProcess(orderline, ["replay", log.path, "--shadow-routing", same])
    #expect(identical.status == 0, "\(identical.standardError)")
    #expect(identical.standardOutput.contains(" orders planned again, 0 differently, 0 could not be"), "\(identical.standardOutput)")
    let cost = try #require(measure(identical.standardOutput, "shipping_cost_cents"))
    #expect(cost.actual == cost.shadow && cost.actual > 0)

    let fastest = rules.file("fastest.txt")
    try "ROUTING.SET strategy=fastest\n".write(toFile: fastest, atomically: true, encoding: .utf8)
    let report = rules.file("report.html")
    let compared = try runProcess(orderline, ["replay", log.path, "--shadow-routing", fastest, "--report", report])
    #expect(compared.status == 0, "\(compared.standardError)")
    let costs = try #require(measure(compared.standardOutput, "shipping_cost_cents"))
    let days = try #require(measure(compared.standardOutput, "promised_days_mean"))
    #expect(costs.shadow > costs.actual, "the fastest nodes cost more: \(compared.standardOutput)")
    #expect(days.shadow <= days.actual, "and promise no later: \(compared.standardOutput)")

    let html = try String(contentsOfFile: report, encoding: .utf8)
    let parser = XMLParser(data: Data(html.utf8))
    #expect(parser.parse(), "the report is well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
    #expect(html.components(separatedBy: "<svg ").count - 1 == 3)
    #expect(html.components(separatedBy: "class=\"x-label\"").count - 1 == 3 && html.components(separatedBy: "class=\"y-label\"").count - 1 == 3)
    #expect(html.contains("<rect class=\"actual\"") && html.contains("<rect class=\"shadow\""))
    #expect(html.contains("Orders routed differently"))

    let wrong = rules.file("wrong.txt")
    try "RESERVE SKU-1 1\n".write(toFile: wrong, atomically: true, encoding: .utf8)
    let refused = try runProcess(orderline, ["replay", log.path, "--shadow-routing", wrong])
    #expect(refused.status != 0 && refused.standardError.contains("only ROUTING.SET and CARRIER.SET"), "\(refused.standardError)")
}
