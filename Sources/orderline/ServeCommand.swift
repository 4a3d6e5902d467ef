import ArgumentParser
import Foundation
import Logging
import OrderlineCore
import OrderlineServer
import OrderlineStorage

extension FsyncPolicy: ExpressibleByArgument {}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Recover the data directory and serve it.",
        discussion: """
            Recovery loads the newest valid snapshot and replays the WAL after it; a torn \
            last frame is cut off and reported; a damaged frame with valid data after it \
            stops the start (see --truncate-corrupt). The RESP listener arrives with the \
            flash-sale work; until then serve recovers, seeds, reports and exits.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 7379
    @Option(help: "Data directory (created if missing).") var data = "./orderline-data"
    @Option(help: "always | interval | never") var fsync: FsyncPolicy = .always
    @Option(help: "A directory of command files applied once to an empty data directory (Data/ holds the demo).")
    var seed: String?
    @Option(help: "system | manual") var clock = "system"
    @Option(help: "Snapshot after this many events (0: only on demand).") var snapshotEvery = 1_000_000
    @Option(help: "Snapshots kept; WAL segments covered by the oldest kept one are removed.") var snapshotsKept = 2
    @Flag(help: "Keep every WAL segment (for drills that replay from LSN 1).") var keepWal = false
    @Flag(help: "Cut the WAL at a corrupt frame instead of refusing to start (loses what follows).")
    var truncateCorrupt = false

    func validate() throws {
        guard clock == "system" || clock == "manual" else { throw ValidationError("--clock must be system or manual") }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") }
        guard snapshotsKept >= 1 else { throw ValidationError("--snapshots-kept must be at least 1") }
        guard snapshotEvery >= 0 else { throw ValidationError("--snapshot-every must not be negative") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var configuration = Engine.Configuration(dataDirectory: data)
        configuration.fsyncPolicy = fsync
        configuration.snapshotEveryEvents = snapshotEvery
        configuration.snapshotsKept = snapshotsKept
        configuration.keepAllSegments = keepWal
        configuration.truncateAtCorruption = truncateCorrupt
        let clock: any EngineClock = clock == "manual" ? ManualClock() : SystemClock()

        let started = ContinuousClock.now
        let engine: Engine
        let report: Recovery.Report
        do {
            (engine, report) = try await Engine.open(configuration, clock: clock)
        } catch {
            FileHandle.standardError.write(Data("orderline: cannot start: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let recoveryTime = ContinuousClock.now - started
        if let tail = report.tail { FileHandle.standardError.write(Data("orderline: \(tail)\n".utf8)) }
        for skipped in report.skippedSnapshots {
            FileHandle.standardError.write(Data("orderline: skipped snapshot \(skipped)\n".utf8))
        }
        if let seed, report.state.lsn == 0 {
            let applied = try await SeedLoader.apply(directory: seed, to: engine)
            print("seeded \(applied) commands from \(seed)")
        }
        let lsn = await engine.lsn
        print(
            "recovered lsn=\(lsn) in \(recoveryTime.formatted(.units(allowed: [.milliseconds, .seconds])))"
                + " (snapshot: \(report.snapshot ?? "none"), replayed \(report.eventsReplayed) events"
                + " from \(report.segmentsRead) segments)")
        await engine.close()
        print("the RESP listener on \(host):\(port) is not built yet; exiting after recovery")
    }
}

/// Applies a seed directory: every `*.txt` file in name order, one inline command per
/// line, `#` starting a comment line. Stops at the first rejected command.
enum SeedLoader {
    static func apply(directory: String, to engine: Engine) async throws -> Int {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted()
        guard !files.isEmpty else { throw ValidationError("seed directory \(directory) has no .txt command files") }
        var applied = 0
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let tokens = try InlineTokenizer.tokenize(trimmed)
                if case .failure(let rejection) = await engine.execute(tokens) {
                    throw ValidationError("\(file):\(index + 1): \(rejection)")
                }
                applied += 1
            }
        }
        return applied
    }
}
