//! The standard `process_*` metrics, read from `/proc/self` when rendered
//! (as Prometheus client libraries do on Linux).

use std::fs;

/// Linux reports times in these units to user space (`USER_HZ`, 100 on
/// every architecture this runs on).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub open_fds: u64,
    pub max_fds: u64,
    pub start_time_seconds: f64,
}

/// What `/proc` says now; parts it cannot read are left at zero.
pub fn read() -> ProcessStats {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let boot = fs::read_to_string("/proc/stat").unwrap_or_default();
    let open_fds = fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    from_texts(&stat, &status, &limits, &boot, open_fds)
}

fn from_texts(stat: &str, status: &str, limits: &str, boot: &str, open_fds: u64) -> ProcessStats {
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Field 3 (state) is fields[0]; utime is 14, stime 15, starttime 22.
    let field = |n: usize| -> f64 {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let max_fds = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let boot_time: f64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    ProcessStats {
        cpu_seconds: (field(14) + field(15)) / TICKS_PER_SECOND,
        resident_bytes: kib("VmRSS:"),
        virtual_bytes: kib("VmSize:"),
        open_fds,
        max_fds,
        start_time_seconds: boot_time + field(22) / TICKS_PER_SECOND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_texts_are_read_as_prometheus_clients_read_them() {
        let stat = "10098 (my (odd) name) R 10096 10096 1111 0 -1 4194304 98 0 0 0 250 50 0 0 \
                    20 0 1 0 466030 3133440 406 18446744073709551615";
        let status = "Name:\tetcd\nVmSize:\t    3060 kB\nVmRSS:\t     1624 kB\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            20000                20000                files\n";
        let boot = "cpu  1 2 3\nbtime 1796112275\n";
        let p = from_texts(stat, status, limits, boot, 7);
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(p.resident_bytes, 1624 * 1024);
        assert_eq!(p.virtual_bytes, 3060 * 1024);
        assert_eq!(p.max_fds, 20000);
        assert_eq!(p.open_fds, 7);
        assert_eq!(p.start_time_seconds, 1796112275.0 + 4660.3);
    }

    #[test]
    fn this_process_can_be_read() {
        let p = read();
        assert!(p.resident_bytes > 0 && p.open_fds > 0 && p.max_fds > 0);
        assert!(p.start_time_seconds > 1.5e9);
    }
}
