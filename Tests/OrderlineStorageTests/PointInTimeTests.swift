import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")

/// A log of the order-heavy random workload (snapshots every 97 events, every segment
/// kept), with what the live engine answered to a few reads and at which LSN.
private func workloadLog(seed: UInt64) async throws -> (directory: TemporaryDirectory, answers: [(lsn: LSN, command: String, reply: String)]) {
    let directory = TemporaryDirectory()
    let clock = ManualClock()
    let engine = try await openEngine(directory.path, clock: clock, snapshotEvery: 97, keepAllSegments: true)
    for command in RandomWorkload.setup(skuCount: 6) { _ = await engine.execute(command) }
    var generator = SeededGenerator(seed: seed)
    var answers: [(LSN, String, String)] = []
    for (index, step) in RandomWorkload.steps(count: 500, skuCount: 6, orderHeavy: true, generator: &generator).enumerated() {
        switch step {
        case .command(let tokens): _ = await engine.execute(tokens)
        case .advanceClock(let seconds): clock.advance(by: seconds)
        }
        if index % 71 == 5 {
            for command in ["STOCK.GET SKU-\(index % 6)", "ORDER.GET O-\(index % 30 + 1)", "KPI"] {
                let reply = await run(engine, command)
                answers.append((await engine.lsn, command, reply))
            }
            answers.append((await engine.lsn, "DIGEST", "$\(try await engine.digest())"))
        }
    }
    await engine.close()
    return (directory, answers)
}

/// `orderline restore --until` at LSNs before the first snapshot, at one, between two,
/// at the end and at two random ones: the restored directory, served, answers `DIGEST` with what `replay --until`
/// prints; it begins a new term. `--before <time>` picks the last event at or before
/// it: the restored state's time is at most that, and the next event's is after it.
@Test(.timeLimit(.minutes(5)))
func restoreGivesTheStateReplayShowsAtThatPoint() async throws {
    let (log, _) = try await workloadLog(seed: 11)
    let lastLSN = try recover(log.path, mode: .readOnly).state.lsn
    let snapshots = try DataDirectory(path: log.path).snapshots().map(\.lsn).sorted()
    #expect(snapshots.count >= 2 && snapshots[0] > 20, "\(snapshots)")
    var generator = SeededGenerator(seed: 11)
    let random = (0..<2).map { _ in LSN.random(in: 1...lastLSN, using: &generator) }
    for lsn in [snapshots[0] - 7, snapshots[0], (snapshots[0] + snapshots[1]) / 2, lastLSN] + random {
        let target = TemporaryDirectory()
        let restored = try runProcess(orderline, ["restore", log.path, "--to", target.file("restored"), "--until", "\(lsn)"])
        #expect(restored.status == 0, "\(restored.standardError)")
        let replayed = try runProcess(orderline, ["replay", log.path, "--until", "\(lsn)", "--digest"])
        let digest = replayed.standardOutput.split(separator: "\n").last.map(String.init) ?? "?"
        #expect(digest.hasPrefix("\(lsn) "))
        #expect(restored.standardOutput.contains("restored LSN \(lsn) ") && restored.standardOutput.contains("digest \(digest)"), "\(restored.standardOutput)")
        let server = try ServerProcess(data: target.file("restored"))
        let client = try server.client()
        #expect(try client.call("DIGEST") == "$\(digest)", "LSN \(lsn)")
        #expect(try client.call("INFO", "replication").contains("term:2:\(lsn + 1)\r\n"), "a new term begins after the restored LSN")
        #expect(server.stop() == 0)
    }
    // The source was only read.
    #expect(try recover(log.path, mode: .readOnly).state.lsn == lastLSN)

    // --before: a time inside the log.
    let middle = try recover(log.path, mode: .readOnly, until: lastLSN / 2).state.timeLast
    let target = TemporaryDirectory()
    let restored = try runProcess(orderline, ["restore", log.path, "--to", target.path, "--before", CalendarDate.formatDateTime(middle)])
    #expect(restored.status == 0, "\(restored.standardError)")
    let picked = try #require(restored.standardOutput.split(separator: " ").dropFirst(2).first.flatMap { LSN($0) })
    #expect(try recover(log.path, mode: .readOnly, until: picked).state.timeLast <= middle)
    #expect(try recover(log.path, mode: .readOnly, until: picked + 1).state.timeLast > middle)

    // Refused: a target that holds something; a time before the log.
    let again = try runProcess(orderline, ["restore", log.path, "--to", target.path, "--until", "5"])
    #expect(again.status != 0 && again.standardError.contains("is not empty"), "\(again.standardError)")
    let both = try runProcess(orderline, ["restore", log.path, "--to", TemporaryDirectory().path, "--until", "5", "--before", "2026-01-01"])
    #expect(both.status != 0 && both.standardError.contains("exactly one of"), "\(both.standardError)")
}

