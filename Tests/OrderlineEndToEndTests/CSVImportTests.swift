import Foundation
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")
private let demo = Executables.repositoryRoot + "/Data/csv/"
private let adminToken = "csv-admin-token-0123456789"

private func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

private func importing(_ file: String, _ kind: String, into server: ServerProcess, _ extra: [String] = []) throws -> ProcessResult {
    try runProcess(orderline, ["import", file, "--kind", kind, "--port", "\(server.port)"] + extra)
}

private func exporting(_ kind: String, from server: ServerProcess) throws -> String {
    let result = try runProcess(orderline, ["export", server.dataDirectory, "--kind", kind])
    #expect(result.status == 0, "\(result.standardError)")
    return result.standardOutput
}

/// The demo CSV files go into a server through `orderline import` and come back out of
/// its data directory through `orderline export` as the same rows; a spreadsheet's
/// file (a byte order mark, CRLF line ends, a quoted comma, quote and line break) reads
/// the same; what one server exports loads into another, which exports it again byte
/// for byte.
@Test(.timeLimit(.minutes(5)))
func csvRowsRoundTripThroughImportAndExport() throws {
    let directory = TemporaryDirectory()
    let first = try ServerProcess(data: directory.file("a"))
    for kind in ["nodes", "skus", "stock"] {
        let result = try importing(demo + "\(kind).csv", kind, into: first)
        #expect(result.status == 0, "\(result.standardError)")
        let rows = try text(demo + "\(kind).csv").split(separator: "\n").count - 1
        #expect(result.standardOutput.hasPrefix("imported \(rows) of \(rows) rows (\(kind))"), "\(result.standardOutput)")
    }
    let spreadsheet = directory.file("spreadsheet.csv")
    let quoted = "\u{FEFF}sku,price,weight,name\r\nSKU-XL-1,700,20,\"Mug, \"\"XL\"\"\r\nsecond line\"\r\nSKU-XL-2,800,,\r\n"
    try quoted.write(toFile: spreadsheet, atomically: true, encoding: .utf8)
    #expect(try importing(spreadsheet, "skus", into: first).status == 0)
    #expect(try first.client().call("SKU.GET", "SKU-XL-1").contains(#""name":"Mug, \"XL\"\r\nsecond line""#))

    // Read while the server runs: every acknowledged write is durable.
    #expect(try exporting("nodes", from: first) == text(demo + "nodes.csv"))
    let skus = try exporting("skus", from: first)
    #expect(skus == (try text(demo + "skus.csv")) + "SKU-XL-1,700,20,\"Mug, \"\"XL\"\"\r\nsecond line\",,,\nSKU-XL-2,800,0,,,,\n")
    let stock = try exporting("stock", from: first)
    let stockLines = stock.split(separator: "\n")
    #expect(stockLines.first == "node,sku,on_hand,safety,reserved,allocated,in_transit,atp")
    let settable = stockLines.map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(4).joined(separator: ",") }
    #expect(settable.joined(separator: "\n") + "\n" == (try text(demo + "stock.csv")), "\(stock)")
    #expect(stockLines.contains("WH-DENVER,SKU-CSV-001,240,5,0,0,0,235"))

    // What one server exports, another imports; its export is the same, byte for byte.
    let second = try ServerProcess(data: directory.file("b"))
    for (kind, exported) in [("nodes", try exporting("nodes", from: first)), ("skus", skus), ("stock", stock)] {
        let file = directory.file("exported-\(kind).csv")
        try exported.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try importing(file, kind, into: second)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try exporting(kind, from: second) == exported)
    }
    #expect(first.stop() == 0)
    #expect(second.stop() == 0)
}

