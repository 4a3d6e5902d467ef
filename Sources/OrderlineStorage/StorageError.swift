import Glibc

/// An operating error of the storage layer: a code, a message that names the file
/// and offset where there is one, and the OS error behind it.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A read, write, fsync, rename or similar failed.
        case io
        /// The data directory holds bytes Orderline did not write (or not in this order).
        case corrupt
        /// Another server holds the data directory's lock.
        case locked
        /// The WAL failed earlier; no write is accepted any more.
        case failed
        /// The write queue is full: the writer is behind (a slow disk); nothing was
        /// queued, and a retry may succeed.
        case busy
        /// The request cannot be served from what is on disk (e.g. `--until` before
        /// the oldest kept snapshot).
        case unavailable
    }

    public var code: Code
    public var message: String
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return message }
        return "\(message): \(String(cString: strerror(errno)))"
    }

    static func io(_ what: String, errno: Int32 = Glibc.errno) -> StorageError {
        StorageError(.io, what, errno: errno)
    }
}
