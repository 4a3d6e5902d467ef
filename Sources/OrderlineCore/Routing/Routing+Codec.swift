/// The binary and JSON forms of the routing rules and the rate card.
extension RoutingRules {
    func encode(into writer: inout BinaryWriter) {
        writer.write(strategy.rawValue)
        writer.write(allowSplit)
        writer.writeVarInt(splitPenaltyCents)
        writer.write(shipFromStore)
        writer.writeVarUInt(UInt64(excludedNodes.count))
        for node in excludedNodes.sorted() { writer.write(node) }
        writer.writeVarUInt(UInt64(priority.count))
        for node in priority { writer.write(node) }
        writer.write(allowBackorder)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoutingRules {
        var rules = RoutingRules()
        let strategy = try reader.readString()
        guard let known = Strategy(rawValue: strategy) else { throw DecodingError("unknown routing strategy '\(strategy)'") }
        rules.strategy = known
        rules.allowSplit = try reader.readBool()
        rules.splitPenaltyCents = try reader.readVarInt()
        rules.shipFromStore = try reader.readBool()
        let excluded = try reader.readVarUInt()
        guard excluded <= UInt64(reader.remaining) else { throw DecodingError("excluded node count past the end") }
        for _ in 0..<excluded { rules.excludedNodes.insert(try reader.readString()) }
        let prioritized = try reader.readVarUInt()
        guard prioritized <= UInt64(reader.remaining) else { throw DecodingError("priority count past the end") }
        for _ in 0..<prioritized { rules.priority.append(try reader.readString()) }
        rules.allowBackorder = try reader.readBool()
        return rules
    }

    var json: JSONObject {
        var object = JSONObject()
        object.add("strategy", strategy.rawValue)
        object.add("split", allowSplit)
        object.add("split_penalty", splitPenaltyCents)
        object.add("ship_from_store", shipFromStore)
        object.add("exclude", excludedNodes.sorted())
        object.add("priority", priority)
        object.add("backorder", allowBackorder)
        return object
    }
}

extension CarrierService {
    func encode(into writer: inout BinaryWriter) {
        writer.write(carrier)
        writer.write(name)
        writer.writeVarInt(baseCents)
        writer.writeVarInt(perKmMillicents)
        writer.writeVarInt(perKgCents)
        writer.writeVarUInt(UInt64(bands.count))
        for band in bands {
            writer.writeVarInt(band.kmMax)
            writer.writeVarInt(Int64(band.transitDays))
        }
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> CarrierService {
        let carrier = try reader.readString()
        let name = try reader.readString()
        let base = try reader.readVarInt()
        let perKm = try reader.readVarInt()
        let perKg = try reader.readVarInt()
        let count = try reader.readVarUInt()
        guard count <= UInt64(reader.remaining) else { throw DecodingError("band count past the end") }
        var bands: [DistanceBand] = []
        for _ in 0..<count {
            let kmMax = try reader.readVarInt()
            guard let days = Int(exactly: try reader.readVarInt()) else { throw DecodingError("transit days out of range") }
            bands.append(DistanceBand(kmMax: kmMax, transitDays: days))
        }
        return CarrierService(carrier: carrier, name: name, baseCents: base, perKmMillicents: perKm, perKgCents: perKg, bands: bands)
    }

    var json: JSONObject {
        var object = JSONObject()
        object.add("carrier", carrier)
        object.add("service", name)
        object.add("base", baseCents)
        object.add("per_km_millicents", perKmMillicents)
        object.add("per_kg", perKgCents)
        object.add("bands", bands.map { band in
            var entry = JSONObject()
            entry.add("km_max", band.kmMax)
            entry.add("days", Int64(band.transitDays))
            return entry
        })
        return object
    }
}

extension RoutingDecision {
    func encode(into writer: inout BinaryWriter) {
        writer.write(rule)
        writer.write(strategy.rawValue)
        writer.writeVarUInt(UInt64(candidates.count))
        for candidate in candidates {
            writer.write(candidate.node)
            writer.writeVarInt(candidate.distanceKm)
            writer.writeOptional(candidate.costCents)
            writer.write(candidate.quote != nil)
            if let quote = candidate.quote {
                writer.write(quote.carrier)
                writer.write(quote.service)
                writer.writeVarInt(quote.costCents)
                writer.writeVarInt(Int64(quote.transitDays))
            }
            writer.write(candidate.hasEveryLine)
            writer.writeOptional(candidate.excludedBecause)
        }
        writer.writeVarUInt(UInt64(shipments.count))
        for parcel in shipments {
            writer.write(parcel.node)
            writer.writeVarInt(parcel.costCents)
            writer.writeOptional(parcel.carrier)
            writer.writeOptional(parcel.service)
        }
        writer.writeVarInt(totalCostCents)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoutingDecision {
        let rule = try reader.readString()
        let strategy = try reader.readEnum(RoutingRules.Strategy.self, "routing strategy")
        var candidates: [Candidate] = []
        for _ in 0..<(try reader.readCount("candidate")) {
            var candidate = Candidate(node: try reader.readString(), distanceKm: try reader.readVarInt())
            candidate.costCents = try reader.readOptionalVarInt()
            if try reader.readBool() {
                let carrier = try reader.readString()
                let service = try reader.readString()
                let cost = try reader.readVarInt()
                guard let days = Int(exactly: try reader.readVarInt()) else { throw DecodingError("transit days out of range") }
                candidate.quote = Quote(carrier: carrier, service: service, costCents: cost, transitDays: days)
            }
            candidate.hasEveryLine = try reader.readBool()
            candidate.excludedBecause = try reader.readOptionalString()
            candidates.append(candidate)
        }
        var shipments: [PlannedParcel] = []
        for _ in 0..<(try reader.readCount("planned shipment")) {
            shipments.append(PlannedParcel(
                node: try reader.readString(), costCents: try reader.readVarInt(), carrier: try reader.readOptionalString(),
                service: try reader.readOptionalString()))
        }
        return RoutingDecision(
            rule: rule, strategy: strategy, candidates: candidates, shipments: shipments, totalCostCents: try reader.readVarInt())
    }

    /// `ORDER.EXPLAIN`.
    var json: JSONObject {
        var object = JSONObject()
        object.add("rule", rule)
        object.add("strategy", strategy.rawValue)
        object.add("candidates", candidates.map { candidate in
            var entry = JSONObject()
            entry.add("node", candidate.node)
            entry.add("distance_km", candidate.distanceKm)
            if let cost = candidate.costCents { entry.add("cost", cost) } else { entry.addNull("cost") }
            if let quote = candidate.quote {
                entry.add("carrier", quote.carrier)
                entry.add("service", quote.service)
                entry.add("transit_days", Int64(quote.transitDays))
            }
            entry.add("has_every_line", candidate.hasEveryLine)
            entry.add("excluded", candidate.excludedBecause)
            return entry
        })
        object.add("shipments", shipments.map { parcel in
            var entry = JSONObject()
            entry.add("node", parcel.node)
            entry.add("cost", parcel.costCents)
            entry.add("carrier", parcel.carrier)
            entry.add("service", parcel.service)
            return entry
        })
        object.add("total_cost", totalCostCents)
        return object
    }
}
