import OrderlineCore
import OrderlineStorage

/// What the engine does when the WAL fails: it never retries, drops what was never
/// acknowledged by rebuilding from the log, and serves reads only.
extension Engine {
    func ioRejection(_ error: any Error) -> Rejection {
        Rejection(.ioError, "the log cannot be written: \((error as? StorageError)?.message ?? "\(error)")")
    }

    /// After a WAL failure: drop everything that was never durable by rebuilding the
    /// state from the log up to the last durable LSN; from then on, serve reads only.
    func enterReadOnly(after error: any Error) async {
        guard failure == nil else { return }
        failure = (error as? StorageError) ?? StorageError(.failed, "\(error)")
        // Everything acknowledged stays (under `interval` and `never` that includes
        // written frames not yet fsynced: they are in the file, and a client has seen them).
        let durable = wal.lsnAcknowledged
        logger.critical("WAL failed; rebuilding from the acknowledged log and serving reads only", metadata: ["wal.lsn": "\(durable)"])
        let directory = directory
        let shardCount = configuration.shardCount
        do {
            let report = try await DedicatedThread.run(name: "orderline-rebuild") {
                var options = Recovery.Options(mode: .readOnly)
                options.untilLSN = durable
                options.shardCount = shardCount
                return try Recovery.recover(directory, options: options, as: ShardedState.self)
            }
            state = report.state
            soldOutSightings = [:]
        } catch {
            logger.critical("cannot rebuild from the durable log; reads refused too", metadata: ["error": "\(error)"])
            unreadable = true
            failure = StorageError(.failed, "the log failed and the durable state cannot be read: \(error)")
        }
    }}
