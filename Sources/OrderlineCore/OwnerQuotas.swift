/// What one scope (`pos:<node>`, `channel:<name>`: all its tokens together) may hold at a
/// time, so that no one of them can take a flash sale's whole stock, or the server's
/// memory, for itself.
/// admin and ops are not limited. The shell's configuration (`orderline serve
/// --max-held-per-owner …`); a limit is checked when deciding, so changing one never
/// changes what a replay of the log gives.
public struct OwnerQuotas: Sendable, Hashable {
    /// Reservations held at once by one scope.
    public var heldReservationsMax = 100_000
    /// Units in one reservation.
    public var cartUnitsMax: Int64 = 100
    /// Orders of a channel waiting for stock (status `backordered`, whoever placed them)
    /// beyond which a channel token may not place one more that would wait.
    public var openBackordersMax = 1_000

    public init() {}
}
