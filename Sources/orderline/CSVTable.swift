import CSV
import Foundation

/// A CSV file read whole through CSV.swift (quotes, quoted line breaks), UTF-8 with or
/// without a byte order mark, with the line each record starts on, for reports that
/// point into the file.
struct CSVTable {
    struct Record {
        /// The file's line the record starts on (the header is line 1).
        var line: Int
        var fields: [String]
    }

    var header: [String]
    var records: [Record]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws(Failure) -> CSVTable {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        // Read whole: CSV.swift's stream reader takes the end of a file for an error on
        // Linux. A spreadsheet's byte order mark is not part of the first column's name.
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(description: "\(path) is not UTF-8 text; nothing was sent")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw Failure(description: "cannot read a header row from \(path): \(error)")
        }
        guard let header = reader.headerRow else { throw Failure(description: "\(path) is empty: a header row names the columns") }
        var records: [Record] = []
        var line = 1 + lineBreaks(in: header) + 1
        while let fields = reader.next() {
            records.append(Record(line: line, fields: fields))
            line += 1 + lineBreaks(in: fields)
        }
        if let error = reader.error {
            throw Failure(description: "\(path) cannot be read past line \(line): \(error)")
        }
        return CSVTable(header: header, records: records)
    }

    /// Line breaks inside quoted fields (LF, CRLF or CR: what ends a CSV row; not the
    /// other Unicode line separators): the record's next one starts that much later.
    private static func lineBreaks(in fields: [String]) -> Int {
        fields.reduce(0) { $0 + $1.reduce(0) { $1 == "\n" || $1 == "\r\n" || $1 == "\r" ? $0 + 1 : $0 } }
    }

    /// Rows under a header, a field quoted where it needs to be, a line break after
    /// each row. Written to memory (CSV.swift writes a byte at a time), then in one go.
    static func data(header: [String], rows: [[String]]) throws -> Data {
        let stream = OutputStream(toMemory: ())
        stream.open()
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: header)
        for row in rows { try writer.write(row: row) }
        guard var data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw Failure(description: "the CSV writer gave no data")
        }
        stream.close()
        data.append(0x0A)
        return data
    }
}
