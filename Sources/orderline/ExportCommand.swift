import ArgumentParser
import Foundation
import OrderlineCore
import OrderlineStorage

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the SKUs, stock levels, nodes or orders of a data directory as CSV.",
        discussion: """
            Reads the data directory read-only, with the same recovery code as serve (a \
            running server's directory too: what is durable when it reads), so it never \
            takes the engine's time and gives one consistent cut, at --until if given. \
            Rows are in id order; the skus, stock and nodes files load back with \
            'orderline import' (stock's reserved, allocated, in_transit and atp columns are \
            derived, and import reads past them).
            """)

    @Argument(help: "The data directory.") var directory: String
    @Option(help: "What to write: skus, stock, nodes or orders (a row per order line).") var kind: CSVKind
    @Option(help: "Export the state after this LSN.") var until: UInt64?
    @Option(name: .shortAndLong, help: "Write here instead of standard output.") var output: String?

    func run() throws {
        guard FileReader.fileExists(atPath: directory) else { throw fail("no such data directory: \(directory)") }
        var options = Recovery.Options(mode: .readOnly)
        options.untilLSN = until
        let state: OrderlineState
        do {
            state = try Recovery.recover(DataDirectory(path: directory), options: options, progress: ReplayProgress.line()).state
        } catch {
            throw fail("cannot read \(directory): \(error)")
        }
        ReplayProgress.clear()
        let rows = kind.rows(of: state)
        let data: Data
        do {
            data = try CSVTable.data(header: kind.columns, rows: rows)
        } catch {
            throw fail("cannot write CSV: \(error)")
        }
        if let output {
            do {
                try data.write(to: URL(fileURLWithPath: output))
            } catch {
                throw fail("cannot write \(output): \(error)")
            }
        } else {
            FileHandle.standardOutput.write(data)
        }
        FileHandle.standardError.write(Data("orderline export: \(rows.count) \(kind.rawValue) rows at LSN \(state.lsn)\n".utf8))
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("orderline export: \(message)\n".utf8))
        return ExitCode(1)
    }
}
