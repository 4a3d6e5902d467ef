/// What one scoped token (`pos:<node>`, `channel:<name>`) may hold at a time, so that no
/// one of them can take a flash sale's whole stock, or the server's memory, for itself.
/// admin and ops are not limited. The shell's configuration (`orderline serve
/// --max-held-per-owner …`); a limit is checked when deciding, so changing one never
/// changes what a replay of the log gives.
public struct OwnerQuotas: Sendable, Hashable {
    /// Reservations held at once by one owner.
    public var heldReservationsMax = 100_000
    /// Units in one reservation.
    public var cartUnitsMax: Int64 = 100
    /// Orders of a channel token's channel waiting for stock (status `backordered`).
    public var openBackordersMax = 1_000

    public init() {}
}
