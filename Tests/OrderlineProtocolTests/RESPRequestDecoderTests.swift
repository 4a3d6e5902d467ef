import NIOCore
import NIOTestUtils
import OrderlineProtocol
import Testing

@Test func decodesInlineRESPAndMixedRequestsByteByByte() throws {
    try ByteToMessageDecoderVerifier.verifyDecoder(
        stringInputOutputPairs: [
            ("PING\r\n", [["PING"]]),
            ("PING\n", [["PING"]]),
            ("\r\n\n", []),
            ("RESERVE  HOT-1 2  ttl=60\r\n", [["RESERVE", "HOT-1", "2", "ttl=60"]]),
            ("SKU.ADD S1 price=5 \"name=Blue \\\"Mug\\\"\\x21\"\r\n", [["SKU.ADD", "S1", "price=5", "name=Blue \"Mug\"!"]]),
            ("*1\r\n$4\r\nPING\r\n", [["PING"]]),
            ("*3\r\n$7\r\nRESERVE\r\n$5\r\nHOT 1\r\n$0\r\n\r\n", [["RESERVE", "HOT 1", ""]]),
            ("*0\r\n", []),
            ("*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$4\r\nECHO\r\n$2\r\nyo\r\n", [["PING"], ["ECHO", "hi"], ["ECHO", "yo"]]),
            ("*1\r\n$6\r\nline\r\n\r\n", [["line\r\n"]]),
            // Headers as Redis reads them: a sign, leading zeros; Int.min is an empty array.
            ("*+1\r\n$+4\r\nPING\r\n", [["PING"]]),
            ("*001\r\n$0004\r\nPING\r\n", [["PING"]]),
            ("*-0\r\n*-9223372036854775808\r\n*-1\r\n", []),
            // A header line of exactly 32 bytes (the limit) with its CR LF.
            ("*" + String(repeating: "0", count: 29) + "1\r\n$4\r\nPING\r\n", [["PING"]]),
        ],
        decoderFactory: { RESPRequestDecoder() })
}

private func decodeError(_ input: String, limits: ProtocolLimits = ProtocolLimits()) -> ProtocolError? {
    var decoder = RESPRequestDecoder(limits: limits)
    var buffer = ByteBuffer(string: input)
    do {
        while try decoder.decode(buffer: &buffer) != nil {}
        return nil
    } catch {
        return error as? ProtocolError
    }
}

@Test(arguments: [
    ("*x\r\n", "invalid multibulk length"),
    ("*1025\r\n", "invalid multibulk length"),
    ("*1\r\n:5\r\n", "expected '$', got ':'"),
    ("*1\r\n$-2\r\n", "invalid bulk length"),
    ("*1\r\n$1048577\r\n", "invalid bulk length"),
    ("*1\r\n$3\r\nabcXY", "bulk string not followed by CRLF"),
    ("*1\r\n$3abc\r\n", "invalid bulk length"),
    ("PING \"open\r\n", "unbalanced quotes in request"),
    // A bare LF ends a header line wrongly: the error comes at once, not after more bytes.
    ("*1\n", "invalid multibulk length"),
    ("*1\r\n$3\n", "invalid bulk length"),
    ("*1\rX", "invalid multibulk length"),
    ("*-\r\n", "invalid multibulk length"),
    ("*\r\n", "invalid multibulk length"),
    ("*99999999999999999999\r\n", "invalid multibulk length"),
    ("*1\r\n$-9223372036854775809\r\n", "invalid bulk length"),
    // 33 bytes with CR LF: one over the limit.
    ("*" + String(repeating: "0", count: 30) + "1\r\n", "invalid multibulk length"),
])
func framingErrorsAreNamed(input: String, message: String) {
    #expect(decodeError(input) == ProtocolError(message))
}

@Test func overLongLinesAreProtocolErrorsEvenBeforeTheirEnd() {
    var limits = ProtocolLimits()
    limits.inlineLineBytesMax = 100
    #expect(decodeError(String(repeating: "A", count: 101), limits: limits) == ProtocolError("too big inline request"))
    #expect(decodeError(String(repeating: "A", count: 100), limits: limits) == nil)
    #expect(decodeError("*" + String(repeating: "1", count: 40), limits: limits) == ProtocolError("invalid multibulk length"))
}

@Test func aRequestOverTheTotalLimitIsAProtocolError() {
    var limits = ProtocolLimits()
    limits.bulkBytesMax = 100
    limits.requestBytesMax = 250
    let element = "$100\r\n" + String(repeating: "x", count: 100) + "\r\n"
    #expect(decodeError("*2\r\n" + element + element, limits: limits) == nil)
    #expect(decodeError("*3\r\n" + element + element + element, limits: limits) == ProtocolError("too big request"))
}

@Test func aLargeRequestArrivingInPiecesIsParsedOnce() throws {
    // 64 elements of 16 KiB fed 1 KiB at a time: completes once, consumes as it goes.
    var decoder = RESPRequestDecoder()
    let element = "$16384\r\n" + String(repeating: "y", count: 16_384) + "\r\n"
    let request = Array(("*64\r\n" + String(repeating: element, count: 64)).utf8)
    var buffer = ByteBuffer()
    var decoded: [[String]] = []
    for start in stride(from: 0, to: request.count, by: 1_024) {
        buffer.writeBytes(request[start..<min(start + 1_024, request.count)])
        while let tokens = try decoder.decode(buffer: &buffer) { decoded.append(tokens) }
        #expect(buffer.readableBytes < 16_384 + 32, "completed elements are taken out of the buffer")
    }
    #expect(decoded.count == 1)
    #expect(decoded.first?.count == 64)
}

@Test func repliesRoundTrip() throws {
    let values: [RESPValue] = [
        .simple("OK"), .error("SOLDOUT HOT-1 available=0"), .integer(-42), .bulk("R1"), .bulk(nil), .bulk(""),
        .array([.integer(1), .bulk("two"), .array([])]), .array(nil),
    ]
    var buffer = ByteBuffer()
    for value in values { buffer.writeRESP(value) }
    #expect(String(buffer: buffer).hasPrefix("+OK\r\n-SOLDOUT HOT-1 available=0\r\n:-42\r\n$2\r\nR1\r\n$-1\r\n$0\r\n\r\n*3\r\n"))
    for value in values { #expect(try buffer.readRESP() == value) }
    #expect(buffer.readableBytes == 0)
    var multiline = ByteBuffer()
    multiline.writeRESP(.error("INVALID bad\r\nvalue"))
    #expect(String(buffer: multiline) == "-INVALID bad value\r\n")
}
