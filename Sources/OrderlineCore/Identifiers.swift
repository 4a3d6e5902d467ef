/// Log sequence number: the position of one event in the write-ahead log, from 1.
public typealias LSN = UInt64

/// Seconds since the Unix epoch. The core never reads a clock: time comes in with
/// each command and is written into the events that need it.
public typealias Timestamp = Int64

/// What a numbered id identifies, and the letter it shows on the wire.
public protocol NumberedIDKind {
    static var prefix: Character { get }
    static var noun: String { get }
}

/// An id that is a number chosen by the shell (ids are inputs), written into the
/// event that creates the thing, shown on the wire as a letter and the number
/// (`R12`, `T3`).
public struct NumberedID<Kind: NumberedIDKind>: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var number: UInt64
    public init(_ number: UInt64) { self.number = number }

    public init?(wire: some StringProtocol) {
        guard wire.first == Kind.prefix, let number = UInt64(wire.dropFirst()), number > 0 else { return nil }
        self.number = number
    }

    public var description: String { String(Kind.prefix) + String(number) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}

public enum ReservationIDKind: NumberedIDKind {
    public static let prefix: Character = "R"
    public static let noun = "reservation"
}

public enum TransferIDKind: NumberedIDKind {
    public static let prefix: Character = "T"
    public static let noun = "transfer"
}

public typealias ReservationID = NumberedID<ReservationIDKind>
public typealias TransferID = NumberedID<TransferIDKind>
