import ArgumentParser
import Foundation
import OrderlineCore
import OrderlineStorage

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Write a new data directory holding the state at an LSN or a time (point-in-time restore).",
        discussion: """
            The source is only read. The new directory holds one snapshot at the chosen \
            LSN and no later event, and begins a new replication term; 'orderline serve \
            --data <new-dir>' opens it. 'orderline replay --find <id>' lists the LSNs and \
            times of the events that touched an id, to find the write to restore before.
            """)

    @Argument(help: "The data directory to restore from (read only).") var directory: String
    @Option(help: "The new data directory (it must not exist, or be empty).") var to: String
    @Option(help: "Restore the state after this LSN.") var until: UInt64?
    @Option(help: "Restore the state after the last event at or before this time (YYYY-MM-DDTHH:MM[:SS], Z or ±HH:MM; UTC if none).")
    var before: String?
    @Flag(help: "Restore from a log that ends before the LSN its CHECKPOINT says was durable.") var acceptDataLoss = false

    func validate() throws {
        guard (until == nil) != (before == nil) else { throw ValidationError("give exactly one of --until <lsn> and --before <time>") }
        if let before, CalendarDate.parse(before) == nil {
            throw ValidationError("--before '\(before)' is not a time: YYYY-MM-DDTHH:MM[:SS], then Z or ±HH:MM (none: UTC)")
        }
    }

    func run() throws {
        let source = DataDirectory(path: directory)
        guard FileReader.fileExists(atPath: directory) else { throw fail("no such data directory: \(directory)") }
        let target = DataDirectory(path: to)
        if FileReader.fileExists(atPath: to), !(try FileReader.list(directory: to)).isEmpty {
            throw fail("\(to) is not empty: restore writes a new data directory, and never over one")
        }
        let lsn: LSN
        if let until {
            lsn = until
        } else {
            do {
                lsn = try LogTimeline.lastLSN(atOrBefore: CalendarDate.parse(before!)!, in: source)
            } catch {
                throw fail("cannot place \(before!) in the log: \(error)")
            }
        }
        var options = Recovery.Options(mode: .readOnly)
        options.untilLSN = lsn
        options.acceptLostTail = acceptDataLoss
        let state: OrderlineState
        do {
            state = try Recovery.recover(source, options: options, progress: ReplayProgress.line()).state
        } catch {
            throw fail("cannot rebuild the state at LSN \(lsn): \(error)")
        }
        ReplayProgress.clear()
        guard state.lsn == lsn else { throw fail("the log ends at LSN \(state.lsn), before LSN \(lsn)") }
        do {
            try FileReader.createDirectory(atPath: to)
            if lsn > 0 { _ = try SnapshotFile.write(state, to: target, fileSystem: PosixFileSystem()) }
            try ReplicationHistory.read(in: source).forked(after: lsn).write(in: target)
        } catch {
            throw fail("cannot write \(to): \(error)")
        }
        let time = state.timeLast > 0 ? CalendarDate.formatDateTime(state.timeLast) : "no time stamped yet"
        print("restored LSN \(lsn) (\(time)) into \(to); digest \(state.digest)")
        print("serve it with: orderline serve --data \(to)")
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("orderline restore: \(message)\n".utf8))
        return ExitCode(1)
    }
}
