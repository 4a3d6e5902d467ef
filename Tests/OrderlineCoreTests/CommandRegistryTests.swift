import Foundation
import OrderlineCore
import OrderlineTestSupport
import Testing

/// Every command (those the scripts run, and a line for each they do not) parses into a
/// command whose `name` is its entry's: the registry is where "is it a write" is read,
/// so the link must hold for each.
@Test func everyCommandKnowsItsEntryInTheRegistry() throws {
    var seen = Set<String>()
    let scripts = Executables.repositoryRoot + "/Tests/Scripts"
    // The commands no script runs.
    var lines = [
        "> TRANSFER.RECEIVE T1", "> NODE.GET WH", "> ROUTING.GET", "> NODE.LIST", "> SKU.GET HOT", "> TRANSFER.GET T1",
        "> STOCK.TRANSFER WH ST HOT 1", "> RELEASE R1", "> CARRIER.LIST", "> RETURN.GET O-1-R1",
    ].map { ("(these)", Substring($0)) }
    for file in try FileManager.default.contentsOfDirectory(atPath: scripts) where file.hasSuffix(".txt") {
        lines += try String(contentsOfFile: scripts + "/" + file, encoding: .utf8).split(separator: "\n").map { (file, $0) }
    }
    for (file, line) in lines where line.hasPrefix("> ") {
        guard let tokens = try? InlineTokenizer.tokenize(line.dropFirst(2)), let command = try? CommandTable.parse(tokens) else { continue }
        let spec = try #require(CommandTable.spec(named: tokens[0]))
        #expect(command.name == spec.name, "\(file): \(line)")
        #expect(command.isRead == !spec.writes, "\(file): \(line)")
        seen.insert(spec.name)
    }
    #expect(seen == Set(CommandTable.specs.map(\.name)), "not run: \(Set(CommandTable.specs.map(\.name)).subtracting(seen))")
}

@Test func theRegistryHoldsEachCommandOnceWithItsFlags() {
    let names = CommandTable.registry.map(\.name)
    #expect(Set(names).count == names.count)
    #expect(CommandTable.registry.count == CommandTable.specs.count + CommandTable.serverCommands.count)
    let reserve = CommandTable.info(uppercasedName: "RESERVE")
    #expect(reserve?.arity == -3 && reserve?.flags.contains(.write) == true && reserve?.firstKey == 1)
    #expect(CommandTable.info(uppercasedName: "STOCK.SET")?.firstKey == 2, "the SKU, after the node")
    #expect(CommandTable.info(uppercasedName: "ORDER.GET")?.flags.contains(.write) == false)
    #expect(CommandTable.info(uppercasedName: "PING")?.flags.contains(.allowedBeforeAuthentication) == true)
    #expect(CommandTable.info(uppercasedName: "SNAPSHOT")?.flags.contains(.admin) == true)
    #expect(CommandTable.info(uppercasedName: "ORDER.LIST")?.flags.contains(.notInTransaction) == true)
    #expect(CommandTable.info(uppercasedName: "EXPIRE") == nil, "the shell's expiry is no wire command")
}

/// The docs name every command of the registry: the reference and the contract.
@Test func theDocsNameEveryCommand() throws {
    for page in ["docs/COMMANDS.md", "docs/PROTOCOL.md"] {
        let text = try String(contentsOfFile: Executables.repositoryRoot + "/" + page, encoding: .utf8)
        for info in CommandTable.registry where !text.contains("`\(info.name)") {
            Issue.record("\(page) does not name \(info.name)")
        }
    }
}
