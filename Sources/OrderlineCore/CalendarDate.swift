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

    /// `YYYY-MM-DDTHH:MM:SSZ` of `timestamp` (UTC).
    public static func formatDateTime(_ timestamp: Timestamp) -> String {
        let seconds = timestamp - day(of: timestamp) * secondsPerDay
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(format(timestamp))T\(pad(seconds / 3_600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60))Z"
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` and those followed by `Z` or an offset
    /// `±HH:MM` (none: UTC); nil if it is not one of them, or not a real date and time.
    public static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + digits)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let dayOfMonth = number(2),
              (1...12).contains(month), dayOfMonth >= 1 else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        if expect("T") || expect(" ") {
            guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2), s < 60 else { return nil }
                second = s
            }
        }
        var offset: Int64 = 0
        if index < bytes.count {
            if expect("Z") {
            } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                index += 1
                guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
                offset = sign * (h * 3_600 + m * 60)
            } else {
                return nil
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: dayOfMonth)
        // Not a real date (February 30th) if it does not come back the same.
        guard civil(daysSinceEpoch: days) == (year, month, dayOfMonth) else { return nil }
        return days * secondsPerDay + hour * 3_600 + minute * 60 + second - offset
    }

    /// Howard Hinnant's civil-to-days, the inverse of `civil(daysSinceEpoch:)`.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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
