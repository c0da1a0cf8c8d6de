import CNFNBLAS

/// Process-wide memory-allocator settings for training workloads (lives beside the BLAS
/// wrappers because this is the one module that sees C headers).
public enum AllocatorTuning {
    /// Keeps freed tensor memory in the process instead of returning it to the OS after every step.
    ///
    /// glibc serves allocations above 128 KiB with fresh `mmap`s and trims the heap eagerly, so a
    /// training loop that frees and re-allocates the same few megabytes every step pays for page
    /// faults on every step — measured here as about half of a Small-CNN training step. Raising the
    /// mmap and trim thresholds to 32 MiB / 1 GiB removes that. Call once at program start
    /// (the `nfn` tool and the benchmarks do); a no-op on platforms without glibc.
    public static func configureForTraining() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }
}
