import Synchronization

/// Counters for INFO, shared by all connections.
final class ServerStatistics: Sendable {
    let connectedClients = Atomic<Int>(0)
    let totalConnections = Atomic<Int>(0)
    let commandsProcessed = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    /// Bytes read and not yet run, over every connection (`inputBytesBufferedMax`).
    let inputBytesBuffered = Atomic<Int>(0)
    let authFailures = Atomic<Int>(0)
    /// Connections closed by a limit or a deadline, by reason.
    let closedForOutput = Atomic<Int>(0)
    let closedForInput = Atomic<Int>(0)
    let closedForTimeout = Atomic<Int>(0)
    let transactionsRun = Atomic<Int>(0)
}
