/// Splits an inline command line into tokens the way Redis does: spaces separate,
/// double quotes group, and inside quotes `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH`
/// are escapes. Used for inline requests, seed files and test scripts.
public enum InlineTokenizer {
    public static func tokenize(_ line: some StringProtocol) throws(Rejection) -> [String] {
        try tokenizeBytes(line.utf8).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The tokens as the bytes they stand for: a `\xHH` escape can make any byte, so a
    /// token need not be UTF-8 (the wire's `ECHO` gives such bytes back as they came).
    public static func tokenizeBytes(_ line: some Collection<UInt8>) throws(Rejection) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var iterator = Array(line)[...]
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        while true {
            while let byte = iterator.first, isSpace(byte) { iterator.removeFirst() }
            guard let first = iterator.first else { return tokens }
            var token: [UInt8] = []
            if first == UInt8(ascii: "\"") {
                iterator.removeFirst()
                var closed = false
                while let byte = iterator.popFirst() {
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    guard byte == UInt8(ascii: "\\"), let escaped = iterator.popFirst() else {
                        token.append(byte)
                        continue
                    }
                    switch escaped {
                    case UInt8(ascii: "n"): token.append(0x0A)
                    case UInt8(ascii: "r"): token.append(0x0D)
                    case UInt8(ascii: "t"): token.append(0x09)
                    case UInt8(ascii: "x"):
                        let digits = iterator.prefix(2)
                        if digits.count == 2, let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) {
                            token.append(value)
                            iterator.removeFirst(2)
                        } else {
                            token.append(escaped)
                        }
                    default: token.append(escaped)
                    }
                }
                guard closed else { throw Rejection(.err, "Protocol error: unbalanced quotes in request") }
                if let next = iterator.first, !isSpace(next) {
                    throw Rejection(.err, "Protocol error: closing quote must be followed by a space")
                }
            } else {
                while let byte = iterator.first, !isSpace(byte) {
                    token.append(byte)
                    iterator.removeFirst()
                }
            }
            tokens.append(token)
        }
    }
}
