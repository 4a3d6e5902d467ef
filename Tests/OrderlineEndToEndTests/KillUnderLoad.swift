import Foundation
import OrderlineTestSupport

/// A kill -9 under load, as the drill tests run it: `clients` connections each make up
/// to `attempts` requests through `attempt` (the ids that request got acknowledged, or
/// nil once the connection is gone), and client 0 kills the server with SIGKILL just
/// before its attempt `killAt`. Returns every acknowledged id; the server is dead.
func acknowledgedUntilKilled(
    _ server: ServerProcess, clients: Int, attempts: Int, killAt: Int,
    _ attempt: @escaping @Sendable (RESPTestClient, _ client: Int, _ attempt: Int) -> [String]?
) -> [String] {
    let port = server.port
    let pid = server.pid
    let perClient = runOnThreads(clients) { index -> [String] in
        guard let client = try? RESPTestClient(port: port) else { return [] }
        var acknowledged: [String] = []
        for number in 0..<attempts {
            if index == 0 && number == killAt { kill(pid, SIGKILL) }
            guard let ids = attempt(client, index, number) else { break }
            acknowledged += ids
        }
        return acknowledged
    }
    server.stop(signal: SIGKILL)
    return perClient.flatMap { $0 }
}
