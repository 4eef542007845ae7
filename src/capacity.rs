//! How many client connections this process can hold, and readying the
//! process to hold them.
//!
//! Every client connection, idle watchers included, is one descriptor and
//! one thread (`httpd`). The default `-max-connections` is therefore the
//! smallest of what descriptors, memory and the kernel's thread limits
//! allow, each less a reserve for everything else the machine needs
//! (data dir, listeners, peer connections, the 503 answers past the limit,
//! its own threads); a limit nobody can reach would turn refusals with a
//! clear 503 into failed accepts and threads that cannot start.
//!
//! The decision is pure ([`default_max_connections`] over [`Resources`]);
//! [`Resources::probe`] reads `/proc` and `/sys`, [`raise_open_file_limit`]
//! and [`size_futex_hash`] change the process. It never opens sockets and
//! never reads the configuration.

use std::path::Path;

/// Descriptors and threads kept for everything but client connections:
/// the peer port's connections (`PEER_CONNECTIONS`), the over-limit ones
/// being told 503 (`httpd::REFUSING_AT_ONCE`), the data dir (lock, WAL
/// segment, snapshot being written, directory syncs), the two listeners,
/// one sender per peer, health checks, discovery and standard streams.
pub const RESERVED: u64 = 512;
/// Open connections allowed on the peer port (Raft batches from each
/// member, joins, admin calls, backups, health checks through the leader).
pub const PEER_CONNECTIONS: usize = 256;
/// Memory set aside per client connection when sizing the default: an
/// idle one costs about a quarter of it (measured in the README: stack
/// pages, buffers, the watch), the kernel stack of its thread another
/// 16 KiB, and the rest is headroom for requests in flight.
pub const BYTES_PER_CONNECTION: u64 = 64 * 1024;
/// Memory mappings per thread (see `Resources::threads`).
pub const MAPS_PER_THREAD: u64 = 4;
/// The default never goes below this, however small the machine.
pub const MIN_CONNECTIONS: usize = 64;

/// What bounds the number of connections, as far as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// The soft `RLIMIT_NOFILE` (after [`raise_open_file_limit`]).
    pub open_files: u64,
    /// Physical memory, or the cgroup's `memory.max` when lower.
    pub memory_bytes: Option<u64>,
    /// The fewest threads the kernel lets exist: `kernel.threads-max`,
    /// `kernel.pid_max`, a quarter of `vm.max_map_count` (each thread has
    /// four mappings: its stack, the stack's guard page, and the signal
    /// stack Rust's std gives every thread with its own guard) and the
    /// cgroup's `pids.max`.
    pub threads: Option<u64>,
}

/// Which of the three decided the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    OpenFiles,
    Memory,
    Threads,
    Floor,
}

/// The default `-max-connections` and what decided it.
pub fn default_max_connections(r: &Resources) -> (usize, Bound) {
    let mut best = (r.open_files.saturating_sub(RESERVED), Bound::OpenFiles);
    if let Some(memory) = r.memory_bytes {
        let by_memory = memory / 2 / BYTES_PER_CONNECTION;
        if by_memory < best.0 {
            best = (by_memory, Bound::Memory);
        }
    }
    if let Some(threads) = r.threads {
        let by_threads = threads.saturating_sub(RESERVED);
        if by_threads < best.0 {
            best = (by_threads, Bound::Threads);
        }
    }
    let n = usize::try_from(best.0).unwrap_or(usize::MAX);
    if n < MIN_CONNECTIONS {
        (MIN_CONNECTIONS, Bound::Floor)
    } else {
        (n, best.1)
    }
}

/// How many client connections the descriptors leave room for, whatever
/// the default: a `-max-connections` above it can only fail at accept.
pub fn descriptor_room(r: &Resources) -> u64 {
    r.open_files.saturating_sub(RESERVED)
}

/// One line for the start-up log saying why the default is what it is.
pub fn explain(n: usize, bound: Bound, r: &Resources) -> String {
    match bound {
        Bound::OpenFiles => format!(
            "the open-file limit {} less {RESERVED} reserved",
            r.open_files
        ),
        Bound::Memory => format!(
            "one per {} KiB of half of {} MiB of memory",
            BYTES_PER_CONNECTION / 1024,
            r.memory_bytes.unwrap_or(0) >> 20
        ),
        Bound::Threads => format!(
            "the kernel's thread limit {} less {RESERVED} reserved",
            r.threads.unwrap_or(0)
        ),
        Bound::Floor => format!("the smallest default, {n}"),
    }
}

