//! Hands freed heap memory back to the operating system.
//!
//! glibc's malloc keeps what a thread frees in that thread's arena for
//! reuse, and returns memory to the system only from the top of the main
//! heap. A snapshot allocates a copy of the whole tree and its encoding and
//! frees them a moment later; a restart parses a whole snapshot file. Without
//! a trim those pages stay resident (counted in RSS) until the same arena
//! happens to reuse them. `malloc_trim(0)` walks every arena and releases
//! whole free pages, which costs a few milliseconds on a large heap: it runs
//! only after such a burst, never per request.

/// Releases free heap pages to the system (glibc only; elsewhere nothing).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim takes no pointers and only returns free pages.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// How many malloc arenas the process may use (glibc's default is eight
/// per core). Every client connection is a thread, and each thread that
/// allocates is handed an arena; what a request frees stays in its arena,
/// half-used pages that no trim can give back. With 200 000 keys written
/// over 64 connections that was 89 MiB resident against 72 MiB with two
/// arenas; the tree and the log live on the state thread either way.
const ARENAS: i32 = 2;

/// Allocations from this size up get their own mapping, returned to the
/// system when freed. glibc's default threshold starts at 128 KiB but
/// rises to the size of any mapped block freed (up to 32 MiB), after which
/// a snapshot's encoding (25 MiB for 200 000 keys, made on the snapshot
/// thread) is carved out of an arena and leaves its pages there: 109 MiB
/// resident after writing 200 000 keys instead of 71. A fixed threshold
/// keeps such buffers out of the arenas for good.
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Caps the number of arenas at [`ARENAS`] and fixes the mapping threshold
/// at [`MMAP_THRESHOLD`], unless `MALLOC_ARENA_MAX` or
/// `MALLOC_MMAP_THRESHOLD_` is set (glibc reads those itself). Call before
/// any thread is started.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_MMAP_THRESHOLD: i32 = -3;
        const M_ARENA_MAX: i32 = -8;
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        for (variable, param, value) in [
            ("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENAS),
            ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        ] {
            if std::env::var_os(variable).is_none() {
                // SAFETY: mallopt takes two integers and changes a malloc setting.
                unsafe {
                    mallopt(param, value);
                }
            }
        }
    }
}
