import Foundation
@testable import OrderlineCore
import OrderlineServer
import OrderlineStorage
import OrderlineTestSupport
import Testing

// Golden fixtures: data directories written by earlier builds, committed under
// Tests/Fixtures/v<N>/ with the answers they gave. Every build must still open each of
// them and give the same answers: users' data must stay readable. When the encoding
// changes, `Event.codecVersion` goes up, the reader keeps reading the old version, and
// a new fixture is written beside the old ones:
//
//     ORDERLINE_WRITE_FIXTURE=v2 swift test --filter writeTheGoldenFixture

private let fixturesRoot = Executables.repositoryRoot + "/Tests/Fixtures"

/// The workload a fixture records: every kind of event, before a snapshot and again
/// after it, on a manual clock (`+<seconds>` lines move it).
private let workload = """
    NODE.ADD WH kind=warehouse lat=40.7128 lon=-74.006 capacity=1000 cost=250
    NODE.ADD ST kind=store lat=40.7484 lon=-73.9857 pickup=yes
    NODE.ADD DS kind=dropship lat=39.95 lon=-75.16
    SKU.ADD HOT price=4999 weight=400 "name=Game console ☕"
    SKU.ADD MUG price=1500 weight=300 name=Mug
    STOCK.SET WH HOT 100 safety=2
    STOCK.SET ST HOT 20
    STOCK.SET WH MUG 50
    STOCK.SET DS MUG 10
    STOCK.ADJUST WH MUG -5 reason=shrink
    CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5
    CARRIER.SET AIR express base=1500 per_km=300 per_kg=100 bands=1000:1,5000:2
    ROUTING.SET split_penalty=450 backorder=yes
    FRAUD.SET amount_max=500000 orders_max=20 window=3600 distance_max=5000 block=C-BAD
    RESERVE HOT 2 ttl=600 idem=cart-1
    RESERVE HOT 1 node=ST ttl=120
    COMMIT R2 idem=sale-1
    RESERVE MUG 1 ttl=60
    RELEASE R3
    RESERVE MUG 2 ttl=30
    +31
    STOCK.TRANSFER WH ST MUG 5 idem=move-1
    TRANSFER.RECEIVE T1
    ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:2 ship=40.73,-73.99 "address=1 Main St" reservations=R1 payment=tok_visa_4242
    ORDER.HOLD O-1 reason=check
    ORDER.UNHOLD O-1
    ORDER.CREATE O-2 channel=mobile customer=C-2 lines=MUG:1 ship=40.73,-73.99 payment=tok_mc_5555
    ORDER.EDIT O-2 lines=MUG:2
    ORDER.CREATE O-3 channel=pos customer=C-3 lines=HOT:1 mode=pickup store=ST
    ORDER.CANCEL O-3 reason=changed
    ORDER.CREATE O-4 channel=b2b customer=C-4 lines=MUG:500 ship=40.73,-73.99
    ORDER.CREATE O-5 channel=web customer=C-BAD lines=MUG:1 ship=40.73,-73.99 payment=tok_decline
    SHIPMENT.PICK O-1-S1
    SHIPMENT.PACK O-1-S1
    SHIPMENT.SHIP O-1-S1
    +3600
    SHIPMENT.DELIVER O-1-S1
    RETURN.OPEN O-1 lines=HOT:1 node=ST "reason=too big" exchange=MUG:1
    RETURN.RECEIVE O-1-R1 condition=resellable
    RESERVE HOT 1 ttl=86400
    SNAPSHOT
    NODE.ADD WH2 kind=warehouse lat=34.05 lon=-118.24
    SKU.ADD CUP price=900 weight=100 name=Cup
    STOCK.SET WH2 CUP 40
    STOCK.ADJUST WH2 CUP 3 reason=receipt
    CARRIER.SET GROUND nextday base=2500 per_km=400 per_kg=200 bands=800:1
    ROUTING.SET strategy=fastest
    FRAUD.SET unblock=C-BAD
    RESERVE CUP 3 ttl=900 idem=cart-2
    RESERVE CUP 1 node=WH2 ttl=60
    COMMIT R7
    RESERVE CUP 1 ttl=60
    RELEASE R8
    RESERVE CUP 1 ttl=10
    +11
    STOCK.TRANSFER WH2 WH CUP 2
    TRANSFER.RECEIVE T2
    ORDER.CREATE O-6 channel=marketplace customer=C-6 lines=CUP:3 ship=34.1,-118.3 reservations=R6 payment=tok_amex_0005
    ORDER.HOLD O-6 reason=verify
    ORDER.UNHOLD O-6
    ORDER.EDIT O-6 "address=2 Side St"
    ORDER.CREATE O-7 channel=callcenter customer=C-7 lines=CUP:1 ship=34.1,-118.3
    ORDER.CANCEL O-7
    SHIPMENT.PICK O-6-S1
    SHIPMENT.PACK O-6-S1
    SHIPMENT.SHIP O-6-S1 carrier=GROUND service=nextday tracking=TRK-1
    +86400
    SHIPMENT.DELIVER O-6-S1
    RETURN.OPEN O-6 lines=CUP:1
    RETURN.RECEIVE O-6-R1 condition=damaged
    SKU.ADD DROP price=2500 weight=100 name=Drop limit=2 sale_start=1767300000 sale_end=1767400000
    STOCK.SET WH2 DROP 50
    RESERVE DROP 2 customer=C-9 ttl=3600
    RESERVE DROP 1 customer=C-8
    SNAPSHOT
    RESERVE CUP 1 customer=C-9
    """

