/// Who a connection acts for, from the token it authenticated with (PROTOCOL.md,
/// Roles). Without a token file every connection is `admin`.
public enum Role: Hashable, Sendable, CustomStringConvertible {
    case admin
    case ops
    /// A POS terminal: reservations and sales at its own store.
    case pos(node: String)
    /// A sales channel: network reservations, its own only.
    case channel(String)
    /// A customer: its own orders (issue #4).
    case customer(String)
    case viewer

    public init?(_ text: some StringProtocol) {
        let parts = String(text).split(separator: Character(":"), maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("admin", 1): self = .admin
        case ("ops", 1): self = .ops
        case ("viewer", 1): self = .viewer
        case ("pos", 2): self = .pos(node: parts[1])
        case ("channel", 2): self = .channel(parts[1])
        case ("customer", 2): self = .customer(parts[1])
        default: return nil
        }
        if case .some(let scope) = parts.dropFirst().first, (try? Arguments.identifier(scope, "scope")) == nil { return nil }
    }

    public var description: String {
        switch self {
        case .admin: "admin"
        case .ops: "ops"
        case .pos(let node): "pos:\(node)"
        case .channel(let name): "channel:\(name)"
        case .customer(let id): "customer:\(id)"
        case .viewer: "viewer"
        }
    }

    /// Whether the role may read what concerns the whole server (`INFO`, `DIGEST`, the
    /// change feed unscoped, `GET /metrics`): admin, ops and viewer.
    public var readsWholeServer: Bool {
        switch self {
        case .admin, .ops, .viewer: true
        case .pos, .channel, .customer: false
        }
    }

    /// Recorded on reservations this role creates, so that scoped roles see only
    /// their own; also the namespace of its idempotency keys.
    public var ownerTag: String {
        switch self {
        case .admin, .ops, .viewer: ""
        case .pos, .channel, .customer: description
        }
    }
}

/// The role check for core commands: pure, against the state (a scoped role may touch
/// only reservations it owns or that sit at its node).
extension OrderlineState {
    public func authorize(_ command: Command, as role: Role) -> Rejection? {
        func deny(_ why: String) -> Rejection { Rejection(.noPermission, "\(role) \(why)") }
        // An order, shipment or return outside a scoped role's reach answers as if it
        // did not exist: NOPERM would tell one scope which ids another uses.
        func hidden(_ what: String) -> Rejection { .notFound(what) }
        switch role {
        case .admin, .ops:
            return nil
        case .viewer:
            return command.isRead ? nil : deny("may only read")
        case .customer(let id):
            // Unknown orders pass here: NOTFOUND says more, and reveals nothing.
            func own(_ order: String, _ what: String) -> Rejection? {
                guard let found = orders[order] else { return nil }
                return found.customer == id ? nil : hidden(what)
            }
            switch command {
            case .orderGet(let order), .orderExplain(let order), .orderStatus(let order), .invoiceGet(let order):
                return own(order, "order \(order)")
            case .returnOpen(let request): return own(request.order, "order \(request.order)")
            case .returnGet(let child): return own(child.order, "return \(child)")
            case .shipmentGet(let child): return own(child.order, "shipment \(child)")
            case .orderList(_, let customer, _, _):
                return customer == id ? nil : deny("lists its own orders only: add customer=\(id)")
            default:
                return deny("may only see and return its own orders")
            }
        case .pos(let node):
            switch command {
            case .skuGet, .stockGet, .nodeGet, .nodeList: return nil
            case .reserve(_, _, let target, _, _, _):
                return target == node ? nil : deny("reserves only at its node: add node=\(node)")
            case .commit(let id, _), .release(let id), .reservationGet(let id):
                guard let reservation = reservations[id] else { return nil }  // NOTFOUND says more
                return reservation.node == node ? nil : deny("may only touch reservations at \(node)")
            case .orderCreate(let request):
                guard request.channel == .pos && request.pickupStore == node else {
                    return deny("takes POS orders at its store only: channel=pos mode=pickup store=\(node)")
                }
                guard let existing = orders[request.id] else { return nil }
                return existing.channel == .pos && existing.pickupStore == node ? nil : .conflict("order \(request.id) exists with other content")
            case .orderGet(let id), .orderExplain(let id), .orderCancel(let id), .orderStatus(let id), .invoiceGet(let id):
                guard let order = orders[id] else { return nil }
                return order.channel == .pos && order.pickupStore == node ? nil : hidden("order \(id)")
            case .shipmentList(let target, _, _):
                return target == node ? nil : deny("sees its own work queue only: node=\(node)")
            case .shipmentGet(let id), .shipmentAdvance(let id, _, _):
                guard let shipment = orders[id.order]?.shipments.first(where: { $0.number == id.number }) else { return nil }
                return shipment.node == node ? nil : hidden("shipment \(id)")
            case .returnOpen(let request):
                return request.node == node ? nil : deny("takes returns at its store only: node=\(node)")
            case .returnReceive(let id, _), .returnGet(let id):
                guard let returned = orders[id.order]?.returns.first(where: { $0.number == id.number }) else { return nil }
                return returned.node == node ? nil : hidden("return \(id)")
            default:
                return deny("may not run this command")
            }
        case .channel(let channelName):
            switch command {
            case .skuGet, .stockGet: return nil
            case .reserve(_, _, let target, _, _, _):
                return target == nil ? nil : deny("holds network stock only: drop node=")
            case .release(let id), .reservationGet(let id):
                guard let reservation = reservations[id] else { return nil }
                return reservation.owner == role.ownerTag ? nil : deny("may only touch its own reservations")
            case .orderCreate(let request):
                guard request.channel.rawValue == channelName else { return deny("creates orders of its own channel only: channel=\(channelName)") }
                guard let existing = orders[request.id] else { return nil }
                // Ids are one namespace: say no more than a clash within the channel would.
                return existing.channel.rawValue == channelName ? nil : .conflict("order \(request.id) exists with other content")
            case .orderGet(let id), .orderExplain(let id), .orderCancel(let id), .orderStatus(let id), .invoiceGet(let id):
                guard let order = orders[id] else { return nil }
                return order.channel.rawValue == channelName ? nil : hidden("order \(id)")
            case .orderEdit(let edit):
                guard let order = orders[edit.id] else { return nil }
                return order.channel.rawValue == channelName ? nil : hidden("order \(edit.id)")
            case .returnOpen(let request):
                guard let order = orders[request.order] else { return nil }
                return order.channel.rawValue == channelName ? nil : hidden("order \(request.order)")
            case .orderList(_, _, let channel, _):
                return channel?.rawValue == channelName ? nil : deny("lists its channel's orders only: add channel=\(channelName)")
            default:
                return deny("may not run this command")
            }
        }
    }
}
