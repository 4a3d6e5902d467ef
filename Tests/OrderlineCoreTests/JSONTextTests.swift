import OrderlineCore
import OrderlineTestSupport
import Testing

/// Numbers are written digit by digit into the reply's bytes: every edge of Int64 and
/// UInt64, and a spread of values between, read as Swift's own decimal text.
@Test func numbersAreWrittenAsTheirDecimalText() {
    var signed: [Int64] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, -1, -9, -10, -100, .max, .min, .max - 1, .min + 1]
    var unsigned: [UInt64] = [0, 1, 9, 10, 100, .max, .max - 1, UInt64(Int64.max) + 1]
    var power: UInt64 = 1
    for _ in 0..<19 {
        unsigned += [power - 1, power, power + 1]
        signed += [Int64(power) - 1, Int64(power), -Int64(power)]
        power *= 10
    }
    var generator = SeededGenerator(seed: 42)
    for _ in 0..<1_000 {
        signed.append(Int64.random(in: .min ... .max, using: &generator))
        unsigned.append(UInt64.random(in: 0 ... .max, using: &generator))
    }
    for value in signed {
        var object = JSONObject()
        object.add("n", value)
        #expect(object.json == "{\"n\":\(value)}")
    }
    for value in unsigned {
        var object = JSONObject()
        object.add("n", value)
        #expect(object.json == "{\"n\":\(value)}")
    }
}
