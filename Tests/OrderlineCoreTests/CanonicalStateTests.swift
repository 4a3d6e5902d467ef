import OrderlineCore
import OrderlineTestSupport
import Testing

@Test(arguments: UInt64(1)...8)
func canonicalEncodingRoundTripsAndDigestIgnoresInsertionOrder(seed: UInt64) throws {
    var generator = SeededGenerator(seed: seed)
    var core = CoreDriver()
    for command in RandomWorkload.setup(skuCount: 12) { core.run(command.joined(separator: " ")) }
    for step in RandomWorkload.steps(count: 300, skuCount: 12, orderHeavy: seed > 4, generator: &generator) {
        switch step {
        case .command(let tokens): core.run(RandomWorkload.inline(tokens))
        case .advanceClock(let seconds): core.now += seconds
        }
    }
    let restored = try OrderlineState.decodeCanonical(core.state.canonicalEncoding())
    #expect(restored.digest == core.state.digest, "seed \(seed)")
    #expect(restored.nextExpiring?.id == core.state.nextExpiring?.id, "seed \(seed)")
    #expect(restored.checkInvariants())

    // The same SKUs added in the opposite order give the same digest.
    var forward = CoreDriver()
    var backward = CoreDriver()
    for index in 0..<20 { forward.run("SKU.ADD S\(index) price=\(index)") }
    for index in (0..<20).reversed() { backward.run("SKU.ADD S\(index) price=\(index)") }
    #expect(forward.state.digest.hash == backward.state.digest.hash)
    backward.run("SKU.ADD S3 price=4")
    #expect(forward.state.digest.hash != backward.state.digest.hash)
}

@Test func damagedCanonicalBytesAreErrors() throws {
    var core = CoreDriver.withNetwork()
    core.run("RESERVE HOT 1")
    let bytes = core.state.canonicalEncoding()
    for length in 0..<bytes.count {
        #expect(throws: DecodingError.self) { try OrderlineState.decodeCanonical(Array(bytes[0..<length])) }
    }
}

/// Stock without its SKU in the catalog is refused: `RESERVE` finds a SKU's stock with
/// one lookup, trusting that stock exists only for catalogued SKUs.
@Test func canonicalStockOfAnUncataloguedSKUIsAnError() throws {
    var core = CoreDriver.withNetwork()
    core.run("RESERVE HOT 1")
    let bytes = core.state.canonicalEncoding()
    // Copy every record but the SKU records (tag 2), each `varint length, tag, …`.
    var withoutCatalog: [UInt8] = []
    var reader = BinaryReader(bytes)
    while !reader.isAtEnd {
        let start = reader.offset
        let length = Int(try reader.readVarUInt())
        let tag = bytes[reader.offset]
        let end = reader.offset + length
        if tag != 2 { withoutCatalog += bytes[start..<end] }
        reader = BinaryReader(bytes, offset: end, end: bytes.count)
    }
    #expect(withoutCatalog.count < bytes.count)
    do {
        _ = try OrderlineState.decodeCanonical(withoutCatalog)
        Issue.record("stock of an uncatalogued SKU was decoded")
    } catch {}
    #expect(try OrderlineState.decodeCanonical(bytes).digest == core.state.digest)
}
