import Foundation
import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// Concurrent clients reserve; the Nth write or fsync fails. Afterwards: every
/// acknowledged reservation is in the engine's (rebuilt) state and on disk, no
/// reservation whose command failed is in the engine's state, every later write is
/// refused with IOERR, and reads still work.
@Test(arguments: [
    FaultInjectingFileSystem.Fault.diskFullOnWrite(number: 12, bytesWritten: 9),
    .diskFullOnWrite(number: 30, bytesWritten: 0),
    .failedSync(number: 9),
    .failedSync(number: 25),
])
func aFailedWriteIsNeverAcknowledgedAndNothingAcknowledgedIsLost(fault: FaultInjectingFileSystem.Fault) async throws {
    let directory = TemporaryDirectory()
    let fileSystem = FaultInjectingFileSystem(fault)
    let engine = try await openEngine(directory.path, fileSystem: fileSystem)
    for line in ["NODE.ADD WH kind=warehouse lat=1 lon=2", "SKU.ADD HOT price=100", "STOCK.SET WH HOT 100000"] {
        let reply = await run(engine, line)
        #expect(reply == "+OK" || reply.hasPrefix(":"))
    }
    // Each client goes on until the log fails (or 500 tries): how many frames a
    // number of reservations makes depends on how group commit batches them, so a
    // fixed count might end before the Nth write.
    let replies = await withTaskGroup(of: [String].self) { group in
        for _ in 0..<8 {
            group.addTask {
                var replies: [String] = []
                for _ in 0..<500 {
                    replies.append(await run(engine, "RESERVE HOT 1"))
                    if replies.last!.hasPrefix("-IOERR") { break }
                }
                return replies
            }
        }
        return await group.reduce(into: []) { $0 += $1 }
    }
    #expect(fileSystem.hasFired)
    let acknowledged = Set(replies.filter { $0.hasPrefix("$R") }.map { String($0.dropFirst()) })
    let failed = replies.filter { $0.hasPrefix("-IOERR") }
    #expect(!failed.isEmpty)
    #expect(acknowledged.count + failed.count == replies.count, "every reply is an id or IOERR: \(Set(replies.filter { !$0.hasPrefix("$R") && !$0.hasPrefix("-IOERR") }))")

    // Later writes are refused; reads are served from the rebuilt, durable state.
    #expect(await run(engine, "RESERVE HOT 1").hasPrefix("-IOERR"))
    #expect(await run(engine, "STOCK.SET WH HOT 5").hasPrefix("-IOERR"))
    let state = await engine.stateForInspection
    let held = Set(state.reservations.values.filter { $0.status == .held }.map(\.id.description))
    #expect(held == acknowledged, "the engine shows exactly the acknowledged reservations")
    for id in acknowledged.prefix(3) {
        #expect(await run(engine, "RESERVATION.GET \(id)").contains("\"status\":\"held\""))
    }
    await engine.close()

    // On disk: everything acknowledged survived (a torn partial frame is cut off).
    let recovered = try recover(directory.path)
    let recoveredIDs = Set(recovered.state.reservations.keys.map(\.description))
    #expect(acknowledged.isSubset(of: recoveredIDs))
    #expect(recovered.state.checkInvariants())
}

/// A new segment that cannot be created (a full disk) does not stop the log: frames go
/// on into the current segment, and recovery reads them all. Only a log with no
/// segment open at all fails.
@Test func aSegmentThatCannotBeStartedLeavesTheLogWritingTheCurrentOne() async throws {
    let directory = TemporaryDirectory()
    var configuration = WriteAheadLog.Configuration(directory: directory.path)
    configuration.fileSystem = FaultInjectingFileSystem(.failedCreate(number: 2))
    let wal = WriteAheadLog(configuration: configuration, lsnLast: 0)
    let state = try await append(sampleBatches(count: 20), to: wal) { index in
        if index == 5 { wal.rollSegmentAtNextFrame() }
    }
    await wal.close()
    #expect(wal.statistics.failure == nil)
    #expect(try DataDirectory(path: directory.path).segments().count == 1, "the segment that failed is not left behind")
    #expect(try recover(directory.path).state.digest == state.digest)

    let first = TemporaryDirectory()
    configuration.directory = first.path
    configuration.fileSystem = FaultInjectingFileSystem(.failedCreate(number: 1))
    let failing = WriteAheadLog(configuration: configuration, lsnLast: 0)
    await #expect(throws: StorageError.self) { try await failing.waitUntilAcknowledged(try failing.append(sampleBatches(count: 1)[0])) }
    await failing.close()
}

