import ArgumentParser

@main
struct Orderline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderline",
        abstract: "An in-memory order management server with a write-ahead log.",
        subcommands: [ServeCommand.self, ReplayCommand.self, RestoreCommand.self, ImportCommand.self, ExportCommand.self],
        defaultSubcommand: ServeCommand.self)
}
