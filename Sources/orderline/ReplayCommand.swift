import ArgumentParser
import Foundation
import OrderlineCore
import OrderlineStorage

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild state from a data directory without changing it.",
        discussion: """
            Uses the same recovery code as serve, read-only. --digest prints '<lsn> <hex>' \
            as the last line: the same as DIGEST on the live server at that LSN.
            """)

    @Argument(help: "The data directory.") var directory: String
    @Option(help: "Stop after this LSN.") var until: UInt64?
    @Flag(help: "Check every snapshot and every frame; exit non-zero at the first bad one.") var verify = false
    @Flag(help: "Print '<lsn> <hex digest>' as the last line.") var digest = false
    @Option(help: "Write the replayed events, one JSON object per line.") var export: String?
    @Flag(help: "Ignore snapshots: replay the WAL from its first segment.") var noSnapshot = false
    @Flag(help: "Replay a log that ends before the LSN its CHECKPOINT says was durable (acknowledged events lost).")
    var acceptDataLoss = false
    @Option(help: "Hand the state and each event to this many shards (the digest is the same for any number).")
    var shards = 1

    func validate() throws {
        guard (1...ShardMap.shardCountMax).contains(shards) else { throw ValidationError("--shards must be in 1...\(ShardMap.shardCountMax)") }
    }

    func run() throws {
        let dataDirectory = DataDirectory(path: directory)
        guard FileReader.fileExists(atPath: directory) else { throw fail("no such data directory: \(directory)") }
        if verify {
            do {
                let result = try Recovery.verify(dataDirectory, acceptLostTail: acceptDataLoss)
                print("verified \(result.snapshots) snapshots, \(result.segments) segments, \(result.frames) frames; last LSN \(result.lastLSN)")
                if let leftover = result.leftover { FileHandle.standardError.write(Data("replay: \(leftover)\n".utf8)) }
            } catch {
                throw fail("verify failed: \(error)")
            }
        }

        var options = Recovery.Options(mode: .readOnly)
        options.untilLSN = until
        options.ignoreSnapshots = noSnapshot
        options.acceptLostTail = acceptDataLoss
        options.shardCount = shards
        var exporter: LineWriter?
        if let export {
            guard let writer = LineWriter(path: export) else { throw fail("cannot write \(export)") }
            exporter = writer
        }
        let showProgress = isatty(STDERR_FILENO) != 0
        let started = ContinuousClock.now
        let report: Recovery.Report<ShardedState>
        do {
            report = try Recovery.recover(
                dataDirectory, options: options, as: ShardedState.self,
                onEvent: exporter.map { writer in { lsn, event in writer.write(event.json(lsn: lsn)) } },
                progress: showProgress ? { progress in
                    let percent = progress.bytesTotal > 0 ? 100 * progress.bytesRead / progress.bytesTotal : 100
                    FileHandle.standardError.write(Data("\rreplaying: \(progress.eventsReplayed) events, LSN \(progress.lsn), \(percent)% of the log   ".utf8))
                } : nil)
        } catch {
            throw fail("replay failed: \(error)")
        }
        exporter?.close()
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        if let tail = report.tail { FileHandle.standardError.write(Data("replay: \(tail)\n".utf8)) }
        for skipped in report.skippedSnapshots { FileHandle.standardError.write(Data("replay: skipped snapshot \(skipped)\n".utf8)) }
        let rate = seconds > 0 ? Int(Double(report.eventsReplayed) / seconds) : 0
        print("replayed \(report.eventsReplayed) events after \(report.snapshot ?? "no snapshot") in \(String(format: "%.3f", seconds)) s (\(rate) events/s); lsn=\(report.state.lsn)")
        if digest { print(report.state.digest) }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("orderline replay: \(message)\n".utf8))
        return ExitCode(1)
    }
}

/// Buffered line output to a file, for --export.
final class LineWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { return nil }
        self.handle = handle
    }

    func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 20 { flush() }
    }

    func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        flush()
        try? handle.close()
    }
}
