import ArgumentParser
import Foundation
import OrderlineCore
import OrderlineProtocol

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a CSV file of SKUs, stock levels or nodes into a running server.",
        discussion: """
            Each row becomes the write a client would send (SKU.ADD, STOCK.SET, NODE.ADD), \
            pipelined over one connection, so the log records it as any other write. The \
            header row names the columns (docs/OPERATIONS.md, "CSV import and export"); an \
            empty cell leaves its option out. A rejected row is reported with its line, its \
            column and the server's error, and the other rows still go in. With \
            --all-or-nothing every row is checked first (its form, and for stock the \
            server's nodes, SKUs and levels) and none is sent if one fails. Exit status 1 \
            if any row was not applied.
            """)

    @Argument(help: "The CSV file; its first row names the columns.") var file: String
    @Option(help: "What the rows are: skus, stock or nodes.") var kind: CSVKind
    @Option(help: "The server's address.") var host = "127.0.0.1"
    @Option(help: "The server's port.") var port = 7379
    @Option(help: "A file holding the token to AUTH with (a server started with --auth).") var auth: String?
    @Flag(help: "Check every row before sending any; send none if one would be refused.") var allOrNothing = false
    @Option(help: "Also write the rejected rows here, as CSV: line, column, error.") var report: String?

    /// Requests in flight at once: one write out, their replies back.
    static let window = 512

    func validate() throws {
        guard kind.isImportable else {
            throw ValidationError("--kind orders cannot be imported: orders are placed with ORDER.CREATE (orderline export writes them)")
        }
    }

    func run() async throws {
        let table: CSVTable
        do {
            table = try CSVTable.read(file)
        } catch {
            throw fail(error.description)
        }
        let header = table.header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = kind.columns(importing: true)
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw fail("column '\(unknown)' is not one of --kind \(kind.rawValue)'s: \(known.joined(separator: ", ")); nothing was sent")
        }
        if let missing = kind.requiredColumns.first(where: { !header.contains($0) }) {
            throw fail("the header has no column '\(missing)' (required for --kind \(kind.rawValue)); nothing was sent")
        }
        if let twice = header.first(where: { name in header.filter { $0 == name }.count > 1 }) {
            throw fail("the header names column '\(twice)' twice; nothing was sent")
        }

        var outcome = ImportOutcome()
        var requests: [ImportRequest] = []
        for record in table.records {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }  // a blank line
            guard record.fields.count == header.count else {
                outcome.reject(line: record.line, CSVRowProblem(
                    column: nil, rejection: .invalid("the row has \(record.fields.count) fields, the header \(header.count)")))
                continue
            }
            do throws(CSVRowProblem) {
                let (tokens, columns) = try kind.request(Dictionary(uniqueKeysWithValues: zip(header, record.fields)))
                do {
                    // The server's own parser: a malformed row is found here, worded as
                    // the server would word it, and never sent.
                    _ = try CommandTable.parse(tokens)
                } catch {
                    throw CSVRowProblem(column: Self.column(of: error.description, among: columns), rejection: error)
                }
                requests.append(ImportRequest(line: record.line, tokens: tokens, columns: columns))
            } catch {
                outcome.reject(line: record.line, error)
            }
        }

        let token: String?
        do {
            token = try auth.map { try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        } catch {
            throw fail("cannot read --auth \(auth ?? ""): \(error)")
        }
        let started = ContinuousClock.now
        let progress = ImportProgress(total: requests.count)
        do {
            try await ServerConnection(host: host, port: port, token: token).withPipeline { send in
                if allOrNothing {
                    if kind == .stock { try await StockCheck.check(requests, send: send, into: &outcome) }
                    if !outcome.rejected.isEmpty {
                        outcome.refusedWhole = true
                        return
                    }
                }
                try await apply(requests, send: send, into: &outcome, progress: progress)
            }
        } catch {
            progress.clear()
            finish(outcome, table: table)
            throw fail("\(error)")
        }
        progress.clear()
        outcome.seconds = (ContinuousClock.now - started) / .seconds(1)
        finish(outcome, table: table)
        if !outcome.rejected.isEmpty { throw ExitCode(1) }
    }

    /// Sends the requests a window at a time. A `LIMIT busy, retry` (admission control:
    /// nothing ran) is sent again; with --all-or-nothing, a refusal stops what follows.
    private func apply(
        _ requests: [ImportRequest], send: ([[String]]) async throws -> [RESPValue],
        into outcome: inout ImportOutcome, progress: ImportProgress
    ) async throws {
        var start = 0
        while start < requests.count {
            var pending = Array(requests[start..<min(start + Self.window, requests.count)])
            start += pending.count
            for attempt in 0... {
                let replies = try await send(pending.map(\.tokens))
                var busy: [ImportRequest] = []
                for (request, reply) in zip(pending, replies) {
                    guard case .error(let message) = reply else {
                        outcome.applied += 1
                        continue
                    }
                    if message.hasPrefix("LIMIT busy"), attempt < 100 {
                        busy.append(request)
                    } else {
                        outcome.reject(line: request.line, column: Self.column(of: message, among: request.columns), error: message)
                    }
                }
                pending = busy
                if pending.isEmpty { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            progress.show(done: start, rejected: outcome.rejected.count)
            if allOrNothing, !outcome.rejected.isEmpty {
                outcome.stoppedAt = start
                return
            }
        }
    }

    /// The summary on standard output; the rejected rows on standard error (the first
    /// 20) and in --report (all).
    private func finish(_ outcome: ImportOutcome, table: CSVTable) {
        let rows = table.records.filter { !($0.fields.count == 1 && $0.fields[0].isEmpty) }.count
        let rejected = outcome.rejected.sorted { $0.line < $1.line }
        for row in rejected.prefix(20) {
            FileHandle.standardError.write(Data("line \(row.line)\(row.column.map { ", column \($0)" } ?? ""): \(row.error)\n".utf8))
        }
        if rejected.count > 20 { FileHandle.standardError.write(Data("… and \(rejected.count - 20) more rejected rows\n".utf8)) }
        if let report {
            let lines = rejected.map { [String($0.line), $0.column ?? "", $0.error] }
            do {
                try CSVTable.data(header: ["line", "column", "error"], rows: lines).write(to: URL(fileURLWithPath: report))
            } catch {
                FileHandle.standardError.write(Data("orderline import: cannot write \(report): \(error)\n".utf8))
            }
        }
        if outcome.refusedWhole {
            print("imported nothing: \(rejected.count) of \(rows) rows would be refused (--all-or-nothing)")
            return
        }
        let rate = outcome.seconds > 0 ? Int(Double(outcome.applied) / outcome.seconds) : 0
        var summary = "imported \(outcome.applied) of \(rows) rows (\(kind.rawValue)) into \(host):\(port)"
        summary += " in \(String(format: "%.2f", outcome.seconds)) s (\(rate) rows/s); \(rejected.count) rejected"
        if let stoppedAt = outcome.stoppedAt {
            summary += "; stopped after the server refused a row that had passed the check (another client changed it meanwhile?): rows past the first \(stoppedAt) were not sent"
        }
        print(summary)
    }

    /// The column an error names: the argument it counts (`argument 3 of …`), else the
    /// column whose name it mentions first (`price …`, `NOTFOUND node …`).
    static func column(of message: String, among columns: [String?]) -> String? {
        if let range = message.range(of: "argument "),
           let number = Int(message[range.upperBound...].prefix(while: \.isNumber)), columns.indices.contains(number) {
            return columns[number]
        }
        let named = columns.compactMap { $0 }
        return named.compactMap { name -> (String, String.Index)? in
            var searched = message.startIndex..<message.endIndex
            while let found = message.range(of: name, range: searched) {
                let before = found.lowerBound == message.startIndex ? nil : message[message.index(before: found.lowerBound)]
                let after = found.upperBound == message.endIndex ? nil : message[found.upperBound]
                let partOfWord: (Character?) -> Bool = { $0.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
                if !partOfWord(before), !partOfWord(after) { return (name, found.lowerBound) }
                searched = found.upperBound..<message.endIndex
            }
            return nil
        }.min { $0.1 < $1.1 }?.0
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("orderline import: \(message)\n".utf8))
        return ExitCode(1)
    }
}

/// One row's request, and where it came from.
struct ImportRequest {
    var line: Int
    var tokens: [String]
    /// Beside each token, the column it came from (nil for the command's name).
    var columns: [String?]
}

/// What an import did.
struct ImportOutcome {
    struct RejectedRow {
        var line: Int
        var column: String?
        var error: String
    }

    var applied = 0
    var rejected: [RejectedRow] = []
    /// --all-or-nothing found a row that would be refused: nothing was sent.
    var refusedWhole = false
    /// --all-or-nothing: the server refused a row anyway; the rows past this were not sent.
    var stoppedAt: Int?
    var seconds = 0.0

    mutating func reject(line: Int, column: String?, error: String) {
        rejected.append(RejectedRow(line: line, column: column, error: error))
    }

    mutating func reject(line: Int, _ problem: CSVRowProblem) {
        reject(line: line, column: problem.column, error: problem.rejection.description)
    }
}
