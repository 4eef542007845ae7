//! Giving back the stack pages a connection thread touched while it parsed
//! and routed a request, before it parks for a long wait.
//!
//! An idle watcher's memory is mostly its thread's resident stack pages:
//! every page the deepest call ever reached stays resident until the thread
//! ends. Reading a request reaches a page or two below where the watch then
//! waits; `release_unused_stack` hands those back (`MADV_DONTNEED`: the
//! kernel drops them and maps zero pages again if they are ever touched).
//!
//! It only ever releases whole pages strictly below the caller's frame, less
//! a margin for the calls the caller is about to make; it never touches the
//! frames in use, another thread's stack, or the guard page.

/// Left untouched below the caller's frame: the frames of the wait that
/// follows (a channel receive and a futex call need well under 1 KiB) and
/// the 128-byte red zone. Correctness does not depend on it: a page
/// released and touched again simply comes back, zeroed.
const MARGIN: usize = 1024;

/// Releases the calling thread's stack pages below its current frame.
/// Returns the bytes handed back (0 where the stack bounds are unknown).
#[inline(never)]
pub fn release_unused_stack() -> usize {
    let Some((low, _high)) = stack_bounds() else {
        return 0;
    };
    let marker = 0u8;
    // The address of a local is within a few bytes of the stack pointer of
    // this (not inlined) frame.
    let here = std::ptr::addr_of!(marker) as usize;
    let page = page_size();
    let end = here.saturating_sub(MARGIN) & !(page - 1);
    let start = (low + page - 1) & !(page - 1);
    if end <= start {
        return 0;
    }
    // SAFETY: [start, end) lies inside this thread's own stack and below
    // every live frame (the stack grows down and `end` is MARGIN below this
    // frame); nothing references memory there. MADV_DONTNEED on private
    // anonymous memory makes later reads see zeros, which is what an unused
    // stack page may hold.
    let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    if rc == 0 { end - start } else { 0 }
}

fn page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n)
        .ok()
        .filter(|n| n.is_power_of_two())
        .unwrap_or(4096)
}

/// `(lowest, highest)` address of the calling thread's stack.
fn stack_bounds() -> Option<(usize, usize)> {
    // SAFETY: the attribute object is initialised by pthread_getattr_np,
    // read by pthread_attr_getstack and destroyed before it goes out of scope.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 || addr.is_null() {
            return None;
        }
        let low = addr as usize;
        Some((low, low + size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touches `depth` bytes of stack below the caller; returns the number
    /// of 4 KiB frames it used.
    #[inline(never)]
    fn go_deep(depth: usize) -> usize {
        let block = [1u8; 4096];
        let here = usize::from(std::hint::black_box(&block)[4095]);
        if depth > 4096 {
            here + go_deep(depth - 4096)
        } else {
            here
        }
    }

    #[test]
    fn pages_a_deep_call_left_behind_are_handed_back_and_the_thread_lives_on() {
        let released = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                assert_eq!(go_deep(64 * 1024), 16);
                let released = release_unused_stack();
                // The stack is still usable, deep calls included.
                assert_eq!(go_deep(64 * 1024), 16);
                released
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(released >= 48 * 1024, "released {released} bytes");
    }
}
