import Glibc

/// The file operations the storage layer's write paths go through. Production uses
/// `PosixFileSystem`; tests wrap it to inject failures (disk full, failed fsync) at
/// chosen points, deterministically.
public protocol FileSystem: Sendable {
    /// Creates a new file for appending; fails if it exists.
    func createFile(atPath path: String) throws(StorageError) -> any AppendableFile
    /// `fsync` of a directory, so that created, renamed and removed names are durable.
    func syncDirectory(atPath path: String) throws(StorageError)
    func rename(atPath source: String, toPath destination: String) throws(StorageError)
    func removeFile(atPath path: String) throws(StorageError)
    /// Cuts a file at `size` bytes and fsyncs it (torn-tail repair).
    func truncateFile(atPath path: String, toBytes size: Int) throws(StorageError)
    /// Opens (creating if needed) a small file rewritten in place (`CHECKPOINT`).
    func openForOverwrite(atPath path: String) throws(StorageError) -> any OverwrittenFile
}

/// A small file rewritten in place from offset 0, by one thread.
public protocol OverwrittenFile: AnyObject {
    var path: String { get }
    /// Writes `bytes` at offset 0 (one `pwrite`; no fsync).
    func overwrite(_ bytes: [UInt8]) throws(StorageError)
    /// `fdatasync`.
    func sync() throws(StorageError)
}

/// A file being written by one thread.
public protocol AppendableFile: AnyObject {
    var path: String { get }
    func append(_ bytes: [UInt8]) throws(StorageError)
    /// `fdatasync`: the bytes appended so far are durable when it returns.
    func sync() throws(StorageError)
    func close()
}

public struct PosixFileSystem: FileSystem {
    public init() {}

    public func createFile(atPath path: String) throws(StorageError) -> any AppendableFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io("cannot create \(path)") }
        return PosixAppendableFile(path: path, descriptor: descriptor)
    }

    public func syncDirectory(atPath path: String) throws(StorageError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open directory \(path)") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io("fsync of directory \(path) failed") }
    }

    public func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        guard Glibc.rename(source, destination) == 0 else { throw .io("cannot rename \(source) to \(destination)") }
    }

    public func removeFile(atPath path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .io("cannot remove \(path)") }
    }

    public func truncateFile(atPath path: String, toBytes size: Int) throws(StorageError) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open \(path)") }
        defer { Glibc.close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw .io("cannot truncate \(path) at \(size)") }
        guard fsync(descriptor) == 0 else { throw .io("fsync of \(path) failed") }
    }

    public func openForOverwrite(atPath path: String) throws(StorageError) -> any OverwrittenFile {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io("cannot open \(path)") }
        return PosixOverwrittenFile(path: path, descriptor: descriptor)
    }
}

final class PosixOverwrittenFile: OverwrittenFile {
    let path: String
    private let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    func overwrite(_ bytes: [UInt8]) throws(StorageError) {
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count else { throw .io("cannot write \(path)") }
    }

    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw .io("fdatasync of \(path) failed") }
    }
}

final class PosixAppendableFile: AppendableFile {
    let path: String
    private var descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close() }

    func append(_ bytes: [UInt8]) throws(StorageError) {
        let failed = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += written
            }
            return false
        }
        if failed { throw .io("write to \(path) failed") }
    }

    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw .io("fdatasync of \(path) failed") }
    }

    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }
}

/// Plain reads and directory listing. Read paths need no fault injection: a failed
/// read is reported, and nothing is changed because of it.
public enum FileReader {
    public static func readAll(atPath path: String) throws(StorageError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open \(path)") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("cannot stat \(path)") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        let failed = bytes.withUnsafeMutableBytes { buffer -> Bool in
            while offset < buffer.count {
                let count = read(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                if count == 0 { break }
                offset += count
            }
            return false
        }
        if failed { throw .io("read of \(path) failed") }
        if offset < bytes.count { bytes.removeSubrange(offset...) }
        return bytes
    }

    public static func list(directory: String) throws(StorageError) -> [String] {
        guard let handle = opendir(directory) else { throw .io("cannot list \(directory)") }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The file's size in bytes, or nil when it cannot be read.
    public static func size(atPath path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    public static func fileExists(atPath path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func createDirectory(atPath path: String) throws(StorageError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .io("cannot create directory \(path)") }
    }
}
