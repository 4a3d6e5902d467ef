import OrderlineStorage
import NIOConcurrencyHelpers

/// A file system for power-cut tests. Every operation goes to the real file system and
/// is also recorded in a model of what a disk holds for certain and what it may still
/// lose: bytes written but not yet `fdatasync`ed, and names created, renamed or removed
/// but not yet made durable by an fsync of the directory.
///
/// `image(using:)` turns a moment of the model into one directory a power cut at that
/// moment could leave: names as of the last directory fsync plus any prefix of the
/// directory operations since (a journaling file system keeps their order); each file's
/// synced bytes plus any prefix of its unsynced ones, torn at any byte (or, now and then,
/// with whole sectors of the unsynced part as zeros, as a file extended before its data
/// reached the disk);
/// a file rewritten in place holds its synced version or any version written since.
/// Files are independent of each other, so what reaches the disk is reordered between them.
public final class PowerLossFileSystem: FileSystem {
    /// One file's contents, as the disk may hold them.
    public struct Inode: Sendable {
        var durable: [UInt8] = []
        var written: [UInt8] = []
        /// Rewritten in place (the checkpoint): the versions written since the last sync.
        var overwritten = false
        var versions: [[UInt8]] = []
    }

    enum DirectoryOperation: Sendable {
        case create(name: String, inode: Int)
        case rename(from: String, to: String, inode: Int)
        case remove(name: String)
    }

    /// A moment of the model (a value: taking one is cheap, the contents are shared).
    public struct Moment: Sendable {
        var inodes: [Int: Inode]
        var durableNames: [String: Int]
        var pending: [DirectoryOperation]
        /// What was just done: "create", "append", "sync", "rename", "remove",
        /// "syncDirectory", "truncate", "overwrite".
        public var lastOperation: String
        /// The file it was done to (its name).
        public var lastPath: String

        /// Directory operations not yet durable.
        public var pendingDirectoryOperations: Int { pending.count }

        /// The files one power cut at this moment could leave, by name, drawn with `generator`.
        public func image(using generator: inout SeededGenerator) -> [String: [UInt8]] {
            var names = durableNames
            for operation in pending.prefix(Int.random(in: 0...pending.count, using: &generator)) {
                switch operation {
                case .create(let name, let inode): names[name] = inode
                case .rename(let from, let to, let inode):
                    names[from] = nil
                    names[to] = inode
                case .remove(let name): names[name] = nil
                }
            }
            var files: [String: [UInt8]] = [:]
            for (name, number) in names {
                guard let inode = inodes[number] else { continue }
                if inode.overwritten {
                    let choices = [inode.durable] + inode.versions
                    files[name] = choices[Int.random(in: 0..<choices.count, using: &generator)]
                    continue
                }
                let unsynced = inode.written.count - inode.durable.count
                guard unsynced > 0 else {
                    files[name] = inode.written
                    continue
                }
                let kept = Int.random(in: 0...unsynced, using: &generator)
                var bytes = Array(inode.written.prefix(inode.durable.count + kept))
                if Int.random(in: 0..<8, using: &generator) == 0 {
                    // Zeros come a whole sector at a time: the size reached the disk, some
                    // of the data behind it did not.
                    let sector = 512
                    let start = max(inode.durable.count, bytes.count / sector * sector)
                    bytes = Array(bytes.prefix(start))
                    let end = min(inode.written.count, start + Int.random(in: 0...(inode.written.count - start), using: &generator))
                    bytes += [UInt8](repeating: 0, count: (end - start + sector - 1) / sector * sector)
                }
                files[name] = bytes
            }
            return files
        }
    }

    fileprivate struct Model {
        var inodes: [Int: Inode] = [:]
        var nextInode = 1
        var names: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var pending: [DirectoryOperation] = []
        var moments: [Moment] = []
        var recordsMoments = false

        mutating func record(_ operation: String, _ path: String) {
            guard recordsMoments else { return }
            moments.append(moment(operation, path))
        }

        func moment(_ operation: String, _ path: String) -> Moment {
            Moment(inodes: inodes, durableNames: durableNames, pending: pending, lastOperation: operation, lastPath: path)
        }
    }

    private let base = PosixFileSystem()
    private let model = NIOLockedValueBox(Model())

