extension String {
    /// Calls `body` with the string's UTF-8 bytes in one buffer. Request tokens are
    /// native strings, so this is a pointer, not a copy; scanning the buffer is several
    /// times faster than iterating `utf8`, which every argument check of every
    /// request used to do.
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        var string = self
        return try string.withUTF8(body)
    }
}
