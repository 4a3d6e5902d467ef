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
    /// Requests taken and not yet answered, over every connection (admission control).
    let requestsWaiting = Atomic<Int>(0)
    /// How late the loop ran a task due every millisecond, last time (µs): how far
    /// behind the loop is. Measured only with `queueDelayMaxMilliseconds` set.
    let loopLagMicroseconds = Atomic<Int>(0)
    /// Requests answered `LIMIT busy` by admission control.
    let rejectedBusy = Atomic<Int>(0)
}
