import Foundation

/// The progress bar of an import, on standard error when it is a terminal.
struct ImportProgress {
    var total: Int

    static var shown: Bool { isatty(STDERR_FILENO) != 0 }

    func show(done: Int, rejected: Int) {
        guard Self.shown, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\rimporting [\(bar)] \(100 * done / total)% \(done)/\(total) rows, \(rejected) rejected   ".utf8))
    }

    /// Clears the line once the import is over.
    func clear() {
        if Self.shown, total > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