/// `replay --until <lsn> --eval <command>` answers as the live engine answered at that
/// LSN (recorded while the workload ran); a write is refused.
@Test(.timeLimit(.minutes(5)))
func evalAnswersAsTheLiveServerDidAtThatLSN() async throws {
    let (log, answers) = try await workloadLog(seed: 12)
    #expect(answers.count >= 20)
    for lsn in Set(answers.map(\.lsn)).sorted() {
        let asked = answers.filter { $0.lsn == lsn }
        let replay = try runProcess(orderline, ["replay", log.path, "--until", "\(lsn)"] + asked.flatMap { ["--eval", $0.command] })
        #expect(replay.status == 0, "\(replay.standardError)")
        let lines = replay.standardOutput.split(separator: "\n").dropFirst().map(String.init)
        #expect(lines == asked.map(\.reply), "at LSN \(lsn)")
    }
    let write = try runProcess(orderline, ["replay", log.path, "--eval", "RESERVE SKU-1 1"])
    #expect(write.standardOutput.contains("-READONLY --eval answers reads only"), "\(write.standardOutput)")
}

/// The drill the docs walk through: someone sets the wrong stock; `replay --find`
/// names the write, `restore --until` the LSN before it, and the restored server
/// shows the stock as it was and takes writes.
@Test(.timeLimit(.minutes(5)))
func theBadWriteDrill() throws {
    let directory = TemporaryDirectory()
    var server = try ServerProcess(data: directory.file("live"), arguments: ["--keep-wal"])
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=40.6", "lon=-75.5") == "+OK")
    #expect(try client.call("SKU.ADD", "MUG", "price=1200") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "MUG", "500") == ":500")
    for _ in 0..<20 { #expect(try client.call("RESERVE", "MUG", "1").hasPrefix("$R")) }
    #expect(try client.call("STOCK.SET", "WH", "MUG", "25") == ":25")  // the bad write
    for _ in 0..<3 { #expect(try client.call("RESERVE", "MUG", "1").hasPrefix("$R")) }
    #expect(server.stop() == 0)

    let found = try runProcess(orderline, ["replay", directory.file("live"), "--find", "MUG"])
    let setLines = found.standardOutput.split(separator: "\n").filter { $0.contains(" stock_set ") }
    #expect(setLines.count == 2, "\(found.standardOutput)")
    let bad = try #require(setLines.last.flatMap { $0.split(separator: " ").first }.flatMap { LSN($0) })
    #expect(setLines.last?.contains("\"on_hand\":25") == true)
    #expect(found.standardOutput.split(separator: "\n").count == 1 + 1 + 1 + 20 + 3, "SKU, stock ×2, reservations: \(found.standardOutput)")

    let restored = try runProcess(orderline, ["restore", directory.file("live"), "--to", directory.file("restored"), "--until", "\(bad - 1)"])
    #expect(restored.status == 0, "\(restored.standardError)")
    server = try ServerProcess(data: directory.file("restored"))
    let after = try server.client()
    let stock = try after.call("STOCK.GET", "MUG")
    #expect(stock.contains("\"on_hand\":500") && stock.contains("\"network_reserved\":20"), "\(stock)")
    #expect(try after.call("RESERVE", "MUG", "1").hasPrefix("$R"))
    #expect(server.stop() == 0)
}
