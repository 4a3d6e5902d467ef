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
        // The file is read and turned into requests first; only the requests are kept.
        var outcome = ImportOutcome()
        let (requests, rows) = try requests(into: &outcome)
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
            finish(outcome, rows: rows)
            throw fail("\(error)")
        }
        progress.clear()
        outcome.seconds = (ContinuousClock.now - started) / .seconds(1)
        finish(outcome, rows: rows)
        if !outcome.rejected.isEmpty || outcome.stopped != nil { throw ExitCode(1) }
    }

    /// The file's rows as requests, each checked by the server's own parser (a
    /// malformed row is found here, worded as the server would word it, and never
    /// sent), and how many rows it has; refused rows go into `outcome`.
    private func requests(into outcome: inout ImportOutcome) throws -> (requests: [ImportRequest], rows: Int) {
        let table: CSVTable
        do {
            table = try CSVTable.read(file)
        } catch {
            throw fail(error.description)
        }
        let header = table.header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let known = kind.importedColumns
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw fail("column '\(unknown)' is not one of --kind \(kind.rawValue)'s: \(known.joined(separator: ", ")); nothing was sent")
        }
        if let missing = kind.requiredColumns.first(where: { !header.contains($0) }) {
            throw fail("the header has no column '\(missing)' (required for --kind \(kind.rawValue)); nothing was sent")
        }
        if let twice = header.first(where: { name in header.filter { $0 == name }.count > 1 }) {
            throw fail("the header names column '\(twice)' twice; nothing was sent")
        }
        var requests: [ImportRequest] = []
        var rows = 0
        for record in table.records {
            if record.fields.count == 1, record.fields[0].isEmpty { continue }  // a blank line
            rows += 1
            guard record.fields.count == header.count else {
                outcome.reject(line: record.line, CSVRowProblem(
                    column: nil, rejection: .invalid("the row has \(record.fields.count) fields, the header \(header.count)")))
                continue
            }
            do throws(CSVRowProblem) {
                let (tokens, columns) = try kind.request(Dictionary(uniqueKeysWithValues: zip(header, record.fields)))
                do {
                    _ = try CommandTable.parse(tokens)
                } catch {
                    throw CSVRowProblem(column: Self.column(of: error.description, among: columns), rejection: error)
                }
                requests.append(ImportRequest(line: record.line, tokens: tokens, columns: columns))
            } catch {
                outcome.reject(line: record.line, error)
            }
        }
        return (requests, rows)
    }

    /// Sends the requests a window at a time, the first one alone (a token or a server
    /// that refuses every write is found before anything more is sent). No window
    /// names a SKU, node or stock level twice, so a row answered `LIMIT busy, retry`
    /// (admission control: nothing ran), sent again at the end of its window, is
    /// still applied before any later row of the same key. A refusal that every row
    /// would get (`NOAUTH`, `WRONGPASS`, `NOPERM`, `READONLY`, `LOADING`, `IOERR`) stops the import;
    /// with --all-or-nothing, so does any refusal.
    private func apply(
        _ requests: [ImportRequest], send: ([[String]]) async throws -> [RESPValue],
        into outcome: inout ImportOutcome, progress: ImportProgress
    ) async throws {
        var start = 0
        while start < requests.count {
            var keys = Set<String>()
            var end = start
            let limit = start == 0 ? 1 : Self.window
            while end < requests.count, end - start < limit, keys.insert(kind.key(of: requests[end].tokens)).inserted { end += 1 }
            var pending = Array(requests[start..<end])
            start = end
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
                        if Self.refusesEveryRow(message) { outcome.stopped = (start, message) }
                    }
                }
                pending = busy
                if pending.isEmpty { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            progress.show(done: start, rejected: outcome.rejected.count)
            if allOrNothing, outcome.stopped == nil, let last = outcome.rejected.last { outcome.stopped = (start, last.error) }
            if outcome.stopped != nil { return }
        }
    }

    /// A refusal that is about the connection or the server, not the row.
    static func refusesEveryRow(_ message: String) -> Bool {
        ["NOAUTH", "NOPERM", "READONLY", "LOADING", "IOERR", "WRONGPASS"].contains { message.hasPrefix($0 + " ") }
    }

    /// The summary on standard output; the rejected rows on standard error (the first
    /// 20) and in --report (all).
    private func finish(_ outcome: ImportOutcome, rows: Int) {
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
        if let stopped = outcome.stopped {
            summary += Self.refusesEveryRow(stopped.error)
                ? "; stopped: the server refuses every row (\(stopped.error)); rows past the first \(stopped.sent) were not sent"
                : "; stopped (--all-or-nothing): the server refused a row that had passed the check (another client changed it meanwhile?);"
                    + " the rows sent before it in its window were applied, rows past the first \(stopped.sent) were not sent"
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
    /// The import stopped at a refusal (one every row would get, or any with
    /// --all-or-nothing): how many rows had been sent, and the refusal.
    var stopped: (sent: Int, error: String)?
    var seconds = 0.0

    mutating func reject(line: Int, column: String?, error: String) {
        rejected.append(RejectedRow(line: line, column: column, error: error))
    }

    mutating func reject(line: Int, _ problem: CSVRowProblem) {
        reject(line: line, column: problem.column, error: problem.rejection.description)
    }
}
