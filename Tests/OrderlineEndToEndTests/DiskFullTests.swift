import Foundation
import OrderlineTestSupport
import Testing

/// Whether this machine lets us mount a small tmpfs (root on Linux): the disk-full
/// test needs a file system that really fills up.
private let canMountTmpfs: Bool = {
    let probe = TemporaryDirectory("orderline-mount-probe")
    guard (try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]))?.status == 0 else { return false }
    _ = try? runProcess("/bin/umount", [probe.path])
    return true
}()

/// A real disk-full: the server's data directory on a 192 KiB tmpfs, reserving until
/// the WAL cannot write. Then writes get IOERR, reads still work, and exactly the
/// acknowledged reservations are held; `GET /healthz` answers 503 with the reason.
@Test(.enabled(if: canMountTmpfs, "needs root to mount a tmpfs"))
func aFullDiskTurnsWritesIntoIOERRAndKeepsWhatWasAcknowledged() async throws {
    let mountPoint = TemporaryDirectory("orderline-full")
    #expect(try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=192k", "tmpfs", mountPoint.path]).status == 0)
    defer { _ = try? runProcess("/bin/umount", ["-l", mountPoint.path]) }
    let server = try ServerProcess(data: mountPoint.file("data"), arguments: ["--http", "127.0.0.1:0"])
    let http = try httpPort(of: server)
    #expect(try await get(http, "/healthz").status == 200)
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2") == "+OK")
    #expect(try client.call("SKU.ADD", "HOT", "price=1") == "+OK")
    #expect(try client.call("STOCK.SET", "WH", "HOT", "1000000000") == ":1000000000")

    var acknowledged = 0
    var failure = ""
    for _ in 0..<1_000_000 {
        let reply = try client.call("RESERVE", "HOT", "1", "ttl=3600")
        if reply.hasPrefix("$R") {
            acknowledged += 1
        } else {
            failure = reply
            break
        }
    }
    #expect(failure.hasPrefix("-IOERR the log cannot be written"), "\(failure)")
    #expect(acknowledged > 100)
    #expect(try client.call("RESERVE", "HOT", "1").hasPrefix("-IOERR"))
    #expect(try client.call("STOCK.SET", "WH", "HOT", "5").hasPrefix("-IOERR"))
    // Reads are served again once the state is rebuilt from the log as acknowledged
    // (until then they too get IOERR: they could see what never became durable):
    // every acknowledged cart, no other.
    var stock = try client.call("STOCK.GET", "HOT")
    for _ in 0..<500 where stock.hasPrefix("-IOERR") {
        usleep(10_000)
        stock = try client.call("STOCK.GET", "HOT")
    }
    #expect(stock.contains("\"network_reserved\":\(acknowledged),"), "\(stock.prefix(200)) vs \(acknowledged) acknowledged")
    #expect(try client.call("INFO", "persistence").contains("No space left on device"))
    let health = try await get(http, "/healthz")
    #expect(health.status == 503 && health.body.hasPrefix("{\"status\":\"failed\",\"reason\":\"the log cannot be written: "), "\(health)")
    #expect(try await get(http, "/metrics").body.contains("orderline_wal_failed 1"))
    server.stop()
}

/// A snapshot that does not fit: SNAPSHOT answers IOERR and removes its temporary file,
/// and the log goes on. Before, the `.snap.tmp` kept the last free space, the segment
/// roll the snapshot asked for failed, and every write answered IOERR until a restart.
@Test(.enabled(if: canMountTmpfs, "needs root to mount a tmpfs"))
func aSnapshotThatDoesNotFitLeavesTheLogWriting() throws {
    let mountPoint = TemporaryDirectory("orderline-nearly-full")
    #expect(try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint.path]).status == 0)
    defer { _ = try? runProcess("/bin/umount", ["-l", mountPoint.path]) }
    let server = try ServerProcess(data: mountPoint.file("data"), arguments: ["--snapshot-every", "0"])
    let client = try server.client()
    #expect(try client.call("NODE.ADD", "WH", "kind=warehouse", "lat=1", "lon=2") == "+OK")
    // SKUs whose names compress badly, so the snapshot is large.
    var generator = SeededGenerator(seed: 7)
    var batch = ""
    for index in 0..<2_000 {
        let name = (0..<24).map { _ in String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 36) }.joined()
        batch += "SKU.ADD S\(index) price=1 name=\(name.prefix(400))\r\n"
    }
    try client.send(raw: batch)
    for _ in 0..<2_000 { #expect(try client.readReply() == .simple("OK")) }
    #expect(try client.call("STOCK.SET", "WH", "S1", "1000000") == ":1000000")
    // Leave 128 KiB free: room for the log, not for the snapshot.
    var stats = statvfs()
    #expect(statvfs(mountPoint.path, &stats) == 0)
    let free = Int(stats.f_bavail) * Int(stats.f_bsize)
    let filler = mountPoint.file("filler")
    _ = FileManager.default.createFile(atPath: filler, contents: Data(count: free - (128 << 10)))
    let snapshot = try client.call("SNAPSHOT")
    #expect(snapshot.hasPrefix("-IOERR snapshot failed: snapshot at LSN"), "\(snapshot)")
    let names = try FileManager.default.contentsOfDirectory(atPath: mountPoint.file("data"))
    #expect(!names.contains { $0.hasSuffix(".tmp") }, "\(names)")
    for _ in 0..<100 { #expect(try client.call("RESERVE", "S1", "1").hasPrefix("$R")) }
    #expect(try client.call("INFO", "persistence").contains("wal_failure:none"))
    try FileManager.default.removeItem(atPath: filler)
    #expect(try client.call("SNAPSHOT").hasPrefix("+OK "))
    #expect(server.stop() == 0)
}