/// The same with orders whose lines and carts sit on three of four shards: in the
/// engine, an order whose write failed is nowhere (not at home, no stock allocated at
/// any shard, its carts still held); every acknowledged one is whole. On disk, an
/// order whose fsync failed may be there (its bytes were written), but only whole.
@Test(arguments: [
    FaultInjectingFileSystem.Fault.diskFullOnWrite(number: 20, bytesWritten: 9),
    .failedSync(number: 20),
])
func aFailedCrossShardOrderIsAppliedNowhere(fault: FaultInjectingFileSystem.Fault) async throws {
    let directory = TemporaryDirectory()
    let fileSystem = FaultInjectingFileSystem(fault, armed: false)
    let engine = try await openEngine(directory.path, fileSystem: fileSystem, shardCount: 4)
    let four = ShardMap(shardCount: 4)
    var spread: [String] = []
    for candidate in (0..<100).map({ "SKU-\($0)" }) where !spread.contains(where: { four.shard(of: $0) == four.shard(of: candidate) }) {
        spread.append(candidate)
        if spread.count == 3 { break }
    }
    let skus = spread
    var setup = [
        "NODE.ADD WH kind=warehouse lat=40.6 lon=-75.5",
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=1000:2,3000:3,5000:5",
    ]
    for sku in skus { setup += ["SKU.ADD \(sku) price=100", "STOCK.SET WH \(sku) 100000"] }
    for line in setup {
        let reply = await run(engine, line)
        #expect(reply == "+OK" || reply.hasPrefix(":"), "\(line): \(reply)")
    }
    // Every cart is held before the fault is armed, so the Nth write from then on
    // carries orders only: each write holds at most one order per client, and 6 × 40
    // orders make at least 40 writes and fsyncs.
    let clients = 6, ordersPerClient = 40
    var carts: [[String]] = []
    for _ in 0..<clients {
        var own: [String] = []
        for _ in 0..<ordersPerClient {
            let cart = await run(engine, "RESERVE \(skus[0]) 1")
            #expect(cart.hasPrefix("$R"), "\(cart)")
            own.append(String(cart.dropFirst()))
        }
        carts.append(own)
    }
    fileSystem.arm()
    let outcomes = await withTaskGroup(of: [(order: String, cart: String, reply: String)].self) { group in
        for (client, own) in carts.enumerated() {
            group.addTask {
                var outcomes: [(order: String, cart: String, reply: String)] = []
                for (attempt, cart) in own.enumerated() {
                    let id = "O-\(client)-\(attempt)"
                    let reply = await run(
                        engine, "ORDER.CREATE \(id) channel=web customer=C-\(client) ship=40.7,-74.0 "
                            + "lines=\(skus[0]):1,\(skus[1]):1,\(skus[2]):2 reservations=\(cart)")
                    outcomes.append((id, cart, reply))
                    if reply.hasPrefix("-IOERR") { break }
                }
                return outcomes
            }
        }
        return await group.reduce(into: []) { $0 += $1 }
    }
    #expect(fileSystem.hasFired)
    let failed = outcomes.filter { $0.reply.hasPrefix("-IOERR") }
    let acknowledged = outcomes.filter { $0.reply.hasPrefix("$") }
    #expect(!failed.isEmpty && !acknowledged.isEmpty)
    let state = await engine.stateForInspection
    await engine.close()
    for (recovered, name) in [(state, "live"), (try recover(directory.path).state, "recovered")] {
        for outcome in acknowledged { #expect(recovered.orders[outcome.order] != nil, "\(name): \(outcome.order) lost") }
        for outcome in failed {
            let cart = recovered.reservations.values.first { $0.id.description == outcome.cart }
            if name == "live" || recovered.orders[outcome.order] == nil {
                #expect(recovered.orders[outcome.order] == nil, "\(name): \(outcome.order) failed yet is there")
                #expect(cart == nil || cart?.status == .held, "\(name): \(outcome.cart) of a failed order")
            } else {
                #expect(cart?.status == .converted, "\(name): \(outcome.order) is there without its cart converted")
            }
        }
        var held: [String: Int64] = [:]
        for order in recovered.orders.values {
            for unit in order.allocations { held[unit.sku, default: 0] += unit.quantity }
        }
        for sku in skus {
            let allocated = recovered.inventory[sku]?.levels.values.reduce(0) { $0 + $1.allocated } ?? 0
            #expect(allocated == held[sku, default: 0], "\(name) \(sku): allocated \(allocated), orders hold \(held[sku, default: 0])")
        }
        #expect(recovered.checkInvariants())
    }
}
