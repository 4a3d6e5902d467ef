import Glibc
import OrderlineStorage
import NIOConcurrencyHelpers

/// Wraps the real file system and fails one chosen operation: the Nth write (as a
/// disk-full `ENOSPC`, after writing part of the bytes, as a real short write does)
/// or the Nth fsync (`EIO`). Deterministic: the same plan fails the same call.
public final class FaultInjectingFileSystem: FileSystem {
    public enum Fault: Sendable, Equatable {
        case none
        /// Fail the Nth `append` (from 1), after writing `bytesWritten` of its bytes.
        case diskFullOnWrite(number: Int, bytesWritten: Int)
        /// Fail the Nth `sync` (from 1).
        case failedSync(number: Int)
        /// Fail the Nth `createFile` (from 1), as a full disk does.
        case failedCreate(number: Int)
    }

    private struct Counters {
        var writes = 0
        var syncs = 0
        var creates = 0
        var fired = false
        var armed = true
    }

    private let base = PosixFileSystem()
    private let fault: Fault
    private let counters = NIOLockedValueBox(Counters())

    /// Every fsync takes at least this long (a slow disk).
    public let syncDelayMilliseconds: Int

    /// With `armed: false` nothing fails until `arm()`: a test can set up its state
    /// first and aim the fault at the phase it checks, whatever the setup wrote.
    public init(_ fault: Fault, syncDelayMilliseconds: Int = 0, armed: Bool = true) {
        self.fault = fault
        self.syncDelayMilliseconds = syncDelayMilliseconds
        counters.withLockedValue { $0.armed = armed }
    }

    /// Counts the Nth write, fsync or create from now on.
    public func arm() {
        counters.withLockedValue { $0 = Counters() }
    }

    public var hasFired: Bool { counters.withLockedValue { $0.fired } }

    /// 1 while fsyncs are held (`holdSyncs`): the WAL's writer thread waits in `sync`,
    /// so no reply is acknowledged until `releaseSyncs`, however slow the machine.
    private let syncGate = ConditionLock(value: 0)

    public func holdSyncs() {
        syncGate.lock()
        syncGate.unlock(withValue: 1)
    }

    public func releaseSyncs() {
        syncGate.lock()
        syncGate.unlock(withValue: 0)
    }

    fileprivate func waitForSyncGate() {
        syncGate.lock(whenValue: 0)
        syncGate.unlock()
    }

    public func createFile(atPath path: String) throws(StorageError) -> any AppendableFile {
        let fails = counters.withLockedValue { counters in
            guard counters.armed else { return false }
            counters.creates += 1
            guard case .failedCreate(let number) = fault, counters.creates == number else { return false }
            counters.fired = true
            return true
        }
        if fails { throw StorageError(.io, "cannot create \(path) (injected)", errno: ENOSPC) }
        return FaultyFile(base: try base.createFile(atPath: path), owner: self)
    }

    public func syncDirectory(atPath path: String) throws(StorageError) { try base.syncDirectory(atPath: path) }
    public func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        try base.rename(atPath: source, toPath: destination)
    }
    public func removeFile(atPath path: String) throws(StorageError) { try base.removeFile(atPath: path) }
    public func truncateFile(atPath path: String, toBytes size: Int) throws(StorageError) {
        try base.truncateFile(atPath: path, toBytes: size)
    }
    public func openForOverwrite(atPath path: String) throws(StorageError) -> any OverwrittenFile {
        try base.openForOverwrite(atPath: path)
    }

    /// How many bytes of this write go through before it fails, or nil to let it pass.
    fileprivate func planWrite(byteCount: Int) -> Int? {
        counters.withLockedValue { counters in
            guard counters.armed else { return nil }
            counters.writes += 1
            guard case .diskFullOnWrite(let number, let bytesWritten) = fault, counters.writes == number else { return nil }
            counters.fired = true
            return min(bytesWritten, byteCount)
        }
    }

    fileprivate func syncShouldFail() -> Bool {
        counters.withLockedValue { counters in
            guard counters.armed else { return false }
            counters.syncs += 1
            guard case .failedSync(let number) = fault, counters.syncs == number else { return false }
            counters.fired = true
            return true
        }
    }
}

private final class FaultyFile: AppendableFile {
    let base: any AppendableFile
    let owner: FaultInjectingFileSystem

    init(base: any AppendableFile, owner: FaultInjectingFileSystem) {
        self.base = base
        self.owner = owner
    }

    var path: String { base.path }

    func append(_ bytes: [UInt8]) throws(StorageError) {
        if let partial = owner.planWrite(byteCount: bytes.count) {
            if partial > 0 { try base.append(Array(bytes[0..<partial])) }
            throw StorageError(.io, "write to \(path) failed (injected)", errno: ENOSPC)
        }
        try base.append(bytes)
    }

    func sync() throws(StorageError) {
        owner.waitForSyncGate()
        if owner.syncDelayMilliseconds > 0 { usleep(useconds_t(owner.syncDelayMilliseconds * 1_000)) }
        if owner.syncShouldFail() { throw StorageError(.io, "fdatasync of \(path) failed (injected)", errno: EIO) }
        try base.sync()
    }

    func close() { base.close() }
}
