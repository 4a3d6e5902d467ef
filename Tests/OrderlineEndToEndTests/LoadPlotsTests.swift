import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OrderlineTestSupport
import Testing

private let load = Executables.path("orderline-load")

/// What an XML parser finds in a chart file: whether it parsed, each chart's axis
/// labels, and the classes of its series (bars or lines).
private final class ChartScan: NSObject, XMLParserDelegate {
    var labels: [String] = []
    var seriesClasses: [Set<String>] = []
    private var labelOpen: String?
    private var text = ""

    static func scan(_ data: Data) -> (parsed: Bool, scan: ChartScan) {
        let scan = ChartScan()
        let parser = XMLParser(data: data)
        parser.delegate = scan
        return (parser.parse(), scan)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let kind = attributes["class"]
        // Each chart is an <svg> with a role; its series are the classed rects and polylines.
        if name == "svg", attributes["role"] == "img" { seriesClasses.append([]) }
        if (name == "rect" || name == "polyline"), let kind, !seriesClasses.isEmpty { seriesClasses[seriesClasses.count - 1].insert(kind) }
        if name == "text", kind == "x-label" || kind == "y-label" {
            labelOpen = kind
            text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if labelOpen != nil { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let open = labelOpen {
            labels.append("\(open): \(text)")
            labelOpen = nil
        }
    }
}

/// `orderline-load … --latency-out`: HdrHistogram's percentile file (every reply
/// counted) and an SVG with the latency by second (p50, p99, max) and the percentile
/// spectrum (one series: the target), valid XML with labelled axes.
@Test(.timeLimit(.minutes(5)))
func aLoadRunWritesItsLatencyDistributionAndCharts() throws {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.file("data"))
    let prefix = directory.file("latency")
    let run = try runProcess(load, ["flash-sale", "--port", "\(server.port)", "-c", "4", "-P", "4", "--attempts", "4000", "--stock", "500", "--latency-out", prefix])
    #expect(run.status == 0, "\(run.standardOutput) \(run.standardError)")
    #expect(server.stop() == 0)

    let percentiles = try String(contentsOfFile: prefix + ".hgrm", encoding: .utf8)
    #expect(percentiles.hasPrefix("       Value     Percentile TotalCount 1/(1-Percentile)"), "\(percentiles.prefix(200))")
    #expect(percentiles.contains("Total count    =         4000]"), "every reply is in the distribution")
    let (parsed, charts) = ChartScan.scan(try Data(contentsOf: URL(fileURLWithPath: prefix + ".svg")))
    #expect(parsed)
    #expect(charts.seriesClasses == [["p50", "p99", "max"], ["orderline"]])
    #expect(charts.labels == ["x-label: second of the run", "y-label: latency (ms)", "x-label: percentile", "y-label: latency (ms)"])
}

/// `orderline-load report` (what `bench-ratios.sh` and `bench-orders.sh` write): per
/// group a bar chart with one series per target and labelled axes, the rounds'
/// figures, and the median per-round ratio of the first target to each other one.
@Test func aBenchmarkReportHasOneSeriesPerTargetAndTheMedianRatios() throws {
    let directory = TemporaryDirectory()
    var rounds = ""
    // The rounds come in the order the script ran the targets (it rotates them), with
    // a blank line and CRLF line ends: the ratios still compare Orderline with each Redis.
    for (round, (orderline, always, none)) in [(200.0, 100.0, 150.0), (300, 100, 200), (100, 100, 100)].enumerated() {
        rounds += "pipeline 16\t\(round + 1)\tredis-always\t\(always)\r\npipeline 16\t\(round + 1)\torderline\t\(orderline)\r\n"
        rounds += "pipeline 16\t\(round + 1)\tredis-none\t\(none)\r\n\r\npipeline 1\t\(round + 1)\torderline\t\(orderline / 10)\r\n"
        rounds += "pipeline 1\t\(round + 1)\tredis-always\t\(always / 10)\r\n"
    }
    try rounds.write(toFile: directory.file("rounds.tsv"), atomically: true, encoding: .utf8)
    let html = directory.file("report.html")
    let made = try runProcess(load, [
        "report", directory.file("rounds.tsv"), "--title", "RESERVE beside Redis", "--html", html,
        "--ratio", "orderline/redis-always", "--ratio", "orderline/redis-none",
    ])
    #expect(made.status == 0, "\(made.standardError)")
    let page = try String(contentsOfFile: html, encoding: .utf8)
    let (parsed, charts) = ChartScan.scan(Data(page.utf8))
    #expect(parsed)
    #expect(charts.seriesClasses == [["redis-always", "orderline", "redis-none"], ["orderline", "redis-always"]])
    #expect(charts.labels == ["x-label: round", "y-label: requests/s", "x-label: round", "y-label: requests/s"])
    // Rounds 2, 3 and 1 against redis-always: median 2; against redis-none 1.33, 1.5, 1.
    #expect(page.contains("orderline ÷ redis-always: median <b>2.00×</b> (rounds: 2.00, 3.00, 1.00)"))
    #expect(page.contains("orderline ÷ redis-none: median <b>1.33×</b>"))

    #expect(!page.contains("redis-always ÷"))

    try "pipeline 16\t1\torderline\t5\n\npipeline 16\t1\torderline\n".write(toFile: directory.file("bad.tsv"), atomically: true, encoding: .utf8)
    let refused = try runProcess(load, ["report", directory.file("bad.tsv"), "--title", "x", "--html", directory.file("bad.html")])
    #expect(refused.status != 0 && refused.standardError.contains("line 3 is not 'group<TAB>round<TAB>target<TAB>value'"), "\(refused.standardError)")
}
