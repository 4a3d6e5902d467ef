/// What the customer paid for: how fast the parcel must arrive.
/// Written to disk by this raw value: frozen (a new case takes a new value; none changes).
public enum ServiceLevel: String, Hashable, Sendable, CaseIterable {
    case standard, express, nextday

    /// The promise: at most this many days in transit.
    public var transitDaysMax: Int {
        switch self {
        case .standard: 5
        case .express: 2
        case .nextday: 1
        }
    }
}

/// One carrier service's prices and transit times: base + per km + per started kg;
/// transit days by distance band. A distance beyond the last band is not served.
public struct CarrierService: Hashable, Sendable {
    public struct DistanceBand: Hashable, Sendable {
        public var kmMax: Int64
        public var transitDays: Int
        public init(kmMax: Int64, transitDays: Int) {
            self.kmMax = kmMax
            self.transitDays = transitDays
        }
    }

    public var carrier: String
    public var name: String
    public var baseCents: Int64
    /// Thousandths of a cent per km, so that cheap per-km rates stay exact integers.
    public var perKmMillicents: Int64
    public var perKgCents: Int64
    /// Sorted by `kmMax`.
    public var bands: [DistanceBand]

    public init(carrier: String, name: String, baseCents: Int64, perKmMillicents: Int64, perKgCents: Int64, bands: [DistanceBand]) {
        self.carrier = carrier
        self.name = name
        self.baseCents = baseCents
        self.perKmMillicents = perKmMillicents
        self.perKgCents = perKgCents
        self.bands = bands.sorted { $0.kmMax < $1.kmMax }
    }

    public func transitDays(km: Int64) -> Int? { bands.first { km <= $0.kmMax }?.transitDays }

    public func costCents(km: Int64, grams: Int64) -> Int64 {
        func roundedUp(_ value: Int64, per unit: Int64) -> Int64 { value / unit + (value % unit > 0 ? 1 : 0) }
        let startedKilograms = roundedUp(max(0, grams), per: 1_000)
        let distanceCents = roundedUp(max(0, km).multiplied(saturating: perKmMillicents), per: 1_000)
        return baseCents.adding(saturating: distanceCents).adding(saturating: startedKilograms.multiplied(saturating: perKgCents))
    }
}

/// A priced way to move one parcel.
public struct Quote: Hashable, Sendable {
    public var carrier: String
    public var service: String
    public var costCents: Int64
    public var transitDays: Int
}

/// All carrier services Orderline may book.
public struct RateCard: Hashable, Sendable {
    public var services: [CarrierService]

    public init(services: [CarrierService] = []) { self.services = services }

    /// Adds `service`, or replaces the one with its carrier and name; kept sorted so
    /// that the card (and its quotes' tie-breaks) is the same on every replay.
    public mutating func set(_ service: CarrierService) {
        services.removeAll { $0.carrier == service.carrier && $0.name == service.name }
        services.append(service)
        services.sort { ($0.carrier, $0.name) < ($1.carrier, $1.name) }
    }

    /// Every service that reaches `km` within `transitDaysMax`, cheapest first (then
    /// faster, then by carrier and service name: the same order on every run).
    public func quotes(km: Int64, grams: Int64, transitDaysMax: Int) -> [Quote] {
        services.compactMap { service -> Quote? in
            guard let days = service.transitDays(km: km), days <= transitDaysMax else { return nil }
            return Quote(carrier: service.carrier, service: service.name, costCents: service.costCents(km: km, grams: grams), transitDays: days)
        }.sorted { ($0.costCents, $0.transitDays, $0.carrier, $0.service) < ($1.costCents, $1.transitDays, $1.carrier, $1.service) }
    }

    /// `quotes(…).first`, without building the list (routing asks this for every
    /// node and every split step).
    public func cheapest(km: Int64, grams: Int64, transitDaysMax: Int) -> Quote? {
        best(km: km, grams: grams, transitDaysMax: transitDaysMax) {
            ($0.costCents, $0.transitDays, $0.carrier, $0.service) < ($1.costCents, $1.transitDays, $1.carrier, $1.service)
        }
    }

    public func fastest(km: Int64, grams: Int64, transitDaysMax: Int) -> Quote? {
        best(km: km, grams: grams, transitDaysMax: transitDaysMax) {
            ($0.transitDays, $0.costCents, $0.carrier, $0.service) < ($1.transitDays, $1.costCents, $1.carrier, $1.service)
        }
    }

    private func best(km: Int64, grams: Int64, transitDaysMax: Int, by isBetter: (Quote, Quote) -> Bool) -> Quote? {
        var best: Quote?
        for service in services {
            guard let days = service.transitDays(km: km), days <= transitDaysMax else { continue }
            let quote = Quote(carrier: service.carrier, service: service.name, costCents: service.costCents(km: km, grams: grams), transitDays: days)
            if best.map({ isBetter(quote, $0) }) ?? true { best = quote }
        }
        return best
    }
}
