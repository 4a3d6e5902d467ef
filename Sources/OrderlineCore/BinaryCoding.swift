/// A decoding failure in the binary encodings of events and snapshots: the bytes are
/// not what a known version of Orderline writes.
public struct DecodingError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Appends the compact encodings Orderline logs: LEB128 varints, zigzag for signed
/// values, length-prefixed UTF-8 strings, little-endian fixed-width words.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer, keeping its storage: one scratch writer serves many records.
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    public mutating func write(_ byte: UInt8) { bytes.append(byte) }

    public mutating func write(_ flag: Bool) { bytes.append(flag ? 1 : 0) }

    public mutating func writeVarUInt(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func writeVarInt(_ value: Int64) {
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func write(_ string: String) {
        string.withUTF8Bytes { utf8 in
            writeVarUInt(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func writeFixed<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(contentsOf other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }
}

/// Reads what `BinaryWriter` wrote; every read checks bounds and throws instead of trapping.
public struct BinaryReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    private let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { offset >= end }
    public var remaining: Int { end - offset }

    public mutating func readByte() throws(DecodingError) -> UInt8 {
        guard offset < end else { throw DecodingError("truncated: expected a byte at offset \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readBool() throws(DecodingError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw DecodingError("bad boolean \(other) at offset \(offset - 1)")
        }
    }

    public mutating func readVarUInt() throws(DecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw DecodingError("varint overflows 64 bits at offset \(offset - 1)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodingError("varint longer than 10 bytes at offset \(offset - 1)") }
        }
    }

    public mutating func readVarInt() throws(DecodingError) -> Int64 {
        let raw = try readVarUInt()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readInt() throws(DecodingError) -> Int64 { try readVarInt() }

    public mutating func readString() throws(DecodingError) -> String {
        let length = try readVarUInt()
        guard length <= UInt64(remaining) else {
            throw DecodingError("truncated: string of \(length) bytes at offset \(offset) past the end")
        }
        let start = offset
        offset += Int(length)
        // Through a buffer pointer: String's fast path for contiguous UTF-8.
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<offset]), as: UTF8.self) }
    }

    public mutating func readFixed<T: FixedWidthInteger>(_: T.Type) throws(DecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw DecodingError("truncated: expected \(size) bytes at offset \(offset)") }
        let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        offset += size
        return value
    }

    public mutating func readBytes(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw DecodingError("truncated: expected \(count) bytes at offset \(offset)") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }
}
