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
            as the last line: the same as DIGEST on the live server at that LSN. --eval \
            answers read-only commands against the state at --until (or the end), one \
            line each, as a test script writes replies ('$…', ':…', '-CODE …'). --find \
            lists the events that name an id, with their LSN and time, instead of \
            replaying.
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
    @Option(name: .customLong("eval"), help: "A read-only command to answer against the replayed state (repeatable).")
    var evaluations: [String] = []
    @Option(help: "List the events that name this id (a SKU, node, order, reservation…): '<lsn> <time> <type> <event JSON>'.")
    var find: String?
    @Option(help: "Plan every order of the log again with the ROUTING.SET and CARRIER.SET lines of this file, beside what was decided.")
    var shadowRouting: String?
    @Option(help: "With --shadow-routing: write an HTML report with charts here.")
    var report: String?

    func validate() throws {
        guard (1...ShardMap.shardCountMax).contains(shards) else { throw ValidationError("--shards must be in 1...\(ShardMap.shardCountMax)") }
    }

    func run() throws {
        let dataDirectory = DataDirectory(path: directory)
        guard FileReader.fileExists(atPath: directory) else { throw fail("no such data directory: \(directory)") }
        if let find { return try list(find, in: dataDirectory) }
        if let shadowRouting { return try shadow(shadowRouting, in: dataDirectory) }
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
        let started = ContinuousClock.now
        let report: Recovery.Report<ShardedState>
        do {
            report = try Recovery.recover(
                dataDirectory, options: options, as: ShardedState.self,
                onEvent: exporter.map { writer in { lsn, event in writer.write(event.json(lsn: lsn)) } },
                progress: ReplayProgress.line())
        } catch {
            throw fail("replay failed: \(error)")
        }
        exporter?.close()
        ReplayProgress.clear()
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        if let tail = report.tail { FileHandle.standardError.write(Data("replay: \(tail)\n".utf8)) }
        for skipped in report.skippedSnapshots { FileHandle.standardError.write(Data("replay: skipped snapshot \(skipped)\n".utf8)) }
        let rate = seconds > 0 ? Int(Double(report.eventsReplayed) / seconds) : 0
        print("replayed \(report.eventsReplayed) events after \(report.snapshot ?? "no snapshot") in \(String(format: "%.3f", seconds)) s (\(rate) events/s); lsn=\(report.state.lsn)")
        var state = report.state
        for line in evaluations { print(Self.evaluate(line, in: &state)) }
        if digest { print(report.state.digest) }
    }

    /// `--shadow-routing`: the summary on standard output, the report if asked.
    private func shadow(_ rulesFile: String, in directory: DataDirectory) throws {
        let result: ShadowRouting
        do {
            result = try ShadowRouting.run(directory, changes: try ShadowRouting.changes(inFile: rulesFile), until: until)
        } catch {
            throw fail("shadow routing failed: \(error)")
        }
        print(result.summary)
        if let report {
            do {
                try ShadowRoutingReport.html(result, source: self.directory, rules: rulesFile).write(toFile: report, atomically: true, encoding: .utf8)
            } catch {
                throw fail("cannot write \(report): \(error)")
            }
            FileHandle.standardError.write(Data("replay: report written to \(report)\n".utf8))
        }
    }

    /// `--find`: every event, from the oldest the segments hold, whose JSON has `id` as
    /// a whole value.
    private func list(_ id: String, in directory: DataDirectory) throws {
        // Ids are identifiers (no quote, no backslash): quoted, they match whole values only.
        let needle = "\"" + id + "\""
        var matches = 0
        do {
            try LogTimeline.scan(directory) { lsn, event, time in
                if let until, lsn > until { return false }
                let json = event.json(lsn: lsn)
                if json.contains(needle) {
                    matches += 1
                    print("\(lsn) \(time.map(CalendarDate.formatDateTime) ?? "-") \(event.name) \(json)")
                }
                return true
            }
        } catch {
            throw fail("cannot read the log: \(error)")
        }
        FileHandle.standardError.write(Data("replay: \(matches) events name '\(id)'\n".utf8))
    }

    /// A read-only command against the replayed state, answered as the live server
    /// answered it at that LSN (its time: the log's last one); writes are refused.
    static func evaluate(_ line: String, in state: inout ShardedState) -> String {
        let command: Command
        do {
            let tokens = try InlineTokenizer.tokenize(line)
            if tokens.first?.uppercased() == "DIGEST", tokens.count == 1 { return "$\(state.digest)" }
            command = try CommandTable.parse(tokens)
        } catch {
            return "-\(error)"
        }
        guard command.isRead else { return "-READONLY --eval answers reads only: the replayed state is never changed" }
        let reply = state.listRendering(command).map { $0.map { $0.reply() } }
            ?? state.decide(command, context: state.decisionContext(now: state.timeLast)).map(\.reply)
        switch reply {
        case .success(let reply): return reply.description
        case .failure(let rejection): return "-\(rejection)"
        }
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
