import NIOCore
import OrderlineCore
import NIOConcurrencyHelpers
import Synchronization

/// Releases replies when the WAL acknowledges them, for every connection of one event
/// loop at once: the WAL writer reports each new acknowledged LSN, this schedules one
/// task on the loop (coalescing reports that arrive before it runs), and the task
/// lets each waiting connection write the replies that are now durable.
final class AcknowledgementTracker: Sendable {
    /// Loop-confined state.
    final class Waiting {
        var acknowledged: LSN = 0
        var failure: Rejection?
        var connections: [ObjectIdentifier: ConnectionHandler] = [:]
        /// The table being released, kept so that its storage is reused.
        var releasing: [ObjectIdentifier: ConnectionHandler] = [:]
    }

    let eventLoop: any EventLoop
    private let waiting: NIOLoopBound<Waiting>
    private let reported = Synchronization.Atomic<UInt64>(0)
    private let failureReported = NIOLockedValueBox<Rejection?>(nil)
    private let scheduled = Synchronization.Atomic<Bool>(false)

    /// On the loop (`eventLoop.submit { … }`).
    init(eventLoop: any EventLoop, acknowledged: LSN) {
        self.eventLoop = eventLoop
        let state = Waiting()
        state.acknowledged = acknowledged
        waiting = NIOLoopBound(state, eventLoop: eventLoop)
        reported.store(acknowledged, ordering: .relaxed)
    }

    /// On the loop: the acknowledged LSN and a failure, if the WAL failed.
    var acknowledged: LSN { waiting.value.acknowledged }
    var failure: Rejection? { waiting.value.failure }

    /// On the loop: `connection` has a reply waiting for a later LSN.
    func wait(_ connection: ConnectionHandler) {
        waiting.value.connections[ObjectIdentifier(connection)] = connection
    }

    func forget(_ connection: ConnectionHandler) {
        waiting.value.connections.removeValue(forKey: ObjectIdentifier(connection))
    }

    /// From the WAL writer thread.
    ///
    /// Sequentially consistent on both sides: the writer publishes the LSN then tests
    /// `scheduled`; the loop clears `scheduled` then reads the LSN. With weaker
    /// orderings the loop could read an old LSN while the writer saw `scheduled`
    /// still set, and a reply would wait for the next fsync (forever, when idle).
    func report(_ lsn: LSN, failure: Rejection?) {
        reported.max(lsn, ordering: .sequentiallyConsistent)
        if let failure { failureReported.withLockedValue { $0 = failure } }
        guard !scheduled.exchange(true, ordering: .sequentiallyConsistent) else { return }
        eventLoop.execute { [self] in
            scheduled.store(false, ordering: .sequentiallyConsistent)
            let state = waiting.value
            state.acknowledged = max(state.acknowledged, reported.load(ordering: .sequentiallyConsistent))
            state.failure = failureReported.withLockedValue { $0 }
            // Swapped, not copied: a copy would make emptying the table allocate anew.
            // A connection still waiting after its writes registers in the new table.
            swap(&state.connections, &state.releasing)
            for connection in state.releasing.values { connection.writeReadyReplies() }
            state.releasing.removeAll(keepingCapacity: true)
        }
    }
}