    /// With `recordingEveryMoment`, a moment is kept after every operation (`moments`).
    public init(recordingEveryMoment: Bool = false) {
        model.withLockedValue { $0.recordsMoments = recordingEveryMoment }
    }

    /// The model now.
    public var now: Moment { model.withLockedValue { $0.moment("now", "") } }

    /// The moments kept after every operation, in order (with `recordingEveryMoment`).
    public var moments: [Moment] { model.withLockedValue { $0.moments } }

    fileprivate func change(_ operation: String, _ path: String, _ body: (inout Model) -> Void) {
        model.withLockedValue { model in
            body(&model)
            model.record(operation, path)
        }
    }

    public func createFile(atPath path: String) throws(StorageError) -> any AppendableFile {
        let file = try base.createFile(atPath: path)
        var number = 0
        change("create", path) { model in
            number = model.nextInode
            model.nextInode += 1
            model.inodes[number] = Inode()
            model.names[path] = number
            model.pending.append(.create(name: path, inode: number))
        }
        return ModelledFile(base: file, inode: number, owner: self)
    }

    public func syncDirectory(atPath path: String) throws(StorageError) {
        try base.syncDirectory(atPath: path)
        change("syncDirectory", path) { model in
            model.durableNames = model.names
            model.pending = []
        }
    }

    public func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        try base.rename(atPath: source, toPath: destination)
        change("rename", destination) { model in
            guard let number = model.names.removeValue(forKey: source) else { return }
            model.names[destination] = number
            model.pending.append(.rename(from: source, to: destination, inode: number))
        }
    }

    public func removeFile(atPath path: String) throws(StorageError) {
        try base.removeFile(atPath: path)
        change("remove", path) { model in
            guard model.names.removeValue(forKey: path) != nil else { return }
            model.pending.append(.remove(name: path))
        }
    }

    public func truncateFile(atPath path: String, toBytes size: Int) throws(StorageError) {
        try base.truncateFile(atPath: path, toBytes: size)
        change("truncate", path) { model in
            guard let number = model.names[path] else { return }
            model.inodes[number]!.written = Array(model.inodes[number]!.written.prefix(size))
            model.inodes[number]!.durable = model.inodes[number]!.written
        }
    }

    public func openForOverwrite(atPath path: String) throws(StorageError) -> any OverwrittenFile {
        let file = try base.openForOverwrite(atPath: path)
        var number = 0
        change("create", path) { model in
            if let existing = model.names[path] {
                number = existing
            } else {
                number = model.nextInode
                model.nextInode += 1
                model.names[path] = number
                model.pending.append(.create(name: path, inode: number))
            }
            model.inodes[number, default: Inode()].overwritten = true
        }
        return ModelledOverwrittenFile(base: file, inode: number, owner: self)
    }
}

private final class ModelledFile: AppendableFile {
    let base: any AppendableFile
    let inode: Int
    let owner: PowerLossFileSystem

    init(base: any AppendableFile, inode: Int, owner: PowerLossFileSystem) {
        self.base = base
        self.inode = inode
        self.owner = owner
    }

    var path: String { base.path }

    func append(_ bytes: [UInt8]) throws(StorageError) {
        try base.append(bytes)
        owner.change("append", path) { $0.inodes[inode]!.written += bytes }
    }

    func sync() throws(StorageError) {
        try base.sync()
        owner.change("sync", path) { $0.inodes[inode]!.durable = $0.inodes[inode]!.written }
    }

    func close() { base.close() }
}

private final class ModelledOverwrittenFile: OverwrittenFile {
    let base: any OverwrittenFile
    let inode: Int
    let owner: PowerLossFileSystem

    init(base: any OverwrittenFile, inode: Int, owner: PowerLossFileSystem) {
        self.base = base
        self.inode = inode
        self.owner = owner
    }

    var path: String { base.path }

    func overwrite(_ bytes: [UInt8]) throws(StorageError) {
        try base.overwrite(bytes)
        owner.change("overwrite", path) { model in
            model.inodes[inode]!.written = bytes
            model.inodes[inode]!.versions.append(bytes)
        }
    }

    func sync() throws(StorageError) {
        try base.sync()
        owner.change("sync", path) { model in
            model.inodes[inode]!.durable = model.inodes[inode]!.written
            model.inodes[inode]!.versions = []
        }
    }
}
