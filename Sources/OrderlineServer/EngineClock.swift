import Foundation
import OrderlineCore
import NIOConcurrencyHelpers

/// Where the shell gets the time it stamps into commands. The core never asks.
public protocol EngineClock: Sendable {
    func now() -> Timestamp
}

public struct SystemClock: EngineClock {
    public init() {}
    public func now() -> Timestamp { Timestamp(Date().timeIntervalSince1970) }
}

/// A clock that moves only when told (`--clock manual`, tests).
public final class ManualClock: EngineClock {
    private let current: NIOLockedValueBox<Timestamp>

    /// 2026-01-01T00:00:00Z, so that test timestamps read as dates.
    public static let epoch: Timestamp = 1_767_225_600

    public init(_ start: Timestamp = ManualClock.epoch) { current = NIOLockedValueBox(start) }

    public func now() -> Timestamp { current.withLockedValue { $0 } }

    public func advance(by seconds: Int64) {
        current.withLockedValue { $0 += seconds }
    }

    /// Moves to `time` if that is later (a restart picks up from the log's last time).
    public func advance(toAtLeast time: Timestamp) {
        current.withLockedValue { $0 = max($0, time) }
    }
}
