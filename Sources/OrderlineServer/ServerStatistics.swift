import Synchronization

/// Counters for INFO, shared by all connections.
final class ServerStatistics: Sendable {
    let connectedClients = Atomic<Int>(0)
    let totalConnections = Atomic<Int>(0)
    let commandsProcessed = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
}
