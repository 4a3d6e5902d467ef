import Foundation
import OrderlineCore

extension SegmentScanner {
    /// `scan`, with the frames checked, decompressed and decoded on a thread of their
    /// own, a few thousand events ahead of `body`, which runs on the caller's thread:
    /// replay and recovery use a second core (decoding was about a third of replay).
    /// `body` gets whole frames only: a frame that fails to decode is given to it not
    /// at all, so what was applied ends where the log is cut.
    func scanAhead(skippingThrough: LSN = 0, _ body: (LSN, Event) throws -> Void) throws -> Outcome {
        let frames = DecodedFrames(chunksAhead: 8)
        let name = name, bytes = bytes
        let reader = Thread {
            Thread.current.name = "wal-read-ahead"
            let scanner = SegmentScanner(name: name, bytes: bytes)
            var chunk: [DecodedFrames.Logged] = []
            chunk.reserveCapacity(DecodedFrames.eventsPerChunk + 1_024)
            var whole = 0  // events of whole frames at the front of `chunk`
            do {
                let outcome = try scanner.scan(skippingThrough: skippingThrough, frameDecoded: {
                    whole = chunk.count
                    guard whole >= DecodedFrames.eventsPerChunk else { return }
                    guard frames.put(.events(chunk)) else { throw DecodedFrames.Stopped() }
                    chunk.removeAll(keepingCapacity: true)
                    whole = 0
                }) { lsn, event in chunk.append(DecodedFrames.Logged(lsn: lsn, event: event)) }
                chunk.removeSubrange(whole...)  // a frame that failed part-way
                if !chunk.isEmpty, !frames.put(.events(chunk)) { return }
                _ = frames.put(.end(outcome))
            } catch is DecodedFrames.Stopped {
                return
            } catch {
                _ = frames.put(.failed(error))
            }
        }
        reader.start()
        while true {
            switch frames.take() {
            case .events(let events):
                do {
                    // Each event lent to `body` where it lies: no copy to retain and release.
                    try events.withUnsafeBufferPointer { events in
                        for index in events.indices { try body(events[index].lsn, events[index].event) }
                    }
                } catch {
                    frames.stop()
                    throw error
                }
            case .end(let outcome): return outcome
            case .failed(let error): throw error
            }
        }
    }
}

/// Decoded events on their way from the thread that reads a segment to the one that
/// applies them. At most `chunksAhead` chunks wait, so reading ahead holds little
/// memory and stops when the applying side stops.
final class DecodedFrames: @unchecked Sendable {
    // Safe to share: `waiting` and `stopped` are read and written only with
    // `condition` locked, and every item put in is Sendable.
    struct Logged: Sendable {
        let lsn: LSN
        let event: Event
    }

    enum Item: Sendable {
        case events([Logged])
        case end(SegmentScanner.Outcome)
        case failed(any Error)
    }

    struct Stopped: Error {}

    static let eventsPerChunk = 4_096

    private let condition = NSCondition()
    private let chunksAhead: Int
    private var waiting: [Item] = []
    private var stopped = false

    init(chunksAhead: Int) { self.chunksAhead = chunksAhead }

    /// Waits for room; false once the applying side has stopped.
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= chunksAhead, !stopped { condition.wait() }
        guard !stopped else { return false }
        waiting.append(item)
        condition.broadcast()
        return true
    }

    func take() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty { condition.wait() }
        let item = waiting.removeFirst()
        condition.broadcast()
        return item
    }

    /// The applying side gives up: the reader's next `put` answers false.
    func stop() {
        condition.lock()
        stopped = true
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