impl Resources {
    /// Reads the limits of this process and machine.
    pub fn probe() -> Resources {
        let cgroup = own_cgroup_dir();
        let cgroup_value =
            |file: &str| cgroup.as_ref().and_then(|dir| read_number(&dir.join(file)));
        let memory = [meminfo_total(), cgroup_value("memory.max")]
            .into_iter()
            .flatten()
            .min();
        let threads = [
            read_number(Path::new("/proc/sys/kernel/threads-max")),
            read_number(Path::new("/proc/sys/kernel/pid_max")),
            read_number(Path::new("/proc/sys/vm/max_map_count")).map(|maps| maps / MAPS_PER_THREAD),
            cgroup_value("pids.max"),
        ]
        .into_iter()
        .flatten()
        .min();
        Resources {
            open_files: open_file_limit().0,
            memory_bytes: memory,
            threads,
        }
    }
}

/// `(soft, hard)` `RLIMIT_NOFILE`; a failure reads as 1024 both ways.
fn open_file_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return (1024, 1024);
    }
    (lim.rlim_cur, lim.rlim_max)
}

/// Raises the soft open-file limit to the hard one (as Go does at start),
/// so a shell's default of 1024 does not cap a machine whose administrator
/// allowed more. Returns the soft limit now in force.
pub fn raise_open_file_limit() -> u64 {
    let (soft, hard) = open_file_limit();
    if soft >= hard {
        return soft;
    }
    let lim = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads one rlimit from the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        hard
    } else {
        soft
    }
}

/// `prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, …)` (Linux 6.16+; not in
/// libc yet).
const PR_FUTEX_HASH: libc::c_int = 78;
const PR_FUTEX_HASH_SET_SLOTS: libc::c_ulong = 1;

/// Futex hash slots for `threads` parked threads: about four per slot.
pub fn futex_slots(threads: usize) -> usize {
    (threads / 4).next_power_of_two().clamp(16, 1 << 16)
}

/// Since Linux 6.16 a threaded process gets a private futex hash of 16
/// slots for 2 CPUs, whatever its thread count; with 15 000 threads parked
/// on futexes every wake-up (each answer handed to a waiting connection)
/// walks a chain of about a thousand. Sizes it for `threads`; older
/// kernels refuse the call and keep their global hash, which is fine.
pub fn size_futex_hash(threads: usize) {
    let slots = futex_slots(threads);
    // SAFETY: this prctl takes three integer arguments and no pointers.
    let rc = unsafe {
        libc::prctl(
            PR_FUTEX_HASH,
            PR_FUTEX_HASH_SET_SLOTS,
            slots as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc == 0 {
        log::debug!("futex hash sized at {slots} slots for {threads} threads");
    }
}

/// A number from a one-line file; `max` (cgroup's "no limit") and anything
/// unreadable are None.
fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// This process's cgroup v2 directory, if there is one.
fn own_cgroup_dir() -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn resources(open_files: u64, memory_gib: u64, threads: u64) -> Resources {
        Resources {
            open_files,
            memory_bytes: Some(memory_gib * GIB),
            threads: Some(threads),
        }
    }

    #[test]
    fn descriptors_decide_on_a_roomy_machine() {
        let r = resources(20_000, 24, 32_768);
        assert_eq!(
            default_max_connections(&r),
            (20_000 - RESERVED as usize, Bound::OpenFiles)
        );
    }

    #[test]
    fn a_small_machine_is_bounded_by_its_memory() {
        let r = resources(65_536, 1, 32_768);
        assert_eq!(default_max_connections(&r), (8192, Bound::Memory));
    }

    #[test]
    fn a_generous_descriptor_limit_meets_the_kernel_s_thread_limit() {
        // systemd's LimitNOFILE=65536 with pid_max 32768.
        let r = resources(65_536, 64, 32_768);
        assert_eq!(
            default_max_connections(&r),
            (32_768 - RESERVED as usize, Bound::Threads)
        );
    }

    #[test]
    fn a_shell_s_1024_descriptors_still_give_a_usable_floor() {
        let r = resources(1024, 8, 32_768);
        assert_eq!(default_max_connections(&r), (512, Bound::OpenFiles));
        let r = resources(256, 8, 32_768);
        assert_eq!(default_max_connections(&r), (MIN_CONNECTIONS, Bound::Floor));
    }

    #[test]
    fn unknown_memory_and_threads_leave_the_descriptors_to_decide() {
        let r = Resources {
            open_files: 4096,
            memory_bytes: None,
            threads: None,
        };
        assert_eq!(default_max_connections(&r), (3584, Bound::OpenFiles));
    }

    #[test]
    fn the_futex_hash_has_about_four_threads_per_slot() {
        assert_eq!(futex_slots(19_488), 8192);
        assert_eq!(futex_slots(3), 16);
        assert_eq!(futex_slots(usize::MAX / 2), 1 << 16);
    }

    #[test]
    fn probing_this_machine_finds_its_descriptor_limit() {
        let r = Resources::probe();
        assert!(r.open_files >= 1, "{r:?}");
        assert!(r.memory_bytes.is_some_and(|m| m > 0), "{r:?}");
    }
}
