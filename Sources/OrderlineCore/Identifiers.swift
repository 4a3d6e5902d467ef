/// Log sequence number: the position of one event in the write-ahead log, from 1.
public typealias LSN = UInt64

/// Seconds since the Unix epoch. The core never reads a clock: time comes in with
/// each command and is written into the events that need it.
public typealias Timestamp = Int64

/// A reservation's id: a number chosen by the shell (ids are inputs), written into
/// the event that creates it, shown on the wire as `R<number>`.
public struct ReservationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt64
    public init(_ number: UInt64) { self.number = number }

    public init?(wire: some StringProtocol) {
        guard wire.first == "R", let number = UInt64(wire.dropFirst()), number > 0 else { return nil }
        self.number = number
    }

    public var description: String { "R\(number)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}
