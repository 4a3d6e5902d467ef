import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every script of `Tests/Scripts` against the core value; `OrderlineEndToEndTests`
/// runs the same scripts against a live server.
@Test(arguments: TestScript.names)
func scriptRunsAgainstTheCore(name: String) throws {
    let script = try TestScript(named: name)
    var core = CoreDriver()
    core.now = TestScript.clockStart
    let mismatches = script.run { line in
        if line.hasPrefix("CLOCK.ADVANCE "), let seconds = Int64(line.dropFirst("CLOCK.ADVANCE ".count)) {
            core.now += seconds
            _ = core.run("ROUTING.GET")  // fires what is due, as the server does
            return ":\(core.now)"
        }
        return core.run(line)
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    #expect(script.steps.count > 10)
    #expect(core.state.checkInvariants())
}

/// The same scripts against the sharded state (4 shards): the same replies.
@Test(arguments: TestScript.names)
func scriptRunsAgainstTheShardedCore(name: String) throws {
    let script = try TestScript(named: name)
    var core = ShardedDriver(shardCount: 4)
    core.now = TestScript.clockStart
    let mismatches = script.run { line in
        if line.hasPrefix("CLOCK.ADVANCE "), let seconds = Int64(line.dropFirst("CLOCK.ADVANCE ".count)) {
            core.now += seconds
            _ = core.run("ROUTING.GET")
            return ":\(core.now)"
        }
        return core.run(line)
    }
    #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    #expect(core.state.whole.checkInvariants())
}

@Test func theScriptsAreFound() {
    // Both script tests run one case per file: none found would pass silently.
    #expect(TestScript.names.count >= 5, "\(TestScript.directory)")
}

@Test func scriptPatternsMatchLikeTheirDocumentationSays() {
    #expect(TestScript.reply("+OK", matches: "+OK"))
    #expect(!TestScript.reply("+OK ", matches: "+OK"))
    #expect(TestScript.reply(#"${"a":1,"b":2}"#, matches: #"${"a":<*>,"b":2}"#))
    #expect(!TestScript.reply(#"${"a":1}"#, matches: #"${"b"<*>"#))
    #expect(TestScript.reply("abc", matches: "a<*>b<*>c"))
    #expect(!TestScript.reply("abc", matches: "ab<*>bc"))
    #expect(!TestScript.reply("axc", matches: "a<*>b<*>c"))
}
