import OrderlineCore

/// `HISTORY`: the terms a data directory's log went through, as PostgreSQL's timeline
/// history files keep them. Every log begins in term 1; promoting a replica
/// (`REPLICAOF NO ONE`) begins the next term at the LSN after the last one it had, and
/// a replica takes its primary's history as it follows it.
///
/// A replica shows that its log is a prefix of its primary's with the term of its last
/// event and that LSN: the primary's history must place that LSN in that same term.
/// An old primary that kept writing after a replica was promoted in its place fails
/// this check (its last events are in the old term, past where the new one began), and
/// is told so instead of being merged.
///
/// The file is text, one `<term> <first LSN>` per line, oldest first; none means term
/// 1 from LSN 1. It is replaced whole (a temporary file, fsync, rename, directory fsync).
public struct ReplicationHistory: Sendable, Equatable, CustomStringConvertible {
    /// A term is known by its number and where it began: two servers promoted to the
    /// same number (each on its own, from its own term) began it at different LSNs.
    public struct Term: Sendable, Equatable, CustomStringConvertible {
        public var number: UInt64
        public var firstLSN: LSN

        public var description: String { "\(number):\(firstLSN)" }

        /// `<number>:<first LSN>`.
        public init?(_ text: some StringProtocol) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let number = UInt64(parts[0]), let first = LSN(parts[1]), number >= 1, first >= 1 else { return nil }
            self.init(number: number, firstLSN: first)
        }

        public init(number: UInt64, firstLSN: LSN) {
            self.number = number
            self.firstLSN = firstLSN
        }
    }

    public static let fileName = "HISTORY"

    /// Oldest first; never empty.
    public private(set) var terms: [Term]

    public init() { terms = [Term(number: 1, firstLSN: 1)] }

    /// The term new events are written in.
    public var current: Term { terms[terms.count - 1] }

    /// The term of the event at `lsn` (LSN 0, before any event: the first term).
    public func term(at lsn: LSN) -> Term {
        terms.last(where: { $0.firstLSN <= lsn }) ?? terms[0]
    }

    /// The history after promoting a server whose log ends at `lsn`.
    public func promoted(after lsn: LSN) -> ReplicationHistory {
        var next = self
        if let last = next.terms.last, last.firstLSN == lsn + 1 {
            next.terms.removeLast()  // a term in which nothing was written
        }
        next.terms.append(Term(number: current.number + 1, firstLSN: lsn + 1))
        return next
    }

    /// The history of a log cut after `lsn` and written on from there as a log of its
    /// own (`orderline restore`): the terms up to `lsn`, then a new one. No replica of
    /// the old log, which may hold other events after `lsn` in the old term, can then
    /// follow the new one as if it were the same log.
    public func forked(after lsn: LSN) -> ReplicationHistory {
        var cut = self
        cut.terms.removeAll { $0.firstLSN > lsn && $0 != terms[0] }
        return cut.promoted(after: lsn)
    }

    /// `<term>:<first LSN>,…`, as `PSYNC`'s reply carries it.
    public var description: String { terms.map(\.description).joined(separator: ",") }

    /// `<term>:<first LSN>,…`, terms rising.
    public init?(_ text: some StringProtocol) {
        var terms: [Term] = []
        for entry in text.split(separator: ",") {
            guard let term = Term(entry), terms.last.map({ term.number > $0.number && term.firstLSN >= $0.firstLSN }) ?? true else { return nil }
            terms.append(term)
        }
        guard !terms.isEmpty else { return nil }
        self.terms = terms
    }

    // MARK: The file

    /// The directory's history; a new one when it has no file.
    public static func read(in directory: DataDirectory) throws(StorageError) -> ReplicationHistory {
        let path = directory.file(fileName)
        guard FileReader.fileExists(atPath: path) else { return ReplicationHistory() }
        let text = String(decoding: try FileReader.readAll(atPath: path), as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: ":") }
        guard let history = ReplicationHistory(lines.joined(separator: ",")) else {
            throw StorageError(.corrupt, "\(path) is not a history of terms (one '<term> <first LSN>' per line)")
        }
        return history
    }

    /// Replaces the directory's history durably.
    public func write(in directory: DataDirectory, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) {
        try directory.writeDurably(Array(terms.map { "\($0.number) \($0.firstLSN)\n" }.joined().utf8), as: Self.fileName, fileSystem: fileSystem)
    }
}
