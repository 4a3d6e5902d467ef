import CZstd

/// A zstd compression stream whose window carries across flushes: each `flush`
/// returns a chunk that decompresses completely on its own once the chunks before it
/// were fed, so a WAL segment compresses like one stream yet can stop at any frame.
/// Not thread-safe: one writer thread owns it.
public final class ZstdStreamCompressor {
    private let context: OpaquePointer
    private var output: [UInt8]

    /// With `checksum`, the frame carries zstd's content checksum (snapshots do).
    public init(level: Int32, checksum: Bool = false) {
        context = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        if checksum { ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1) }
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    /// How far `compress` empties zstd's buffers.
    public enum Flush {
        /// As zstd likes: the result may hold less than all of `input` yet.
        case none
        /// The result holds all of `input` (a WAL frame).
        case flush
        /// And the frame is ended (a snapshot, fed in pieces).
        case endFrame
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Starts a new stream (a new segment): no history is carried over.
    public func reset() {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
    }

    /// Compresses `input` and flushes, so the result holds all of it.
    public func compressAndFlush(_ input: [UInt8]) throws(StorageError) -> [UInt8] {
        try compress(input, .flush)
    }

    public func compress(_ input: [UInt8], _ flush: Flush) throws(StorageError) -> [UInt8] {
        let directive = switch flush {
        case .none: ZSTD_e_continue
        case .flush: ZSTD_e_flush
        case .endFrame: ZSTD_e_end
        }
        var result: [UInt8] = []
        result.reserveCapacity(input.count / 2 + 64)
        var errorCode: Int?
        input.withUnsafeBytes { inputBytes in
            var inBuffer = ZSTD_inBuffer(src: inputBytes.baseAddress, size: inputBytes.count, pos: 0)
            output.withUnsafeMutableBytes { outputBytes in
                while true {
                    var outBuffer = ZSTD_outBuffer(dst: outputBytes.baseAddress, size: outputBytes.count, pos: 0)
                    let code = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
                    if ZSTD_isError(code) != 0 {
                        errorCode = code
                        return
                    }
                    result.append(contentsOf: outputBytes[0..<outBuffer.pos])
                    // `continue` is done once all input is taken; `flush` and `end` once
                    // nothing is left in zstd's buffers either.
                    if inBuffer.pos == inBuffer.size && (code == 0 || directive == ZSTD_e_continue) { return }
                }
            }
        }
        if let errorCode { throw Zstd.error("compress", errorCode) }
        return result
    }
}

/// The reading side of `ZstdStreamCompressor`.
public final class ZstdStreamDecompressor {
    private let context: OpaquePointer

    public init() { context = ZSTD_createDCtx() }
    deinit { ZSTD_freeDCtx(context) }

    public func reset() { ZSTD_DCtx_reset(context, ZSTD_reset_session_only) }

    /// Decompresses one flushed chunk, which must yield exactly `expectedBytes`.
    public func decompress(_ input: ArraySlice<UInt8>, expectedBytes: Int) throws(StorageError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedBytes)
        var errorCode: Int?
        var consumedAll = true
        let produced = input.withUnsafeBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes -> Int in
                var inBuffer = ZSTD_inBuffer(src: inputBytes.baseAddress, size: inputBytes.count, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: outputBytes.baseAddress, size: outputBytes.count, pos: 0)
                // Loop until the chunk is consumed and nothing more comes out; the
                // last call drains what the context still buffers.
                while true {
                    let before = (inBuffer.pos, outBuffer.pos)
                    let code = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    if ZSTD_isError(code) != 0 {
                        errorCode = code
                        break
                    }
                    if before == (inBuffer.pos, outBuffer.pos) { break }
                }
                consumedAll = inBuffer.pos == inBuffer.size
                return outBuffer.pos
            }
        }
        if let errorCode { throw Zstd.error("decompress", errorCode) }
        guard produced == expectedBytes else {
            throw StorageError(.corrupt, "compressed payload gave \(produced) bytes, header says \(expectedBytes)")
        }
        guard consumedAll else { throw StorageError(.corrupt, "compressed payload has bytes after its data") }
        return output
    }
}

/// One-shot zstd frames, with zstd's own content checksum on (snapshots).
public enum Zstd {
    public static func compress(_ input: [UInt8], level: Int32) throws(StorageError) -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw StorageError(.io, "zstd: out of memory") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = input.withUnsafeBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes in
                ZSTD_compress2(context, outputBytes.baseAddress, outputBytes.count, inputBytes.baseAddress, inputBytes.count)
            }
        }
        if ZSTD_isError(size) != 0 { throw error("compress", size) }
        output.removeSubrange(size...)
        return output
    }

    public static func decompress(_ input: ArraySlice<UInt8>, expectedBytes: Int) throws(StorageError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedBytes)
        let size = input.withUnsafeBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes in
                ZSTD_decompress(outputBytes.baseAddress, outputBytes.count, inputBytes.baseAddress, inputBytes.count)
            }
        }
        if ZSTD_isError(size) != 0 { throw error("decompress", size) }
        guard size == expectedBytes else {
            throw StorageError(.corrupt, "compressed payload gave \(size) bytes, header says \(expectedBytes)")
        }
        return output
    }

    static func error(_ what: String, _ code: Int) -> StorageError {
        StorageError(.corrupt, "zstd \(what): \(String(cString: ZSTD_getErrorName(code)))")
    }
}
