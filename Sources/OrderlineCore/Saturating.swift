/// Money, weights and distances come from clients: arithmetic on them saturates
/// instead of trapping, so no input can crash the server. Capture also caps an
/// order's total and weight (`OrderlineState.priced`), far below where this matters.
extension Int64 {
    func adding(saturating other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func multiplied(saturating other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
