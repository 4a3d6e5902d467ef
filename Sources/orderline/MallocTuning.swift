import Glibc

/// glibc's allocator, tuned once at start-up.
enum MallocTuning {
    /// Blocks of 256 KiB and more (a client's request or reply of megabytes) are mapped
    /// on their own and given back to the system when freed. By default glibc raises
    /// this threshold after the first such block is freed, and keeps the later ones in
    /// its heap for good: 20 clients that each sent 63 MiB and left kept the server at
    /// 1.58 GB resident.
    ///
    /// `mallopt` is not in the Glibc module (it lives in `<malloc.h>`), so it is looked
    /// up by name; on a C library without it this does nothing.
    static func returnLargeBlocksToTheSystem() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 256 << 10)
    }
}
