import CFuzzerDriver
import Glibc
import OrderlineCore
import OrderlineStorage

/// Bytes read from disk, as every decoder there meets them: an event, a whole snapshot,
/// a segment header and its frames, the canonical records, the checkpoint. The first
/// byte picks the decoder. A decoding error is the expected answer to garbage; a trap
/// is a finding.
func fuzzStorage(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let selector = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    switch selector % 5 {
    case 0:
        if let event = try? Event(decoding: input) {
            // What decodes, encoded again, decodes to the same event.
            precondition((try? Event(decoding: event.encoded)) == event, "an event that does not round-trip")
        }
    case 1:
        _ = try? SnapshotFile.decode(input, name: "fuzz")
    case 2:
        _ = try? OrderlineState.decodeCanonical(input)
    case 3:
        _ = try? WALFormat.parseSegmentHeader(input)
        var offset = WALFormat.segmentHeaderBytes
        while offset < input.count, case .valid(let header) = WALFormat.checkFrame(in: input, at: offset) {
            offset += header.frameBytes
        }
    default:
        _ = LogCheckpoint.decode(input)
    }
    return 0
}

@main
enum Fuzzer {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzStorage(data, count) })
    }
}
