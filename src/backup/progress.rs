//! Progress lines for long work (restore, offline backup): one line once a
//! second has passed since the last one, so a quick run prints nothing but
//! its result and a long one is never silent for more than a second.

use std::time::{Duration, Instant};

/// How often a line is printed while work goes on.
pub const EVERY: Duration = Duration::from_secs(1);

pub struct Progress<'a> {
    label: &'static str,
    last: Instant,
    sink: &'a mut dyn FnMut(String),
}

impl<'a> Progress<'a> {
    /// Starts the clock; `sink` gets each line (stderr, or the log).
    pub fn new(label: &'static str, sink: &'a mut dyn FnMut(String)) -> Progress<'a> {
        Progress {
            label,
            last: Instant::now(),
            sink,
        }
    }

    /// `done` of `total` keys handled.
    pub fn keys(&mut self, done: u64, total: u64) {
        self.keys_at(done, total, Instant::now());
    }

    fn keys_at(&mut self, done: u64, total: u64, now: Instant) {
        if now.duration_since(self.last) < EVERY {
            return;
        }
        self.last = now;
        let percent = done
            .saturating_mul(100)
            .checked_div(total)
            .unwrap_or(100)
            .min(100);
        (self.sink)(format!(
            "{}: {percent}% ({done} of {total} keys)",
            self.label
        ));
    }

    /// A step without a count (writing a file, fsync): said only when the
    /// work has already been going for a second.
    pub fn step(&mut self, what: &str) {
        self.step_at(what, Instant::now());
    }

    fn step_at(&mut self, what: &str, now: Instant) {
        if now.duration_since(self.last) < EVERY {
            return;
        }
        self.last = now;
        (self.sink)(format!("{}: {what}", self.label));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_at_most_and_at_least_every_second() {
        let mut lines = Vec::new();
        let mut sink = |line: String| lines.push(line);
        let mut p = Progress::new("restore", &mut sink);
        let start = p.last;
        p.keys_at(10, 100, start + Duration::from_millis(500));
        p.step_at("writing", start + Duration::from_millis(900));
        p.keys_at(40, 100, start + Duration::from_millis(1100));
        p.keys_at(50, 100, start + Duration::from_millis(1500));
        p.step_at("writing the data dir", start + Duration::from_millis(2200));
        p.keys_at(7, 0, start + Duration::from_millis(3300));
        assert_eq!(
            lines,
            [
                "restore: 40% (40 of 100 keys)",
                "restore: writing the data dir",
                "restore: 100% (7 of 0 keys)",
            ]
        );
    }
}
