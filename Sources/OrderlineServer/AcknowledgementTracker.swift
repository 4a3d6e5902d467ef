import DequeModule
import NIOCore
import OrderlineCore
import NIOConcurrencyHelpers
import Synchronization

/// Releases replies when the WAL acknowledges them, for every connection of one event
/// loop at once: the WAL writer reports each new acknowledged LSN, this schedules one
/// task on the loop (coalescing reports that arrive before it runs), and the task
/// lets each waiting connection write the replies that are now durable.
///
/// With synchronous replicas (`--sync-replicas K`) a reply also waits until K replicas
/// acknowledged its LSN (`replicated`); what they have not acknowledged within the
/// timeout is released as `NOREPLICAS` (`confirmed` stays below it).
final class AcknowledgementTracker: Sendable {
    /// Loop-confined state.
    final class Waiting {
        /// Replies up to here may be written.
        var acknowledged: LSN = 0
        /// Replies up to here are what they say; above it (timed out waiting for
        /// replicas) they are `NOREPLICAS`. Equal to `acknowledged` without sync replicas.
        var confirmed: LSN = 0
        var walAcknowledged: LSN = 0
        /// The LSN K replicas have acknowledged.
        var replicated: LSN = 0
        /// WAL acknowledgements not yet replicated, with when they came.
        var unconfirmed: Deque<(lsn: LSN, since: NIODeadline)> = []
        var failure: Rejection?
        /// False while this server is a replica: replicas of a replica are not waited for.
        var waitsForReplicas = true
        var connections: [ObjectIdentifier: ConnectionHandler] = [:]
        /// The table being released, kept so that its storage is reused.
        var releasing: [ObjectIdentifier: ConnectionHandler] = [:]
    }

    let eventLoop: any EventLoop
    /// Replicas that must acknowledge an LSN before its replies go out (0: none).
    let syncReplicas: Int
    private let syncTimeout: TimeAmount
    private let waiting: NIOLoopBound<Waiting>
    private let reported = Synchronization.Atomic<UInt64>(0)
    private let failureReported = NIOLockedValueBox<Rejection?>(nil)
    private let scheduled = Synchronization.Atomic<Bool>(false)

    /// On the loop (`eventLoop.submit { … }`). Everything up to `acknowledged` (what
    /// recovery found) counts as replicated too.
    init(eventLoop: any EventLoop, acknowledged: LSN, syncReplicas: Int = 0, syncTimeout: TimeAmount = .seconds(1)) {
        self.eventLoop = eventLoop
        self.syncReplicas = syncReplicas
        self.syncTimeout = syncTimeout
        let state = Waiting()
        state.acknowledged = acknowledged
        state.confirmed = acknowledged
        state.walAcknowledged = acknowledged
        state.replicated = acknowledged
        waiting = NIOLoopBound(state, eventLoop: eventLoop)
        reported.store(acknowledged, ordering: .relaxed)
    }

    /// On the loop: the LSN replies may be written up to, the one they are confirmed
    /// up to (see `Waiting`), and a failure, if the WAL failed.
    var acknowledged: LSN { waiting.value.acknowledged }
    var confirmed: LSN { waiting.value.confirmed }
    var walAcknowledged: LSN { waiting.value.walAcknowledged }

    /// On the loop: whether replies wait for the sync replicas (only on a primary).
    /// What this server has when it starts to wait counts as replicated: as a replica
    /// it had it from a primary that waited for its own replicas.
    func waitForReplicas(_ waits: Bool) {
        let state = waiting.value
        guard syncReplicas > 0, waits != state.waitsForReplicas else { return }
        state.waitsForReplicas = waits
        state.replicated = max(state.replicated, state.walAcknowledged)
        release()
    }
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
            release()
        }
    }

    /// On the loop: K replicas have acknowledged `lsn` (`Replication`).
    func replicated(_ lsn: LSN) {
        let state = waiting.value
        guard lsn > state.replicated else { return }
        state.replicated = lsn
        release()
    }

    /// On the loop, after a replica's full re-sync restarted its log at `lsn` (below
    /// what was acknowledged before, when its log had diverged): what is acknowledged
    /// counts from there again, or a write taken after a promotion could be released
    /// before it is durable.
    func restart(at lsn: LSN) {
        reported.store(lsn, ordering: .sequentiallyConsistent)
        let state = waiting.value
        state.acknowledged = lsn
        state.confirmed = lsn
        state.walAcknowledged = lsn
        state.replicated = lsn
        state.unconfirmed.removeAll()
    }

    /// On the loop, every few milliseconds with sync replicas: releases, as
    /// `NOREPLICAS`, what waited for them longer than the timeout.
    func releaseTimedOut() {
        if !waiting.value.unconfirmed.isEmpty { release() }
    }

    private func release() {
        let state = waiting.value
        state.walAcknowledged = max(state.walAcknowledged, reported.load(ordering: .sequentiallyConsistent))
        state.failure = failureReported.withLockedValue { $0 }
        if syncReplicas == 0 || !state.waitsForReplicas {
            state.unconfirmed.removeAll()
            state.acknowledged = state.walAcknowledged
            state.confirmed = state.walAcknowledged
        } else {
            let now = NIODeadline.now()
            if state.walAcknowledged > (state.unconfirmed.last?.lsn ?? state.confirmed) {
                state.unconfirmed.append((state.walAcknowledged, now))
            }
            state.confirmed = max(state.confirmed, min(state.walAcknowledged, state.replicated))
            var givenUp = state.acknowledged
            while let first = state.unconfirmed.first, first.lsn <= state.confirmed || now - first.since >= syncTimeout {
                if first.lsn > state.confirmed { givenUp = first.lsn }
                state.unconfirmed.removeFirst()
            }
            state.acknowledged = max(state.confirmed, givenUp)
        }
        // Swapped, not copied: a copy would make emptying the table allocate anew.
        // A connection still waiting after its writes registers in the new table.
        swap(&state.connections, &state.releasing)
        for connection in state.releasing.values { connection.writeReadyReplies() }
        state.releasing.removeAll(keepingCapacity: true)
    }
}
