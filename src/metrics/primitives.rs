//! The three kinds of Prometheus value, each a few atomics: a counter only
//! grows, a gauge goes up and down, a histogram counts observations into
//! fixed buckets and keeps their sum.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Observations in seconds, counted into buckets with the given upper
/// bounds (plus `+Inf`). The sum is kept in nanoseconds, so one
/// observation is two atomic additions and no compare-and-swap loop.
#[derive(Debug)]
pub struct Histogram {
    bounds: Vec<f64>,
    /// Per bucket, not cumulative; the last one is `+Inf`.
    counts: Vec<AtomicU64>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// `count` bounds starting at `start`, each `factor` times the previous
    /// (Prometheus' `ExponentialBuckets`).
    pub fn exponential(start: f64, factor: f64, count: usize) -> Histogram {
        let bounds: Vec<f64> = (0..count).map(|i| start * factor.powi(i as i32)).collect();
        let counts = (0..=count).map(|_| AtomicU64::new(0)).collect();
        Histogram {
            bounds,
            counts,
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    /// (upper bound, cumulative count) per bucket, `+Inf` as `f64::INFINITY`;
    /// then the sum in seconds and the total count.
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64, u64) {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let bound = self.bounds.get(i).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, cumulative));
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        (buckets, sum, cumulative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_into_cumulative_buckets() {
        let h = Histogram::exponential(0.001, 2.0, 3); // 1 ms, 2 ms, 4 ms
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(1));
        let (buckets, sum, count) = h.snapshot();
        assert_eq!(
            buckets,
            vec![(0.001, 2), (0.002, 2), (0.004, 3), (f64::INFINITY, 4)]
        );
        assert_eq!(count, 4);
        assert!((sum - 1.0045).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn counters_and_gauges() {
        let c = Counter::default();
        c.inc();
        c.add(4);
        assert_eq!(c.get(), 5);
        let g = Gauge::default();
        g.set(-3);
        assert_eq!(g.get(), -3);
    }
}
