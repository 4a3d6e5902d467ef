#if canImport(Glibc)
import Glibc  // sin, cos, asin, sqrt only: pure functions
#else
import Darwin
#endif

/// Distances on the Earth's surface, by the haversine formula on a sphere of the
/// mean Earth radius. Rounded to whole kilometres: routing only compares them, and
/// the node a decision picked is logged, so a replay never recomputes one.
public enum GreatCircle {
    public static let earthRadiusKm = 6_371.0088

    public static func distanceKm(from a: Coordinate, to b: Coordinate) -> Int64 {
        func radians(_ microdegrees: Int32) -> Double { Double(microdegrees) / 1_000_000 * .pi / 180 }
        let latitudeA = radians(a.latitudeMicrodegrees)
        let latitudeB = radians(b.latitudeMicrodegrees)
        let latitudeDelta = latitudeB - latitudeA
        let longitudeDelta = radians(b.longitudeMicrodegrees) - radians(a.longitudeMicrodegrees)
        let h = sin(latitudeDelta / 2) * sin(latitudeDelta / 2)
            + cos(latitudeA) * cos(latitudeB) * sin(longitudeDelta / 2) * sin(longitudeDelta / 2)
        return Int64((2 * earthRadiusKm * asin(min(1, sqrt(h)))).rounded())
    }
}
