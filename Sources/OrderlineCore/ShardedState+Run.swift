/// Applying a run of logged events with each shard's share applied apart (recovery
/// and `orderline replay` with several shards, docs/ARCHITECTURE.md "Shards").
///
/// Two passes, and the same state as `applyChecked` one event at a time:
/// 1. In LSN order, the owner of each event is found, home's events are applied, and
///    each shard is given its share in order: its events, an order's stock effects at
///    its SKUs, and the reservations the one FIFO of ended ones drops. Everything this
///    pass keeps (ids, times, the FIFO) it can know without a shard's state, because a
///    checked end always ends a held reservation.
/// 2. Each shard applies its share, on its own: the caller's `runShards` may run them
///    on as many threads as it has (the core starts none). A shard's state depends only
///    on its own share, in order, so how they interleave cannot change the result.
extension ShardedState {
    /// One logged event of a run.
    public typealias Logged = (lsn: LSN, event: Event)

    /// What a shard applies, in order: an event of the run (checked, or a node every
    /// shard keeps a copy of), an order's stock effects, or a reservation to forget.
    private enum ShardWork: Sendable {
        case event(index: Int, checked: Bool)
        case stockChanges(index: Int)
        case forget(ReservationID)
    }

    /// What one shard's pass found: an event it could not apply (the state is then
    /// not to be used), and the events whose stock effects over-committed a level.
    private struct ShardOutcome: Sendable {
        var failure: (lsn: LSN, problem: String)?
        var overCommitted: [LSN] = []
    }

    /// Applies `run` (LSN order) as `applyChecked` would, event after event, with the
    /// shards' shares run by `runShards(count, job)`, which must call `job(i)` once for
    /// each i in 0..<count, on any threads, and return when all have returned (`job`
    /// does not escape: the buffers it reads and writes live only that long).
    /// Returns the first event that could not be applied (the lowest LSN); the state is
    /// then partly applied past it, and recovery stops there.
    public mutating func applyChecked(
        run: [Logged], runShards: (_ count: Int, _ job: @Sendable (Int) -> Void) -> Void
    ) -> (lsn: LSN, problem: String)? {
        // Events are read where they lie: a copy of each would retain and release its payload.
        run.withUnsafeBufferPointer { run in applyChecked(run: run, runShards: runShards) }
    }

