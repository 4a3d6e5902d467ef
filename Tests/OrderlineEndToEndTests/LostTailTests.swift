import Foundation
import OrderlineStorage
import OrderlineTestSupport
import Testing

private let orderline = Executables.path("orderline")

/// A data directory with two segments (a SNAPSHOT starts the second), stopped cleanly
/// or killed, and what its client saw acknowledged.
private func populatedDirectory(kill: Bool = false) throws -> (directory: TemporaryDirectory, lsn: String) {
    let directory = TemporaryDirectory()
    let server = try ServerProcess(data: directory.file("data"), arguments: ["--keep-wal"])
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=1") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "100000") == ":100000")
    #expect(try client.call("SNAPSHOT").hasPrefix("+OK "))
    try client.send(raw: String(repeating: "RESERVE HOT 1 ttl=3600\r\n", count: 3_000))
    for _ in 0..<3_000 { #expect(try client.readReply()?.description.hasPrefix("$R") == true) }
    let digest = try client.call("DIGEST")
    #expect(server.stop(signal: kill ? SIGKILL : SIGTERM) == (kill ? SIGKILL : 0))
    return (directory, String(digest.dropFirst().prefix { $0 != " " }))
}

private func segments(_ directory: String) throws -> [String] {
    try DataDirectory(path: directory).segments().map { directory + "/" + $0.name }
}

@Test func aDeletedLastSegmentIsRefusedNotRolledBack() throws {
    let (directory, lsn) = try populatedDirectory()
    let data = directory.file("data")
    let last = try #require(try segments(data).last)
    try FileManager.default.removeItem(atPath: last)
    // Before, this started at the snapshot's LSN, 3,000 acknowledged carts gone, and
    // --verify said all was well.
    let verify = try runProcess(orderline, ["replay", data, "--verify"])
    #expect(verify.status != 0)
    #expect(verify.standardError.contains("but LSN \(lsn) was durable and acknowledged"), "\(verify.standardError)")
    let start = try runProcess(orderline, ["serve", "--data", data, "--port", "0"])
    #expect(start.status != 0)
    #expect(start.standardError.contains("3000 acknowledged event(s) are missing"), "\(start.standardError)")
    #expect(start.standardError.contains("--accept-data-loss"))
    #expect(try runProcess(orderline, ["replay", data, "--verify", "--accept-data-loss"]).status == 0)
    // Told to, it serves what is left, and from then on checks against that.
    let accepted = try ServerProcess(data: data, arguments: ["--accept-data-loss"])
    #expect(try accepted.client().call("STOCK.GET", "HOT").contains("\"network_reserved\":0,"))
    #expect(accepted.stop() == 0)
    #expect(try runProcess(orderline, ["replay", data, "--verify"]).status == 0)
}

@Test(arguments: [false, true])
func zeroedBlocksAtTheEndOfTheLogAreRefused(killed: Bool) throws {
    let (directory, lsn) = try populatedDirectory(kill: killed)
    let data = directory.file("data")
    let last = try #require(try segments(data).last)
    var bytes = [UInt8](FileManager.default.contents(atPath: last) ?? Data())
    #expect(bytes.count > 4_096 + WALFormat.segmentHeaderBytes)
    for index in (bytes.count - 4_096)..<bytes.count { bytes[index] = 0 }
    _ = FileManager.default.createFile(atPath: last, contents: Data(bytes))
    // Before: a "torn tail" warning, and the events in those blocks were dropped.
    let start = try runProcess(orderline, ["serve", "--data", data, "--port", "0"])
    #expect(start.status != 0)
    #expect(start.standardError.contains("but LSN \(lsn) was durable and acknowledged"), "\(start.standardError)")
    #expect(FileManager.default.contents(atPath: last).map { [UInt8]($0) } == bytes, "nothing was repaired")
}

@Test func leftoverAndMisplacedSegmentsAreNamedForWhatTheyAre() throws {
    let (directory, _) = try populatedDirectory()
    let data = directory.file("data")
    let all = try segments(data)
    // A 0-byte segment after the last (a crash right after creating it): serve removes
    // it as a torn tail, and --verify agrees it is no error.
    let leftover = data + "/" + WALFormat.segmentFileName(firstLSN: 999_999)
    _ = FileManager.default.createFile(atPath: leftover, contents: Data())
    let verify = try runProcess(orderline, ["replay", data, "--verify"])
    #expect(verify.status == 0, "\(verify.standardError)")
    #expect(verify.standardError.contains("holds no frame"))
    try FileManager.default.removeItem(atPath: leftover)
    // A copy of the first segment under a later name overlaps: said so, not "missing".
    let first = try #require(all.first)
    let copy = data + "/" + WALFormat.segmentFileName(firstLSN: 5)
    try FileManager.default.copyItem(atPath: first, toPath: copy)
    let overlap = try runProcess(orderline, ["replay", data, "--verify"])
    #expect(overlap.status != 0)
    #expect(overlap.standardError.contains("starts at LSN 1, expected"), "\(overlap.standardError)")
    #expect(overlap.standardError.contains("it overlaps the segment before it"), "\(overlap.standardError)")
}

/// A loss accepted is recorded at once: a start that then fails for another reason (here
/// the clock) does not leave the old checkpoint to refuse the log again.
@Test func anAcceptedLossIsRecordedEvenIfTheStartFailsLater() throws {
    let directory = TemporaryDirectory()
    let data = directory.file("data")
    let manual = try ServerProcess(data: data, arguments: ["--clock", "manual", "--keep-wal"])
    let client = try manual.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=1") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "10") == ":10")
    _ = try client.call("CLOCK.ADVANCE", String(365 * 86_400))
    #expect(try client.call("RESERVE", "HOT", "1") == "$R1")  // an event that carries the (future) time
    #expect(try client.call("SNAPSHOT").hasPrefix("+OK "))
    #expect(try client.call("RESERVE", "HOT", "1") == "$R2")
    #expect(manual.stop() == 0)
    try FileManager.default.removeItem(atPath: try #require(try segments(data).last))
    let skewed = try runProcess("/usr/bin/timeout", ["20", orderline, "serve", "--data", data, "--port", "0", "--accept-data-loss"])
    #expect(skewed.status != 0 && skewed.status != 124)
    #expect(skewed.standardError.contains("ahead of this machine's clock"), "\(skewed.standardError)")
    // The loss was recorded by the failed start: only the clock is left to accept.
    let again = try ServerProcess(data: data, arguments: ["--accept-clock-skew"])
    #expect(try again.client().call("PING") == "+PONG")
    #expect(again.stop() == 0)
}
