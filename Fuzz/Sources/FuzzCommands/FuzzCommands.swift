import CFuzzerDriver
import Glibc
import OrderlineCore

/// A request's tokens (the input split at NUL bytes) parsed by the command table, then
/// decided against a small state: parsing validates every argument, and deciding must
/// answer with a rejection, never trap.
func fuzzCommands(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let tokens = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    guard let first = tokens.first, !first.isEmpty else { return 0 }
    let command: Command
    do {
        command = try CommandTable.parse(tokens)
    } catch {
        return 0
    }
    var state = seeded
    if case .success(let decision) = state.decide(command, context: state.decisionContext(now: 1_767_225_600)) {
        for event in decision.events { state.apply(event, at: state.lsn + 1) }
    }
    return 0
}

/// A network, two SKUs with stock, a carrier and a reservation, built once.
let seeded: OrderlineState = {
    var state = OrderlineState()
    for line in [
        "NODE.ADD WH kind=warehouse lat=40.7 lon=-74.0", "NODE.ADD ST kind=store lat=41.8 lon=-87.6",
        "SKU.ADD HOT price=4999 weight=400", "SKU.ADD MUG price=1500", "STOCK.SET WH HOT 100", "STOCK.SET ST MUG 10",
        "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5", "RESERVE HOT 2",
        "ORDER.CREATE O-1 channel=web customer=C-1 lines=HOT:1 ship=40.7,-74.0 payment=tok_visa_4242",
    ] {
        guard let tokens = try? InlineTokenizer.tokenize(line), let command = try? CommandTable.parse(tokens),
              case .success(let decision) = state.decide(command, context: state.decisionContext(now: 1_767_225_600))
        else { fatalError("seed line failed: \(line)") }
        for event in decision.events { state.apply(event, at: state.lsn + 1) }
    }
    return state
}()

@main
enum Fuzzer {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzCommands(data, count) })
    }
}
