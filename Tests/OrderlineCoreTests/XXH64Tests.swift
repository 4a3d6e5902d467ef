import OrderlineCore
import Testing

/// Reference values from the xxHash reference implementation (Python `xxhash`).
@Test(arguments: [
    ([UInt8](), UInt64(0), UInt64(0xEF46_DB37_51D8_E999)),
    (Array("a".utf8), 0, 0xD24E_C4F1_A98C_6E5B),
    (Array("abc".utf8), 0, 0x44BC_2CF5_AD77_0999),
    (Array(0..<100), 0, 0x6AC1_E580_3216_6597),
    (Array(0..<100), 12345, 0x028B_A1AE_2DE4_DE27),
    (Array("Orderline write-ahead log".utf8), 7, 0xBDCE_BBA2_5258_DC82),
])
func xxh64MatchesTheReference(input: [UInt8], seed: UInt64, expected: UInt64) {
    #expect(XXH64.hash(input, seed: seed) == expected)
}