    private mutating func applyChecked(
        run: UnsafeBufferPointer<Logged>, runShards: (_ count: Int, _ job: @Sendable (Int) -> Void) -> Void
    ) -> (lsn: LSN, problem: String)? {
        var work = [[ShardWork]](repeating: [], count: parts.count)
        var stockChanges: [(lsn: LSN, changes: [StockChange])] = []
        var failure: (lsn: LSN, problem: String)?

        func give(_ shard: Int, _ index: Int) {
            work[shard].append(.event(index: index, checked: true))
            // The state's time is at least every shard's: only the event's can raise it.
            if let time = run[index].event.stampedTime { timeLast = max(timeLast, time) }
        }

        routing: for index in run.indices {
            let lsn = run[index].lsn
            guard lsn == self.lsn + 1 else {
                failure = (lsn, "comes after LSN \(self.lsn): LSNs must follow one another")
                break
            }
            switch run[index].event {
            case .nodeUpserted:
                if let problem = Self.violation(of: run[index].event, at: &home) { failure = (lsn, problem); break routing }
                home.apply(run[index].event, at: lsn)
                for shard in parts.indices { work[shard].append(.event(index: index, checked: false)) }
            case .skuUpserted(let sku):
                give(map.shard(of: sku.id), index)
            case .stockSet(_, let sku, _, _), .stockAdjusted(_, let sku, _, _):
                give(map.shard(of: sku), index)
            case .reservationCreated(let reservation):
                if let taken = idTaken(by: run[index].event) { failure = (lsn, taken); break routing }
                let shard = map.shard(of: reservation.sku)
                if map.shardCount > 1 { reservationShards[reservation.id] = UInt16(shard) }
                reservationIDMax = max(reservationIDMax, reservation.id)
                give(shard, index)
            case .reservationReleased(let id), .reservationConverted(let id), .reservationCommitted(let id), .reservationExpired(let id, _):
                give(shard(ofReservation: id), index)
                if let dropped = recordEnded(id) { work[dropped.shard].append(.forget(dropped.id)) }
            case .transferShipped(let transfer):
                if let taken = idTaken(by: run[index].event) { failure = (lsn, taken); break routing }
                let shard = map.shard(of: transfer.sku)
                transferShards[transfer.id] = shard
                transferIDMax = max(transferIDMax, transfer.id)
                give(shard, index)
            case .transferReceived(let id):
                give(transferShards[id] ?? 0, index)
            case .idempotencyKeyRecorded, .routingRulesSet, .carrierServiceSet, .fraudRulesSet, .orderPlaced, .orderEdited, .orderCancelled,
                 .orderHeld, .orderUnheld, .shipmentAdvanced, .returnOpened, .returnReceived:
                if let problem = Self.violation(of: run[index].event, at: &home) { failure = (lsn, problem); break routing }
                home.apply(run[index].event, at: lsn)
                timeLast = max(timeLast, home.timeLast)
                let changes = home.takePendingStockChanges()
                guard !changes.isEmpty else { break }
                let byShard = Self.grouped(changes, by: map)
                if byShard.count > 1 { crossShardOrderEvents += 1 }
                for (shard, changes) in byShard {
                    work[shard].append(.stockChanges(index: stockChanges.count))
                    stockChanges.append((lsn, changes))
                }
            }
            self.lsn = lsn
        }

        var outcomes = [ShardOutcome](repeating: ShardOutcome(), count: parts.count)
        parts.withUnsafeMutableBufferPointer { parts in
            outcomes.withUnsafeMutableBufferPointer { outcomes in
                let parts = OneElementPerJob(parts), outcomes = OneElementPerJob(outcomes), run = ReadDuringJobs(run)
                let work = work, stockChanges = stockChanges
                runShards(parts.count) { shard in
                    outcomes[shard] = Self.apply(work[shard], of: run.buffer, stockChanges: stockChanges, at: &parts[shard])
                }
            }
        }
        for outcome in outcomes {
            if let shardFailure = outcome.failure, shardFailure.lsn < failure?.lsn ?? .max { failure = shardFailure }
        }
        // Counted once per event, as `moveStock` counts it.
        for _ in Set(outcomes.flatMap(\.overCommitted)) { home.countOversell() }
        return failure
    }

    /// One shard's share, in order; stops at an event it cannot apply.
    private static func apply(
        _ work: [ShardWork], of run: UnsafeBufferPointer<Logged>, stockChanges: [(lsn: LSN, changes: [StockChange])], at part: inout OrderlineState
    ) -> ShardOutcome {
        var outcome = ShardOutcome()
        for item in work {
            switch item {
            case .event(let index, let checked):
                // Read where it lies: a copy of the event would retain and release its payload.
                if checked, let problem = part.violation(applying: run[index].event) {
                    outcome.failure = (run[index].lsn, problem)
                    return outcome
                }
                part.apply(run[index].event, at: run[index].lsn)
                _ = part.takeLastEnded()
            case .stockChanges(let index):
                if part.apply(stockChanges: stockChanges[index].changes) { outcome.overCommitted.append(stockChanges[index].lsn) }
            case .forget(let id):
                part.forget(id)
            }
        }
        return outcome
    }
}

/// A buffer whose element i only job i of `applyChecked(run:runShards:)` reads and
/// writes.
///
/// `@unchecked Sendable`, and why that is safe: each job touches one element, its own
/// index, and no other job that index; the buffer outlives every job, since
/// `runShards` returns only once all of them have returned. What else the jobs read
/// (the run, the shares) no one changes meanwhile.
private struct OneElementPerJob<Element>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Element>

    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }

    var count: Int { buffer.count }

    subscript(index: Int) -> Element {
        get { buffer[index] }
        nonmutating _modify { yield &buffer[index] }
        nonmutating set { buffer[index] = newValue }
    }
}

/// The run, which the jobs of `applyChecked(run:runShards:)` only read.
///
/// `@unchecked Sendable`, and why that is safe: nothing writes the buffer while any
/// job runs, and it outlives them all (`runShards` returns after the last one).
private struct ReadDuringJobs<Element>: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Element>

    init(_ buffer: UnsafeBufferPointer<Element>) { self.buffer = buffer }
}
