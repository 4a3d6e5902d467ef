import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")

/// Builds a data directory with the seeded demo through the real `serve`, stopped
/// with SIGTERM (which must exit 0).
private func seededDirectory() throws -> TemporaryDirectory {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.path, arguments: ["--seed", Executables.repositoryRoot + "/Data/seed"])
    #expect(try server.client().call("PING") == "+PONG")
    #expect(server.stop() == 0, "\(server.standardError)")
    #expect(server.standardError.contains("stopped cleanly"))
    return directory
}

@Test func serveSeedsOnceAndRecoversTheSameState() throws {
    let directory = try seededDirectory()
    let first = try runProcess(orderline, ["replay", directory.path, "--digest"])
    #expect(first.status == 0)
    let again = try ServerProcess(data: directory.path, arguments: ["--seed", Executables.repositoryRoot + "/Data/seed"])
    let client = try again.client()
    let live = try client.call("DIGEST")
    #expect(again.stop() == 0)
    let second = try runProcess(orderline, ["replay", directory.path, "--digest"])
    #expect(first.standardOutput.split(separator: "\n").last == second.standardOutput.split(separator: "\n").last, "a seed applies only to an empty directory")
    #expect(live == "$" + (second.standardOutput.split(separator: "\n").last.map(String.init) ?? ""))
    let state = try Recovery.recover(DataDirectory(path: directory.path), options: .init(mode: .readOnly)).state
    #expect(state.skus.count >= 1_000)
    #expect(state.nodes.count >= 10)
    #expect(state.rateCard.services.count >= 6)
    #expect(Set(state.rateCard.services.map(\.carrier)).count >= 3)
    #expect(state.routingRules.splitPenaltyCents == 450)
    #expect(state.checkInvariants())
}

@Test func replayPrintsTheDigestVerifiesAndExports() throws {
    let directory = try seededDirectory()
    let state = try Recovery.recover(DataDirectory(path: directory.path), options: .init(mode: .readOnly)).state
    let export = directory.file("events.jsonl")
    let replay = try runProcess(orderline, ["replay", directory.path, "--verify", "--digest", "--export", export])
    #expect(replay.status == 0, "\(replay.standardError)")
    #expect(replay.standardOutput.split(separator: "\n").last.map(String.init) == state.digest.description)
    let lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == Int(state.lsn))
    #expect(lines.first?.hasPrefix(#"{"lsn":1,"type":"node_upserted""#) == true)

    let until = try runProcess(orderline, ["replay", directory.path, "--digest", "--until", "25"])
    #expect(until.standardOutput.split(separator: "\n").last?.hasPrefix("25 ") == true)
}

@Test func corruptionStopsServeAndVerifyNamingFileAndOffset() throws {
    let directory = try seededDirectory()
    let segment = try #require(try DataDirectory(path: directory.path).segments().first)
    var bytes = [UInt8](FileManager.default.contents(atPath: directory.file(segment.name))!)
    let offset = WALFormat.segmentHeaderBytes + 20  // inside the first frame's header
    bytes[offset] ^= 0x01
    _ = FileManager.default.createFile(atPath: directory.file(segment.name), contents: Data(bytes))

    let verify = try runProcess(orderline, ["replay", directory.path, "--verify"])
    #expect(verify.status != 0)
    #expect(verify.standardError.contains(segment.name))
    #expect(verify.standardError.contains("offset \(WALFormat.segmentHeaderBytes)"))

    let serve = try runProcess(orderline, ["serve", "--data", directory.path])
    #expect(serve.status != 0)
    #expect(serve.standardError.contains("offset \(WALFormat.segmentHeaderBytes)"))
    #expect(FileManager.default.contents(atPath: directory.file(segment.name)).map { [UInt8]($0) } == bytes, "a refused start changes nothing")

    let truncating = try ServerProcess(data: directory.path, arguments: ["--truncate-corrupt"])
    #expect(try truncating.client().call("PING") == "+PONG")
    #expect(truncating.stop() == 0)
    #expect(truncating.standardError.contains("corrupt frame"))
}

@Test func aLockedDataDirectoryRefusesASecondServer() throws {
    let directory = TemporaryDirectory()
    let lock = try DataDirectoryLock(directory: DataDirectory(path: directory.path))
    let serve = try runProcess(orderline, ["serve", "--data", directory.path])
    #expect(serve.status != 0)
    #expect(serve.standardError.contains("in use by another server"))
    withExtendedLifetime(lock) {}
}

