import Foundation
import OrderlineStorage

/// The progress line of a long replay, on standard error when it is a terminal.
enum ReplayProgress {
    static var shown: Bool { isatty(STDERR_FILENO) != 0 }

    /// The callback for `Recovery.recover`, or nil when standard error is not a terminal.
    static func line() -> ((Recovery.Progress) -> Void)? {
        guard shown else { return nil }
        return { progress in
            let percent = progress.bytesTotal > 0 ? 100 * progress.bytesRead / progress.bytesTotal : 100
            FileHandle.standardError.write(Data("\rreplaying: \(progress.eventsReplayed) events, LSN \(progress.lsn), \(percent)% of the log   ".utf8))
        }
    }

    /// Clears the line once the replay is over.
    static func clear() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
