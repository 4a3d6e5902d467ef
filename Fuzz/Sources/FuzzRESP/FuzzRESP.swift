import NIOCore
import CFuzzerDriver
import Glibc
import OrderlineCore
import OrderlineProtocol

/// Requests as a client sends them: decoded as they arrive (the input split at a point
/// it chooses), before and after AUTH, with small limits so they are reached. Any
/// outcome but a trap is fine: a framing error is a clear reply.
func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let control = bytes.first else { return 0 }
    var limits = ProtocolLimits()
    limits.inlineLineBytesMax = 256
    limits.bulkBytesMax = 128
    limits.arrayElementsMax = 8
    limits.requestBytesMax = 512
    var decoder = RESPRequestDecoder(limits: limits, authenticated: control & 1 == 0)
    let input = bytes.dropFirst()
    let split = input.isEmpty ? 0 : Int(control >> 1) % (input.count + 1)
    var buffer = ByteBuffer()
    for part in [input.prefix(split), input.dropFirst(split)] {
        buffer.writeBytes(part)
        do {
            while let tokens = try decoder.decode(buffer: &buffer) {
                precondition(!tokens.isEmpty, "a request with no tokens")
                _ = try? InlineTokenizer.tokenize(tokens.joined(separator: " "))
            }
        } catch {
            return 0
        }
    }
    return 0
}

@main
enum Fuzzer {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzRESP(data, count) })
    }
}
