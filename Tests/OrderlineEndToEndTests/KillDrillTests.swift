import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

/// kill -9 of a real process appending through the WAL: after recovery, every LSN it
/// printed as acknowledged is there. Three rounds on one directory, each appending
/// after the previous round's recovery.
@Test(.timeLimit(.minutes(5)))
func everyAcknowledgedLSNSurvivesKillDashNine() throws {
    let directory = TemporaryDirectory()
    var recoveredLSN: LSN = 0
    for round in 1...3 {
        let process = try RunningProcess(Executables.path("orderline-walbench"), [
            "append", "--dir", directory.path, "--writers", "16", "--events", "50000000", "--print-acks", "--segment-mib", "1",
        ])
        var acknowledged: [LSN] = []
        // Kill at a different moment each round.
        while acknowledged.count < 1_500 * round, let line = process.readLine() {
            if line.hasPrefix("ack "), let lsn = LSN(line.dropFirst(4)) { acknowledged.append(lsn) }
        }
        process.kill()
        while let line = process.readLine() {
            if line.hasPrefix("ack "), let lsn = LSN(line.dropFirst(4)) { acknowledged.append(lsn) }
        }
        #expect(acknowledged.count >= 1_500 * round, "round \(round): the child printed too few acks")
        let report = try Recovery.recover(DataDirectory(path: directory.path), options: Recovery.Options(mode: .repair))
        let maxAcknowledged = acknowledged.max() ?? 0
        #expect(report.state.lsn >= maxAcknowledged, "round \(round): acknowledged LSN \(maxAcknowledged) lost; recovered \(report.state.lsn)")
        #expect(report.state.lsn > recoveredLSN, "round \(round) appended nothing")
        #expect(report.tail?.isCorruption != true)
        #expect(report.state.checkInvariants())
        recoveredLSN = report.state.lsn
    }
    #expect(try Recovery.verify(DataDirectory(path: directory.path)).lastLSN == recoveredLSN)
}
