import NIOCore

/// The server's open connections, on its event loop: for the limits that count across
/// connections (clients in all, per address, the slots kept for admin) and for the
/// deadlines a timer checks once a second (authentication, a request still arriving,
/// replies a client does not read).
final class ConnectionRegistry {
    enum Admission: Equatable {
        case admitted
        /// Over `clientsMax`, in a slot kept for admin: only an admin token may AUTH.
        case keptForAdmin
        case refused(String)
    }

    private let configuration: ServerConfiguration
    private var connections: [ObjectIdentifier: ConnectionHandler] = [:]
    private var byAddress: [String: Int] = [:]
    private(set) var count = 0
    /// Since when the engine serves: the auth deadline of a connection that came while
    /// the server recovered (and got LOADING) counts from here.
    var servingSince = NIODeadline.distantFuture

    init(configuration: ServerConfiguration) { self.configuration = configuration }

    /// Takes a slot for a connection from `address`, or says why not. Every admitted
    /// connection must `release` its slot when it closes.
    func admit(address: String) -> Admission {
        if byAddress[address, default: 0] >= configuration.clientsPerAddressMax {
            return .refused("LIMIT too many connections from \(address) (\(configuration.clientsPerAddressMax))")
        }
        let reserved = configuration.tokens == nil ? 0 : configuration.adminReservedClients
        guard count < configuration.clientsMax + reserved else {
            return .refused("LIMIT max number of clients reached (\(configuration.clientsMax))")
        }
        count += 1
        byAddress[address, default: 0] += 1
        return count > configuration.clientsMax ? .keptForAdmin : .admitted
    }

    func release(address: String) {
        count -= 1
        byAddress[address, default: 1] -= 1
        if byAddress[address] == 0 { byAddress[address] = nil }
    }

    func register(_ connection: ConnectionHandler) { connections[ObjectIdentifier(connection)] = connection }
    func unregister(_ connection: ConnectionHandler) { connections[ObjectIdentifier(connection)] = nil }

    /// Closes the connections past a deadline.
    func sweep(now: NIODeadline) {
        for connection in connections.values { connection.checkDeadlines(now: now) }
    }
}
