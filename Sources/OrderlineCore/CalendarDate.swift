/// A timestamp's calendar date in UTC (proleptic Gregorian), by arithmetic alone: the
/// core reads no clock and needs no Foundation for a promised date.
public enum CalendarDate {
    public static let secondsPerDay: Int64 = 86_400

    /// Days since 1970-01-01 (UTC) of the day `timestamp` falls in.
    public static func day(of timestamp: Timestamp) -> Int64 {
        timestamp >= 0 ? timestamp / secondsPerDay : (timestamp - secondsPerDay + 1) / secondsPerDay
    }

    /// `YYYY-MM-DD` of the UTC day `timestamp` falls in.
    public static func format(_ timestamp: Timestamp) -> String {
        let (year, month, day) = civil(daysSinceEpoch: day(of: timestamp))
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Howard Hinnant's days-to-civil: eras of 400 years, years starting in March.
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
