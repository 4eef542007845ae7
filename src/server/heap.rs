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
