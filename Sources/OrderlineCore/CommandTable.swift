/// What a command is, as data: the dispatcher's checks (before AUTH, while loading,
/// whose role), `COMMAND`'s answer, routing by key and the docs check all read this, and
/// nothing else says whether a command writes.
public struct CommandFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Changes state (logged); without it, a read.
    public static let write = CommandFlags(rawValue: 1 << 0)
    /// Answered while the server replays its log (the rest get `LOADING`).
    public static let allowedWhileLoading = CommandFlags(rawValue: 1 << 1)
    /// Answered before AUTH (the rest get `NOAUTH`).
    public static let allowedBeforeAuthentication = CommandFlags(rawValue: 1 << 2)
    /// admin only.
    public static let admin = CommandFlags(rawValue: 1 << 3)
    /// admin, ops and viewer: commands that show the whole server.
    public static let serverWide = CommandFlags(rawValue: 1 << 4)
    /// About the connection itself (AUTH, HELLO, QUIT, MULTI…): not queued in MULTI.
    public static let connection = CommandFlags(rawValue: 1 << 5)
    /// Not queued in MULTI (EXEC makes every reply in one turn of the loop).
    public static let notInTransaction = CommandFlags(rawValue: 1 << 6)

    /// The names `COMMAND` gives them (Redis's where Redis has one).
    public var names: [String] {
        var names = [contains(.write) ? "write" : "readonly"]
        if contains(.allowedWhileLoading) { names.append("loading") }
        if contains(.allowedBeforeAuthentication) { names.append("no_auth") }
        if contains(.admin) { names.append("admin") }
        if contains(.connection) || contains(.notInTransaction) { names.append("no_multi") }
        return names
    }
}

/// One command of the registry: its name, its arity as Redis counts it (the name
/// included; negative: at least that many), its flags, and where its key is (the SKU,
/// order, reservation… a request routes by; 0: none), as `COMMAND` shows them.
public struct CommandInfo: Sendable {
    public let name: String
    public let arity: Int
    public let flags: CommandFlags
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int

    public init(_ name: String, arity: Int, flags: CommandFlags, key: Int = 0) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = key
        self.lastKey = key
        self.keyStep = key == 0 ? 0 : 1
    }

    /// Whether a request of `tokens` tokens (the name included) has the right count.
    public func accepts(tokenCount: Int) -> Bool {
        arity >= 0 ? tokenCount == arity : tokenCount >= -arity
    }
}

/// Every core command declared as data: its name, how many positional arguments it
/// takes, its options, whether it writes, where its key is, and how it parses. One
/// dispatch path uses this table; adding a command is one entry here and one case in
/// `decide` (and its name in `Command.name`).
public struct CommandSpec: Sendable {
    public let name: String
    public let positionalCount: ClosedRange<Int>
    public let options: Set<String>
    public let writes: Bool
    /// The position (in the request, the name at 0) of the key a request routes by.
    public let key: Int
    public let parse: @Sendable (Arguments) throws(Rejection) -> Command

    /// `key`: default, the first positional argument if there always is one.
    public init(
        _ name: String, positional: ClosedRange<Int>, options: Set<String> = [], writes: Bool, key: Int? = nil,
        parse: @escaping @Sendable (Arguments) throws(Rejection) -> Command
    ) {
        self.name = name
        self.positionalCount = positional
        self.options = options
        self.writes = writes
        self.key = key ?? (positional.lowerBound >= 1 ? 1 : 0)
        self.parse = parse
    }

    public var info: CommandInfo {
        let fixed = options.isEmpty && positionalCount.lowerBound == positionalCount.upperBound
        return CommandInfo(
            name, arity: fixed ? 1 + positionalCount.lowerBound : -(1 + positionalCount.lowerBound),
            flags: writes ? .write : [], key: key)
    }
}

public enum CommandTable {
    public static let specs: [CommandSpec] = inventorySpecs + lifecycleSpecs

