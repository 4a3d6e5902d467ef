extension String {
    /// Calls `body` with the string's UTF-8 bytes in one buffer. Request tokens are
    /// native strings, so this is a pointer, not a copy; scanning the buffer is several
    /// times faster than iterating `utf8`, which every argument check of every
    /// request used to do.
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        var string = self
        return try string.withUTF8(body)
    }
}

extension String {
    /// The pieces between the `separator` bytes (an ASCII character), empty ones kept:
    /// for a request's argument what `split(separator:omittingEmptySubsequences: false)`
    /// gives, without Character (grapheme) boundaries, which made that split 1.2 µs for
    /// `lines=A:1,B:1,C:1`, about a tenth of parsing an order (a temporary probe loop in
    /// orderline-walbench, release, stop 22).
    @inlinable
    public func pieces(separatedBy separator: UInt8) -> [String] {
        withUTF8Bytes { utf8 in
            var pieces: [String] = []
            // Counted first, so the array is allocated once.
            pieces.reserveCapacity(utf8.reduce(1) { $1 == separator ? $0 + 1 : $0 })
            var start = 0
            for index in 0...utf8.count where index == utf8.count || utf8[index] == separator {
                pieces.append(String(decoding: UnsafeBufferPointer(rebasing: utf8[start..<index]), as: UTF8.self))
                start = index + 1
            }
            return pieces
        }
    }

    /// The text before and after the first (or the last) `separator` byte; nil
    /// without one.
    @inlinable
    public func halves(at separator: UInt8, last: Bool = false) -> (before: String, after: String)? {
        withUTF8Bytes { utf8 in
            guard let index = last ? utf8.lastIndex(of: separator) : utf8.firstIndex(of: separator) else { return nil }
            return (
                String(decoding: UnsafeBufferPointer(rebasing: utf8[..<index]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: utf8[(index + 1)...]), as: UTF8.self)
            )
        }
    }
}


extension Array where Element == UInt8 {
    /// `value` in decimal, with its sign.
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// `value`'s decimal digits, most significant first, at least `minimumDigits` of
    /// them (zeros in front): written straight in, with no array of digits per number
    /// (an order's reply has dozens of numbers).
    mutating func appendDecimal(_ value: UInt64, minimumDigits: Int = 1) {
        var divisor: UInt64 = 1
        var digits = 1
        while divisor <= value / 10 || digits < minimumDigits {
            divisor *= 10
            digits += 1
        }
        var rest = value
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