/// A bad row is reported (line, column, the server's error) and the good rows still
/// go in; a header with an unknown column, or a file that is not UTF-8, sends nothing;
/// with --all-or-nothing one bad row (a malformed value, an unknown node or SKU, a
/// stock level below what carts hold) sends nothing at all, and the refusal is worded
/// as the server words it. The server runs with --auth and import authenticates.
@Test(.timeLimit(.minutes(5)))
func badRowsAreReportedAndAllOrNothingSendsNone() throws {
    let directory = TemporaryDirectory()
    let tokens = directory.file("tokens")
    try "\(adminToken) admin\n".write(toFile: tokens, atomically: true, encoding: .utf8)
    let tokenFile = directory.file("token")
    try "\(adminToken)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
    let server = try ServerProcess(data: directory.file("data"), arguments: ["--auth", tokens])
    let auth = ["--auth", tokenFile]
    for kind in ["nodes", "skus", "stock"] { #expect(try importing(demo + "\(kind).csv", kind, into: server, auth).status == 0) }
    let client = try server.client()
    #expect(try client.call("AUTH", adminToken) == "+OK")
    // Without the token: the first row alone is refused, and nothing more is sent.
    let unauthenticated = try importing(demo + "skus.csv", "skus", into: server)
    #expect(unauthenticated.status == 1 && unauthenticated.standardError.split(separator: "\n").filter { $0.contains("NOAUTH") }.count == 1)
    #expect(unauthenticated.standardOutput.contains("imported 0 of 5 rows") && unauthenticated.standardOutput.contains("stopped: the server refuses every row"))

    let mixed = directory.file("mixed.csv")
    try """
        sku,price,weight,name
        GOOD-1,100,10,ok
        BAD-1,abc,10,bad price
        GOOD-2,200,20,"two
        lines"
        BAD-2,300
        BAD-3,-5,1,negative
        GOOD-3,300,30,fine

        """.write(toFile: mixed, atomically: true, encoding: .utf8)
    let report = directory.file("report.csv")
    let result = try importing(mixed, "skus", into: server, auth + ["--report", report])
    #expect(result.status == 1)
    #expect(result.standardOutput.hasPrefix("imported 3 of 6 rows (skus)") && result.standardOutput.contains("; 3 rejected"), "\(result.standardOutput)")
    #expect(try text(report) == """
        line,column,error
        3,price,INVALID price 'abc' must be an integer in 0...1000000000000
        6,,"INVALID the row has 2 fields, the header 4"
        7,price,INVALID price '-5' must be an integer in 0...1000000000000

        """)
    #expect(result.standardError.contains("line 3, column price: INVALID price 'abc'"))
    for sku in ["GOOD-1", "GOOD-2", "GOOD-3"] { #expect(try client.call("SKU.GET", sku).hasPrefix("$")) }
    for sku in ["BAD-1", "BAD-2", "BAD-3"] { #expect(try client.call("SKU.GET", sku) == "-NOTFOUND sku \(sku)") }

    let unchanged = try client.call("DIGEST")
    let wrongColumn = directory.file("wrong-column.csv")
    try "sku,prize\nA,1\n".write(toFile: wrongColumn, atomically: true, encoding: .utf8)
    let refusedHeader = try importing(wrongColumn, "skus", into: server, auth)
    #expect(refusedHeader.status == 1 && refusedHeader.standardError.contains("column 'prize' is not one of --kind skus's"))
    let latin1 = directory.file("latin1.csv")
    try (Data("sku,price,name\nA,1,caf".utf8) + Data([0xE9, 0x0A])).write(to: URL(fileURLWithPath: latin1))  // é in Latin-1
    let refusedBytes = try importing(latin1, "skus", into: server, auth)
    #expect(refusedBytes.status == 1 && refusedBytes.standardError.contains("is not UTF-8 text; nothing was sent"), "\(refusedBytes.standardError)")
    #expect(try client.call("DIGEST") == unchanged)

    // Carts hold 30 of SKU-CSV-002 at WH-DENVER: setting its on hand to 20 is refused.
    #expect(try client.call("RESERVE", "SKU-CSV-002", "30", "node=WH-DENVER").hasPrefix("$R"))
    let held = try client.call("DIGEST")
    let stock = directory.file("stock.csv")
    try """
        node,sku,on_hand,safety,expect
        WH-DENVER,SKU-CSV-001,250,,240
        NOWHERE,SKU-CSV-001,10,,
        WH-DENVER,NOSUCH,10,,
        WH-DENVER,SKU-CSV-002,20,,
        WH-DENVER,SKU-CSV-003,36,,35
        WH-DENVER,SKU-CSV-003,37,,35

        """.write(toFile: stock, atomically: true, encoding: .utf8)
    let whole = try importing(stock, "stock", into: server, auth + ["--all-or-nothing", "--report", report])
    #expect(whole.status == 1)
    #expect(whole.standardOutput == "imported nothing: 4 of 6 rows would be refused (--all-or-nothing)\n", "\(whole.standardOutput)")
    #expect(try client.call("DIGEST") == held, "nothing was written")
    let serverSays = try client.call("STOCK.SET", "WH-DENVER", "SKU-CSV-002", "20")
    #expect(try text(report) == """
        line,column,error
        3,node,NOTFOUND node NOWHERE
        4,sku,NOTFOUND sku NOSUCH
        5,on_hand,\(serverSays.dropFirst())
        7,expect,CONFLICT expect=35 but on_hand=36 for SKU-CSV-003 at WH-DENVER

        """)
    // One stock level twice in a file: applied in file order, the last row wins.
    let twice = directory.file("twice.csv")
    try "node,sku,on_hand\nWH-DENVER,SKU-CSV-004,300\nST-BOULDER,SKU-CSV-004,9\nWH-DENVER,SKU-CSV-004,301\n".write(toFile: twice, atomically: true, encoding: .utf8)
    #expect(try importing(twice, "stock", into: server, auth).standardOutput.hasPrefix("imported 3 of 3 rows"))
    #expect(try client.call("STOCK.GET", "SKU-CSV-004", "WH-DENVER").contains(#""on_hand":301"#))
    // Without --all-or-nothing, the server refuses the same rows and the others go in.
    let partial = try importing(stock, "stock", into: server, auth + ["--report", report])
    #expect(partial.status == 1 && partial.standardOutput.hasPrefix("imported 2 of 6 rows (stock)"), "\(partial.standardOutput)")
    #expect(try text(report).split(separator: "\n").dropFirst().map { $0.prefix(2) } == ["3,", "4,", "5,", "7,"])
    #expect(try client.call("STOCK.GET", "SKU-CSV-003", "WH-DENVER").contains(#""on_hand":36"#))
    #expect(server.stop() == 0)
}

/// 100,000 rows go in over one connection and come out again, in id order.
@Test(.timeLimit(.minutes(5)))
func aHundredThousandRowsGoInAndComeOut() throws {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.file("data"))
    let file = directory.file("catalogue.csv")
    let rows = (0..<100_000).map { number in
        let id = String(number + 1_000_000).dropFirst()  // zero-padded to 6 digits: id order is file order
        return "SKU-\(id),\(100 + number % 900),\(number % 5_000),Item \(number),,,"
    }
    let csv = "sku,price,weight,name,limit,sale_start,sale_end\n" + rows.joined(separator: "\n") + "\n"
    try csv.write(toFile: file, atomically: true, encoding: .utf8)
    let result = try importing(file, "skus", into: server)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.hasPrefix("imported 100000 of 100000 rows (skus)"), "\(result.standardOutput)")
    #expect(try server.client().call("SKU.GET", "SKU-099999") == #"${"id":"SKU-099999","price":199,"weight":4999,"name":"Item 99999"}"#)
    #expect(try exporting("skus", from: server) == csv)
    #expect(server.stop() == 0)
}