    static let inventorySpecs: [CommandSpec] = [
        CommandSpec("NODE.ADD", positional: 1...1, options: ["kind", "lat", "lon", "ship", "pickup", "returns", "capacity", "cost"], writes: true) { arguments throws(Rejection) in
            let kindText = try arguments.required("kind")
            guard let kind = Node.Kind(name: kindText.lowercased()) else {
                throw .invalid("kind '\(kindText.prefix(80))' must be warehouse, store or dropship")
            }
            let location = Coordinate(
                latitudeMicrodegrees: try Arguments.degrees(try arguments.required("lat"), "lat", limit: 90),
                longitudeMicrodegrees: try Arguments.degrees(try arguments.required("lon"), "lon", limit: 180))
            return .nodeAdd(NodeUpdate(
                id: try arguments.identifier(at: 0, "node"), kind: kind, location: location,
                ships: try arguments.option("ship").map { v throws(Rejection) in try Arguments.flag(v, "ship") },
                offersPickup: try arguments.option("pickup").map { v throws(Rejection) in try Arguments.flag(v, "pickup") },
                acceptsReturns: try arguments.option("returns").map { v throws(Rejection) in try Arguments.flag(v, "returns") },
                capacityPerDay: try arguments.option("capacity").map { v throws(Rejection) in
                    try Arguments.integer(v, "capacity", in: 0...Arguments.quantityMax)
                },
                handlingCostCents: try arguments.option("cost").map { v throws(Rejection) in
                    try Arguments.integer(v, "cost", in: 0...Arguments.moneyMax)
                }))
        },
        CommandSpec("NODE.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .nodeGet(try arguments.identifier(at: 0, "node"))
        },
        CommandSpec("NODE.LIST", positional: 0...0, writes: false) { _ throws(Rejection) in .nodeList },
        CommandSpec("SKU.ADD", positional: 1...1, options: ["price", "weight", "name", "limit", "sale_start", "sale_end"], writes: true) { arguments throws(Rejection) in
            let terms = SaleTerms(
                limitPerCustomer: try arguments.option("limit").map { v throws(Rejection) in
                    try Arguments.integer(v, "limit", in: 1...Arguments.quantityMax)
                },
                saleStart: try arguments.option("sale_start").map { v throws(Rejection) in try Arguments.timestamp(v, "sale_start") },
                saleEnd: try arguments.option("sale_end").map { v throws(Rejection) in try Arguments.timestamp(v, "sale_end") })
            if let start = terms.saleStart, let end = terms.saleEnd, end <= start {
                throw .invalid("sale_end must come after sale_start")
            }
            return .skuAdd(SKU(
                id: try arguments.identifier(at: 0, "sku"),
                priceCents: try Arguments.integer(try arguments.required("price"), "price", in: 0...Arguments.moneyMax),
                weightGrams: try arguments.option("weight").map { v throws(Rejection) in
                    try Arguments.integer(v, "weight", in: 0...Arguments.quantityMax)
                } ?? 0,
                name: try arguments.option("name").map { v throws(Rejection) in try Arguments.text(v, "name") } ?? "",
                terms: terms == SaleTerms() ? nil : terms))
        },
        CommandSpec("SKU.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .skuGet(try arguments.identifier(at: 0, "sku"))
        },
        CommandSpec("STOCK.SET", positional: 3...3, options: ["safety", "expect"], writes: true, key: 2) { arguments throws(Rejection) in
            .stockSet(
                node: try arguments.identifier(at: 0, "node"), sku: try arguments.identifier(at: 1, "sku"),
                onHand: try Arguments.integer(arguments.positional[2], "on_hand", in: 0...Arguments.quantityMax),
                safety: try arguments.option("safety").map { v throws(Rejection) in
                    try Arguments.integer(v, "safety", in: 0...Arguments.quantityMax)
                },
                expectedOnHand: try arguments.option("expect").map { v throws(Rejection) in
                    try Arguments.integer(v, "expect", in: 0...Arguments.quantityMax)
                })
        },
        CommandSpec("STOCK.ADJUST", positional: 3...3, options: ["reason"], writes: true, key: 2) { arguments throws(Rejection) in
            let delta = try Arguments.integer(arguments.positional[2], "delta", in: -Arguments.quantityMax...Arguments.quantityMax)
            guard delta != 0 else { throw .invalid("delta must not be 0") }
            return .stockAdjust(
                node: try arguments.identifier(at: 0, "node"), sku: try arguments.identifier(at: 1, "sku"), delta: delta,
                reason: try arguments.option("reason").map { v throws(Rejection) in try Arguments.text(v, "reason") } ?? "")
        },
        CommandSpec("STOCK.GET", positional: 1...2, writes: false) { arguments throws(Rejection) in
            .stockGet(
                sku: try arguments.identifier(at: 0, "sku"),
                node: try arguments.optionalPositional(at: 1).map { v throws(Rejection) in try Arguments.identifier(v, "node") })
        },
        CommandSpec("STOCK.TRANSFER", positional: 4...4, options: ["idem"], writes: true, key: 3) { arguments throws(Rejection) in
            .stockTransfer(
                from: try arguments.identifier(at: 0, "from"), to: try arguments.identifier(at: 1, "to"),
                sku: try arguments.identifier(at: 2, "sku"), quantity: try Arguments.quantity(arguments.positional[3]),
                idempotencyKey: try arguments.option("idem").map { v throws(Rejection) in try Arguments.identifier(v, "idem") })
        },
        CommandSpec("TRANSFER.RECEIVE", positional: 1...1, writes: true) { arguments throws(Rejection) in
            .transferReceive(try Arguments.numberedID(arguments.positional[0]))
        },
        CommandSpec("TRANSFER.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .transferGet(try Arguments.numberedID(arguments.positional[0]))
        },
        CommandSpec(
            "ORDER.CREATE", positional: 1...1,
            options: ["channel", "customer", "lines", "ship", "address", "mode", "store", "service", "reservations", "payment", "idem", "reply"],
            writes: true
        ) { arguments throws(Rejection) in
            let channelText = try arguments.required("channel")
            guard let channel = Order.Channel(rawValue: channelText.lowercased()) else {
                throw .invalid("channel '\(channelText.prefix(40))' must be one of \(Order.Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let mode = arguments.option("mode")?.lowercased() ?? "ship"
            guard mode == "ship" || mode == "pickup" else { throw .invalid("mode '\(mode.prefix(40))' must be ship or pickup") }
            let store = try arguments.option("store").map { v throws(Rejection) in try Arguments.identifier(v, "store") }
            // The order id is the idempotency key; `idem=` is accepted (PROTOCOL.md) and
            // must be well formed, but adds nothing to it.
            _ = try arguments.option("idem").map { v throws(Rejection) in try Arguments.identifier(v, "idem") }
            guard (mode == "pickup") == (store != nil) else { throw .invalid("store= goes with mode=pickup, and mode=pickup needs store=") }
            let serviceText = arguments.option("service") ?? "standard"
            guard let service = ServiceLevel(rawValue: serviceText.lowercased()) else {
                throw .invalid("service '\(serviceText.prefix(40))' must be standard, express or nextday")
            }
            let replyText = arguments.option("reply") ?? "full"
            guard let reply = OrderReplyForm(rawValue: replyText.lowercased()) else {
                throw .invalid("reply '\(replyText.prefix(40))' must be id, status or full")
            }
            var request = OrderRequest(
                id: try arguments.identifier(at: 0, "order"), channel: channel,
                customer: try Arguments.identifier(try arguments.required("customer"), "customer"),
                lines: try Arguments.orderLines(try arguments.required("lines")),
                destination: try arguments.option("ship").map { v throws(Rejection) in try Arguments.coordinate(v, "ship") },
                address: try arguments.option("address").map { v throws(Rejection) in try Arguments.text(v, "address") } ?? "",
                pickupStore: store, service: service,
                reservations: try arguments.option("reservations").map { v throws(Rejection) in try Arguments.reservationList(v) } ?? [],
                paymentToken: try arguments.option("payment").map { v throws(Rejection) in try Arguments.identifier(v, "payment") })
            request.reply = reply
            return .orderCreate(request)
        },
        CommandSpec("ORDER.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .orderGet(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("ORDER.EXPLAIN", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .orderExplain(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("ORDER.CANCEL", positional: 1...1, options: ["reason"], writes: true) { arguments throws(Rejection) in
            _ = try arguments.option("reason").map { v throws(Rejection) in try Arguments.text(v, "reason") }
            return .orderCancel(try arguments.identifier(at: 0, "order"))
        },
        CommandSpec("ORDER.LIST", positional: 0...0, options: ["status", "customer", "channel", "limit"], writes: false) { arguments throws(Rejection) in
            var status: Order.Status?
            if let text = arguments.option("status") {
                guard let known = Order.Status(rawValue: text.lowercased()) else {
                    throw .invalid("status '\(text.prefix(40))' must be one of \(Order.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = known
            }
            var channel: Order.Channel?
            if let text = arguments.option("channel") {
                guard let known = Order.Channel(rawValue: text.lowercased()) else { throw .invalid("channel '\(text.prefix(40))' is unknown") }
                channel = known
            }
            return .orderList(
                status: status,
                customer: try arguments.option("customer").map { v throws(Rejection) in try Arguments.identifier(v, "customer") },
                channel: channel,
                limit: Int(try arguments.option("limit").map { v throws(Rejection) in
                    try Arguments.integer(v, "limit", in: 1...Int64(OrderlineState.orderListLimitMax))
                } ?? 100))
        },
        CommandSpec("CARRIER.SET", positional: 2...2, options: ["base", "per_km", "per_kg", "bands"], writes: true) { arguments throws(Rejection) in
            .carrierSet(CarrierService(
                carrier: try arguments.identifier(at: 0, "carrier"), name: try arguments.identifier(at: 1, "service"),
                baseCents: try Arguments.integer(try arguments.required("base"), "base", in: 0...Arguments.moneyMax),
                perKmMillicents: try Arguments.integer(try arguments.required("per_km"), "per_km", in: 0...Arguments.moneyMax),
                perKgCents: try Arguments.integer(try arguments.required("per_kg"), "per_kg", in: 0...Arguments.moneyMax),
                bands: try Arguments.distanceBands(try arguments.required("bands"))))
        },
        CommandSpec("CARRIER.LIST", positional: 0...0, writes: false) { _ throws(Rejection) in .carrierList },
        CommandSpec("ROUTING.GET", positional: 0...0, writes: false) { _ throws(Rejection) in .routingGet },
        CommandSpec(
            "ROUTING.SET", positional: 0...0,
            options: ["strategy", "split", "split_penalty", "ship_from_store", "exclude", "priority", "backorder"],
            writes: true
        ) { arguments throws(Rejection) in
            var update = RoutingRulesUpdate()
            if let text = arguments.option("strategy") {
                guard let strategy = RoutingRules.Strategy(rawValue: text.lowercased()) else {
                    throw .invalid("strategy '\(text.prefix(40))' must be cost, fastest or priority")
                }
                update.strategy = strategy
            }
            update.allowSplit = try arguments.option("split").map { v throws(Rejection) in try Arguments.flag(v, "split") }
            update.splitPenaltyCents = try arguments.option("split_penalty").map { v throws(Rejection) in
                try Arguments.integer(v, "split_penalty", in: 0...Arguments.moneyMax)
            }
            update.shipFromStore = try arguments.option("ship_from_store").map { v throws(Rejection) in
                try Arguments.flag(v, "ship_from_store")
            }
            update.excludedNodes = try arguments.option("exclude").map { v throws(Rejection) in try Arguments.nodeList(v, "exclude") }
            update.priority = try arguments.option("priority").map { v throws(Rejection) in try Arguments.nodeList(v, "priority") }
            update.allowBackorder = try arguments.option("backorder").map { v throws(Rejection) in try Arguments.flag(v, "backorder") }
            guard update != RoutingRulesUpdate() else { throw .invalid("ROUTING.SET needs at least one key=value") }
            return .routingSet(update)
        },
        CommandSpec("RESERVE", positional: 2...2, options: ["node", "ttl", "idem", "customer"], writes: true) { arguments throws(Rejection) in
            .reserve(
                sku: try arguments.identifier(at: 0, "sku"), quantity: try Arguments.quantity(arguments.positional[1]),
                node: try arguments.option("node").map { v throws(Rejection) in try Arguments.identifier(v, "node") },
                ttlSeconds: try arguments.option("ttl").map { v throws(Rejection) in
                    try Arguments.integer(v, "ttl", in: 1...Arguments.ttlSecondsMax)
                } ?? 900,
                idempotencyKey: try arguments.option("idem").map { v throws(Rejection) in try Arguments.identifier(v, "idem") },
                customer: try arguments.option("customer").map { v throws(Rejection) in try Arguments.identifier(v, "customer") })
        },
        CommandSpec("RELEASE", positional: 1...1, writes: true) { arguments throws(Rejection) in
            .release(try Arguments.numberedID(arguments.positional[0]))
        },
        CommandSpec("COMMIT", positional: 1...1, options: ["idem"], writes: true) { arguments throws(Rejection) in
            .commit(
                try Arguments.numberedID(arguments.positional[0]),
                idempotencyKey: try arguments.option("idem").map { v throws(Rejection) in try Arguments.identifier(v, "idem") })
        },
        CommandSpec("RESERVATION.GET", positional: 1...1, writes: false) { arguments throws(Rejection) in
            .reservationGet(try Arguments.numberedID(arguments.positional[0]))
        },
    ]

    private static let byName: [String: CommandSpec] = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })

    /// The server's own commands: the shell (`CommandDispatcher`) carries them out; the
    /// registry says what they are.
    public static let serverCommands: [CommandInfo] = [
        CommandInfo("PING", arity: -1, flags: [.allowedWhileLoading, .allowedBeforeAuthentication]),
        CommandInfo("ECHO", arity: 2, flags: [.allowedBeforeAuthentication]),
        CommandInfo("QUIT", arity: -1, flags: [.allowedWhileLoading, .allowedBeforeAuthentication, .connection]),
        CommandInfo("AUTH", arity: -2, flags: [.allowedBeforeAuthentication, .connection]),
        CommandInfo("HELLO", arity: -1, flags: [.allowedBeforeAuthentication, .connection]),
        CommandInfo("INFO", arity: -1, flags: [.serverWide, .notInTransaction]),
        CommandInfo("CONFIG", arity: -2, flags: [.serverWide, .notInTransaction]),
        CommandInfo("COMMAND", arity: -1, flags: [.connection]),
        CommandInfo("CLIENT", arity: -2, flags: [.connection]),
        CommandInfo("SELECT", arity: 2, flags: [.connection]),
        CommandInfo("MULTI", arity: 1, flags: [.connection]),
        CommandInfo("EXEC", arity: 1, flags: [.connection]),
        CommandInfo("DISCARD", arity: 1, flags: [.connection]),
        CommandInfo("WATCH", arity: -2, flags: [.connection]),
        CommandInfo("UNWATCH", arity: 1, flags: [.connection]),
        CommandInfo("DIGEST", arity: 1, flags: [.serverWide, .notInTransaction]),
        CommandInfo("SNAPSHOT", arity: 1, flags: [.admin, .notInTransaction]),
        CommandInfo("SHUTDOWN", arity: -1, flags: [.admin, .notInTransaction]),
        CommandInfo("CLOCK.ADVANCE", arity: 2, flags: [.write, .admin, .notInTransaction]),
        CommandInfo("ROLE", arity: 1, flags: [.serverWide, .notInTransaction]),
        CommandInfo("EVENTS.READ", arity: -3, flags: [.notInTransaction]),
        CommandInfo("ORDER.HISTORY", arity: 2, flags: [.notInTransaction], key: 1),
        CommandInfo("REPLICAOF", arity: -3, flags: [.admin, .notInTransaction]),
        CommandInfo("SLAVEOF", arity: -3, flags: [.admin, .notInTransaction]),
        // What a replica says to its primary (`ReplicaLink`): its port, then the LSN to go on from.
        CommandInfo("REPLCONF", arity: -3, flags: [.admin, .notInTransaction]),
        CommandInfo("PSYNC", arity: 3, flags: [.admin, .notInTransaction]),
        CommandInfo("WAIT", arity: 3, flags: [.notInTransaction]),
    ]

    /// Every command, core and server, as `COMMAND` lists them.
    public static let registry: [CommandInfo] = serverCommands + specs.map { spec in
        var info = spec.info
        if spec.name == "ORDER.LIST" || spec.name == "SHIPMENT.LIST" {
            info = CommandInfo(info.name, arity: info.arity, flags: info.flags.union(.notInTransaction), key: info.firstKey)
        }
        return info
    }

    private static let infoByName: [String: CommandInfo] = Dictionary(uniqueKeysWithValues: registry.map { ($0.name, $0) })

    /// A command of the registry by its upper-case name.
    public static func info(uppercasedName name: String) -> CommandInfo? { infoByName[name] }

    /// Looks a command up by name, in any case (names are ASCII).
    public static func spec(named name: String) -> CommandSpec? { byName[asciiUppercased(name)] }

    /// For a name already upper-cased.
    public static func spec(uppercasedName name: String) -> CommandSpec? { byName[name] }

    /// `uppercased()` without Unicode case mapping: command names are ASCII, and this
    /// runs for every request.
    public static func asciiUppercased(_ name: String) -> String {
        guard name.withUTF8Bytes({ $0.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } }) else { return name }
        return String(decoding: name.utf8.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }, as: UTF8.self)
    }

    /// Parses one request (`tokens[0]` is the command name) into a core command.
    public static func parse(_ tokens: [String]) throws(Rejection) -> Command {
        guard let name = tokens.first else { throw Rejection(.err, "empty command") }
        guard let spec = spec(named: name) else { throw unknownCommand(tokens) }
        return try parse(tokens, spec: spec)
    }

    /// Redis's wording: `ERR unknown command 'FOO', with args beginning with: 'a' 'b' `.
    public static func unknownCommand(_ tokens: [String]) -> Rejection {
        let arguments = tokens.dropFirst().prefix(8).map { "'\($0.prefix(128))' " }.joined()
        return Rejection(.err, "unknown command '\(tokens.first?.prefix(128) ?? "")', with args beginning with: \(arguments)")
    }

    /// Parses a request whose spec the caller already looked up.
    public static func parse(_ tokens: [String], spec: CommandSpec) throws(Rejection) -> Command {
        let arguments = try Arguments(
            command: spec.name, tokens: tokens.dropFirst(), positionalCount: spec.positionalCount, allowedOptions: spec.options)
        return try spec.parse(arguments)
    }
}
