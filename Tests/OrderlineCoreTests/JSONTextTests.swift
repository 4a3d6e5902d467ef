import Foundation
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

/// Nested objects and arrays of objects written in place read back as the same JSON
/// as objects built apart and added: empty and several elements, a nested object
/// beside other keys, a child id whose order id needs escaping, a key that is not a
/// literal.
@Test func objectsWrittenInPlaceAreTheObjectsBuiltApart() throws {
    let items = [("a", Int64(1)), ("b\"q", 2), ("c\\d", -3)]
    var apart = JSONObject()
    apart.add("id", "O\"1")
    apart.add("none", [JSONObject]())
    apart.add("items", items.map { name, value in
        var entry = JSONObject()
        entry.add("name", name)
        entry.add("value", value)
        return entry
    })
    var nested = JSONObject()
    nested.add("x", Int64(7))
    nested.addNull("y")
    apart.add("nested", nested)
    apart.add("child", "O\"1\\-S12")
    var byStatus = JSONObject()
    byStatus.add(named: "on\"hold", 4)
    apart.add("by_status", byStatus)

    var inPlace = JSONObject(capacity: 16)
    inPlace.add("id", "O\"1")
    inPlace.addObjects("none", [Int]()) { _, _ in }
    inPlace.addObjects("items", items) { entry, item in
        entry.add("name", item.0)
        entry.add("value", item.1)
    }
    inPlace.addObject("nested") { nested in
        nested.add("x", Int64(7))
        nested.addNull("y")
    }
    inPlace.add("child", concatenating: "O\"1\\", "-S", 12)
    inPlace.addObject("by_status") { $0.add(named: "on\"hold", 4) }

    #expect(inPlace.json == apart.json)
    #expect(JSONObject.array(items) { $0.add("name", $1.0) } == JSONObject.array(items.map { var o = JSONObject(); o.add("name", $0.0); return o }))
    #expect(JSONObject.array([Int]()) { _, _ in } == "[]")
    let parsed = try JSONSerialization.jsonObject(with: Data(inPlace.json.utf8)) as? [String: Any]
    #expect(parsed?["child"] as? String == "O\"1\\-S12")
    #expect((parsed?["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["a", "b\"q", "c\\d"])
    #expect((parsed?["by_status"] as? [String: Any])?["on\"hold"] as? Int == 4, "a key that is not a literal is escaped")
}
