//! At most one log line per period about a condition that can recur
//! thousands of times a second (connections refused past the limit, accept
//! failing for want of descriptors): the first occurrence is told at once,
//! the rest are counted and told with the next line.
//!
//! It only counts and decides; the caller writes the line. Not shared
//! between threads: each accept loop owns its own.

use std::time::{Duration, Instant};

/// Counts occurrences and says when a line may be written.
#[derive(Debug)]
pub(crate) struct Throttle {
    period: Duration,
    last_line: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    pub(crate) fn new(period: Duration) -> Throttle {
        Throttle {
            period,
            last_line: None,
            held_back: 0,
        }
    }

    /// Records one occurrence at `now`. Some(n) means "write a line now,
    /// covering this occurrence and the n held back since the last line".
    pub(crate) fn hit(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_line
            .is_none_or(|last| now.saturating_duration_since(last) >= self.period);
        if due {
            self.last_line = Some(now);
            Some(std::mem::take(&mut self.held_back))
        } else {
            self.held_back += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_hit_is_told_and_a_burst_after_it_waits_for_the_period() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        assert_eq!(t.hit(start), Some(0));
        for ms in 1..1000 {
            assert_eq!(t.hit(start + Duration::from_millis(ms)), None);
        }
        assert_eq!(t.hit(start + Duration::from_millis(1000)), Some(999));
        assert_eq!(t.hit(start + Duration::from_millis(1001)), None);
        assert_eq!(t.hit(start + Duration::from_secs(5)), Some(1));
    }
}
