import Foundation
import OrderlineCore
import OrderlineStorage
import OrderlineTestSupport
import Testing

@Test func aHistoryPlacesEachLSNInItsTerm() throws {
    let first = ReplicationHistory()
    #expect(first.description == "1:1" && first.term(at: 0).description == "1:1" && first.term(at: 500).description == "1:1")
    let second = first.promoted(after: 100)
    #expect(second.description == "1:1,2:101")
    #expect(second.term(at: 100).description == "1:1" && second.term(at: 101).description == "2:101")
    // Promoted again before writing anything: the empty term is not kept.
    #expect(second.promoted(after: 100).description == "1:1,3:101")
    #expect(ReplicationHistory("1:1,2:101") == second)
    for bad in ["", "1:1,1:5", "2:10,1:20", "1:0", "x:1", "1:1,2:1x"] {
        #expect(ReplicationHistory(bad) == nil, "\(bad)")
    }
}

@Test func aHistoryIsWrittenWholeAndReadBack() throws {
    let directory = TemporaryDirectory()
    let data = DataDirectory(path: directory.path)
    #expect(try ReplicationHistory.read(in: data) == ReplicationHistory(), "none: term 1 from LSN 1")
    let history = ReplicationHistory().promoted(after: 41).promoted(after: 90)
    try history.write(in: data)
    #expect(try ReplicationHistory.read(in: data) == history)
    #expect(String(decoding: read(directory.file(ReplicationHistory.fileName)), as: UTF8.self) == "1 1\n2 42\n3 91\n")
    write(Array("1 1\n3 2\n2 9\n".utf8), to: directory.file(ReplicationHistory.fileName))
    #expect(throws: StorageError.self) { try ReplicationHistory.read(in: data) }
}