/// What each fixture must still answer, in script form (`> command`, then the reply).
private let questions = [
    "NODE.LIST", "SKU.GET HOT", "STOCK.GET HOT", "STOCK.GET MUG", "STOCK.GET CUP", "RESERVATION.GET R1", "RESERVATION.GET R2",
    "RESERVATION.GET R4", "RESERVATION.GET R5", "RESERVATION.GET R9", "TRANSFER.GET T1", "TRANSFER.GET T2", "ROUTING.GET", "CARRIER.LIST", "FRAUD.GET",
    "ORDER.GET O-1", "ORDER.GET O-1-R1-X", "ORDER.GET O-2", "ORDER.GET O-3", "ORDER.GET O-4", "ORDER.GET O-5", "ORDER.GET O-6",
    "ORDER.EXPLAIN O-1", "ORDER.STATUS O-6", "INVOICE.GET O-1", "RETURN.GET O-1-R1", "RETURN.GET O-6-R1", "SHIPMENT.GET O-6-S1",
    "SHIPMENT.LIST node=WH", "SHIPMENT.LIST node=ST", "ORDER.LIST", "ORDER.LIST status=backordered", "KPI", "KPI channel=web",
    // From v2 on (sale terms, a cart's customer):
    "SKU.GET DROP", "RESERVATION.GET R10", "RESERVATION.GET R11", "RESERVATION.GET R12", "RESERVE DROP 1 customer=C-9",
]

/// Runs the workload against a fresh engine in `directory` (every segment kept) and
/// returns the answers, the digest first.
private func record(in directory: String) async throws -> String {
    let clock = ManualClock()
    let engine = try await openEngine(directory, clock: clock, keepAllSegments: true)
    for line in workload.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
        if line.hasPrefix("+") {
            clock.advance(by: Int64(line.dropFirst())!)
        } else if line == "SNAPSHOT" {
            try await engine.snapshot()
        } else {
            let reply = await run(engine, line)
            try #require(!reply.hasPrefix("-"), "\(line): \(reply)")
        }
    }
    _ = await engine.tick()
    var answers = "> DIGEST\n\(try await engine.digest())\n"
    for question in questions { answers += "> \(question)\n\(await run(engine, question))\n" }
    await engine.close()
    return answers
}

@Test(.enabled(if: ProcessInfo.processInfo.environment["ORDERLINE_WRITE_FIXTURE"] != nil, "writes a new fixture when asked"))
func writeTheGoldenFixture() async throws {
    let version = ProcessInfo.processInfo.environment["ORDERLINE_WRITE_FIXTURE"]!
    let target = fixturesRoot + "/" + version
    #expect(!FileManager.default.fileExists(atPath: target), "\(target) exists: a fixture is never rewritten")
    try FileManager.default.createDirectory(atPath: target + "/data", withIntermediateDirectories: true)
    let answers = try await record(in: target + "/data")
    try? FileManager.default.removeItem(atPath: target + "/data/LOCK")
    try answers.write(toFile: target + "/answers.txt", atomically: true, encoding: .utf8)
}

/// The fixtures committed, oldest first.
private let fixtures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: fixturesRoot)) ?? [])
    .filter { $0.hasPrefix("v") }.sorted { (Int($0.dropFirst()) ?? 0) < (Int($1.dropFirst()) ?? 0) }

@Test func thereIsAGoldenFixture() {
    #expect(fixtures.contains("v1"))
}