/// Deleting `LOCK` under a running server does not let a second one in: the directory
/// itself is locked. (Before, both served, handing out the same reservation ids.)
@Test func deletingTheLockFileDoesNotLetASecondServerIn() throws {
    let directory = TemporaryDirectory()
    let first = try ServerProcess(data: directory.path)
    try FileManager.default.removeItem(atPath: directory.file("LOCK"))
    let second = try runProcess(orderline, ["serve", "--data", directory.path, "--port", "0"])
    #expect(second.status != 0)
    #expect(second.standardError.contains("in use by another server"), "\(second.standardError)")
    #expect(try first.client().call("PING") == "+PONG")
    #expect(first.stop() == 0)
}

@Test func badFlagsAreRefusedClearly() throws {
    let result = try runProcess(orderline, ["serve", "--fsync", "sometimes"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("fsync"))
    let timeout = try runProcess(orderline, ["serve", "--auth-timeout", "99999999999"])
    #expect(timeout.status != 0)
    #expect(timeout.standardError.contains("timeouts are at most 86400 seconds"), "\(timeout.standardError)")
}

@Test func aBadSeedLogsNothingAndAnInterruptedOneIsRefused() throws {
    let directory = TemporaryDirectory()
    let seed = directory.file("seed")
    try FileManager.default.createDirectory(atPath: seed, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: seed + "/01.txt", contents: Data("""
        NODE.ADD WH kind=warehouse lat=1 lon=2
        SKU.ADD S1 price=5
        STOCK.SET WH S2 3
        """.utf8))
    let data = directory.file("data")
    let bad = try runProcess(orderline, ["serve", "--data", data, "--port", "0", "--seed", seed])
    #expect(bad.status != 0)
    #expect(bad.standardError.contains("01.txt:3: NOTFOUND sku S2"))
    #expect(try DataDirectory(path: data).segments().isEmpty, "nothing of a bad seed is logged")

    // A crash mid-seed leaves the marker: the next start refuses the half-seeded data.
    _ = FileManager.default.createFile(atPath: data + "/SEEDING", contents: Data())
    let interrupted = try runProcess(orderline, ["serve", "--data", data, "--port", "0", "--seed", seed])
    #expect(interrupted.status != 0)
    #expect(interrupted.standardError.contains("cut short by a crash"))
}

/// A log written with a clock 15 years ahead, then served with the system clock: the
/// start is refused, naming the date (before, time stood still until 2041 and a ttl=1
/// reservation stayed held). A manual clock goes on from the log's last time.
@Test func aLogFromTheFutureIsRefusedAndAManualClockGoesOnFromTheLog() throws {
    let directory = TemporaryDirectory()
    let manual = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    let client = try manual.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=1") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "10") == ":10")
    var future = ""
    for _ in 0..<15 { future = try client.call("CLOCK.ADVANCE", String(365 * 86_400)) }  // a year at most per call
    #expect(try client.call("RESERVE", "HOT", "1", "ttl=60") == "$R1")
    #expect(manual.stop() == 0)

    let system = try runProcess("/usr/bin/timeout", ["20", orderline, "serve", "--data", directory.path, "--port", "0"])
    #expect(system.status != 0 && system.status != 124)
    #expect(system.standardError.contains("ahead of this machine's clock"), "\(system.standardError)")
    #expect(system.standardError.contains("--accept-clock-skew"))

    // Restarted on a manual clock, time goes on from the log: 30 s later the cart is
    // still held, 61 s later it has expired.
    let again = try ServerProcess(data: directory.path, arguments: ["--clock", "manual"])
    let second = try again.client()
    let after30 = try second.call("CLOCK.ADVANCE", "30")
    #expect(after30 == ":" + String((Int64(future.dropFirst()) ?? 0) + 30), "\(future) then \(after30)")
    #expect(try second.call("RESERVATION.GET", "R1").contains("\"status\":\"held\""))
    _ = try second.call("CLOCK.ADVANCE", "31")
    #expect(try second.call("RESERVATION.GET", "R1").contains("\"status\":\"expired\""))
    #expect(again.stop() == 0)

    let accepted = try ServerProcess(data: directory.path, arguments: ["--accept-clock-skew"])
    #expect(try accepted.client().call("PING") == "+PONG")
    #expect(accepted.standardError.contains("ahead of the clock"))
    #expect(accepted.stop() == 0)
}
