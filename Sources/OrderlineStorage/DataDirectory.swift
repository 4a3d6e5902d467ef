import Glibc
import OrderlineCore

/// A file name that carries an LSN, zero-padded to 20 digits so names sort like LSNs:
/// `wal-00000000000000000001.log`, `snapshot-<LSN>.snap`.
struct LSNFileName: Sendable {
    let prefix: String
    let suffix: String

    func name(_ lsn: LSN) -> String {
        let digits = String(lsn)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    func lsn(of name: String) -> LSN? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count == prefix.count + 20 + suffix.count else { return nil }
        return LSN(name.dropFirst(prefix.count).prefix(20))
    }
}

/// The files of one data directory: WAL segments, snapshots and the lock.
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Segment files with their first LSN, oldest first.
    public func segments() throws(StorageError) -> [(name: String, firstLSN: LSN)] {
        try FileReader.list(directory: path).compactMap { name in
            WALFormat.segmentFirstLSN(fileName: name).map { (name, $0) }
        }.sorted { $0.firstLSN < $1.firstLSN }
    }

    /// Snapshot files with their LSN, newest first.
    public func snapshots() throws(StorageError) -> [(name: String, lsn: LSN)] {
        try FileReader.list(directory: path).compactMap { name in
            SnapshotFile.lsn(fileName: name).map { (name, $0) }
        }.sorted { $0.lsn > $1.lsn }
    }

    public var isEmpty: Bool {
        ((try? segments().isEmpty) ?? true) && ((try? snapshots().isEmpty) ?? true)
    }

    /// Writes `bytes` as `name`, whole or not at all: a temporary file, fsync, rename,
    /// directory fsync, so a crash leaves the old file (or none) or the new one. A
    /// failed attempt removes its temporary file: left behind, it would hold space the
    /// log needs (on a full disk it held the last of it).
    public func writeDurably(_ bytes: [UInt8], as name: String, fileSystem: any FileSystem) throws(StorageError) {
        let temporary = file(name + ".tmp")
        try fileSystem.removeFile(atPath: temporary)
        do {
            let created = try fileSystem.createFile(atPath: temporary)
            defer { created.close() }
            try created.append(bytes)
            try created.sync()
            created.close()
            try fileSystem.rename(atPath: temporary, toPath: file(name))
            try fileSystem.syncDirectory(atPath: path)
        } catch {
            try? fileSystem.removeFile(atPath: temporary)
            throw error
        }
    }
}

/// The data directory's lock: an exclusive `flock` on the directory itself, held while
/// the process lives (the kernel drops it when the process dies, even by kill -9). A lock
/// on a file in it was not enough: deleting that file let a second server lock a new
/// one, and two servers handed out the same ids. `LOCK` still holds the owner's pid, for
/// the error message of the next one (and is locked too, as older builds did).
public final class DataDirectoryLock: Sendable {
    private let directoryDescriptor: Int32
    private let fileDescriptor: Int32

    public init(directory: DataDirectory) throws(StorageError) {
        let path = directory.file("LOCK")
        let owner = { (try? FileReader.readAll(atPath: path)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        let busy = { StorageError(.locked, "data directory \(directory.path) is in use by another server (pid \(owner().isEmpty ? "?" : owner()))") }
        let directoryDescriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw .io("cannot open directory \(directory.path)") }
        guard flock(directoryDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(directoryDescriptor)
            throw busy()
        }
        let fileDescriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fileDescriptor >= 0 else {
            close(directoryDescriptor)
            throw .io("cannot open \(path)")
        }
        guard flock(fileDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(fileDescriptor)
            close(directoryDescriptor)
            throw busy()
        }
        let pid = Array(String(getpid()).utf8)
        _ = ftruncate(fileDescriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(fileDescriptor, $0.baseAddress, $0.count, 0) }
        self.directoryDescriptor = directoryDescriptor
        self.fileDescriptor = fileDescriptor
    }

    deinit {
        close(fileDescriptor)
        close(directoryDescriptor)
    }
}