/// Each fixture, opened by this build (a copy: the committed files are never touched),
/// gives the answers it gave when it was written: served by an engine (recovery from the
/// snapshot and the log after it) and replayed from the first segment alone.
@Test(arguments: fixtures)
func aGoldenFixtureStillGivesItsAnswers(version: String) async throws {
    let expected = try String(contentsOfFile: "\(fixturesRoot)/\(version)/answers.txt", encoding: .utf8)
    let pairs = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let copy = TemporaryDirectory()
    for name in try FileManager.default.contentsOfDirectory(atPath: "\(fixturesRoot)/\(version)/data") {
        try FileManager.default.copyItem(atPath: "\(fixturesRoot)/\(version)/data/\(name)", toPath: copy.file(name))
    }
    #expect(try Recovery.verify(DataDirectory(path: copy.path)).snapshots >= 1)
    var fromStart = Recovery.Options(mode: .readOnly)
    fromStart.ignoreSnapshots = true
    let replayed = try Recovery.recover(DataDirectory(path: copy.path), options: fromStart).state
    #expect("> DIGEST\n\(replayed.digest)" == pairs.prefix(2).joined(separator: "\n"), "\(version): replayed from LSN 1")

    // Each fixture asks its own questions: those its answers.txt holds.
    let asked = pairs.filter { $0.hasPrefix("> ") && $0 != "> DIGEST" }.map { String($0.dropFirst(2)) }
    let engine = try await openEngine(copy.path, clock: ManualClock())
    var answers = "> DIGEST\n\(try await engine.digest())\n"
    for question in asked { answers += "> \(question)\n\(await run(engine, question))\n" }
    await engine.close()
    for (line, (got, want)) in zip(answers.split(separator: "\n"), expected.split(separator: "\n")).enumerated() where got != want {
        Issue.record("\(version)/answers.txt:\(line + 1)\n  expected \(want.prefix(300))\n  got      \(got.prefix(300))")
    }
}

/// The fixture holds every kind of event in its log and every kind of record in its
/// snapshot, so every tag's encoding is read back from disk.
@Test(arguments: fixtures)
func aGoldenFixtureCoversEveryEventAndRecord(version: String) throws {
    let directory = DataDirectory(path: "\(fixturesRoot)/\(version)/data")
    var options = Recovery.Options(mode: .readOnly)
    options.ignoreSnapshots = true
    var tags = Set<UInt8>()
    _ = try Recovery.recover(directory, options: options, onEvent: { _, event in tags.insert(event.encoded[0]) })
    #expect(tags == Set(Event.Tag.allCases.map(\.rawValue)), "\(version): missing \(Set(Event.Tag.allCases.map(\.rawValue)).subtracting(tags))")
    let snapshot = try #require(try directory.snapshots().first)
    let state = try SnapshotFile.decode(try FileReader.readAll(atPath: directory.file(snapshot.name)), name: snapshot.name)
    var records = Set<UInt8>()
    state.forEachCanonicalRecord { records.insert($0.bytes[0]) }
    #expect(records == Set(OrderlineState.RecordTag.allCases.map(\.rawValue)), "\(version)")
}

/// Seeds for `LoadTests/fuzz.sh`'s storage target, from the newest fixture: each event of
/// its log, its snapshot, its canonical records, its segments and its checkpoint, each
/// behind the byte that picks its decoder (Fuzz/Sources/FuzzStorage).
@Test(.enabled(if: ProcessInfo.processInfo.environment["ORDERLINE_WRITE_FUZZ_SEEDS"] != nil, "writes fuzz seeds when asked"))
func writeTheStorageFuzzSeeds() throws {
    let version = try #require(fixtures.last)
    let directory = DataDirectory(path: "\(fixturesRoot)/\(version)/data")
    let corpus = Executables.repositoryRoot + "/Fuzz/Corpus/FuzzStorage"
    try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
    func seed(_ name: String, _ selector: UInt8, _ bytes: [UInt8]) throws {
        try Data([selector] + bytes).write(to: URL(fileURLWithPath: "\(corpus)/\(name)"))
    }
    var options = Recovery.Options(mode: .readOnly)
    options.ignoreSnapshots = true
    var events: [(LSN, Event)] = []
    _ = try Recovery.recover(directory, options: options, onEvent: { lsn, event in events.append((lsn, event)) })
    for (lsn, event) in events { try seed("event-\(lsn)", 0, event.encoded) }
    let snapshot = try #require(try directory.snapshots().first)
    let snapshotBytes = try FileReader.readAll(atPath: directory.file(snapshot.name))
    try seed("snapshot", 1, snapshotBytes)
    let state = try SnapshotFile.decode(snapshotBytes, name: snapshot.name)
    try seed("canonical", 2, state.canonicalEncoding())
    for segment in try directory.segments() { try seed(segment.name, 3, try FileReader.readAll(atPath: directory.file(segment.name))) }
    try seed("checkpoint", 4, try FileReader.readAll(atPath: directory.file(LogCheckpoint.fileName)))
}
