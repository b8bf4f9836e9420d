//! A small log-scale latency histogram: bins grow by 15 % from 100 µs to
//! about 100 s, so a quantile is known within 15 % — plenty to tell a p99
//! that is 1.5× another. Quantiles report the bin's upper bound, the same
//! estimator on both sides.

use std::time::Duration;

const BASE_SECS: f64 = 100e-6;
const FACTOR: f64 = 1.15;
const BINS: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Histogram {
    /// Empty until the first sample (most buckets of an idle route stay so).
    counts: Vec<u64>,
    total: u64,
}

impl Histogram {
    pub(crate) fn add(&mut self, latency: Duration) {
        if self.counts.is_empty() {
            self.counts = vec![0; BINS];
        }
        self.counts[bin(latency)] += 1;
        self.total += 1;
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BINS];
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// The `q` quantile (0 < q ≤ 1) as a bin upper bound; zero when empty.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let target = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return upper_bound(i);
            }
        }
        upper_bound(BINS - 1)
    }
}

fn bin(latency: Duration) -> usize {
    let secs = latency.as_secs_f64();
    if secs <= BASE_SECS {
        return 0;
    }
    let i = ((secs / BASE_SECS).ln() / FACTOR.ln()).ceil();
    (i as usize).min(BINS - 1)
}

fn upper_bound(i: usize) -> Duration {
    Duration::from_secs_f64(BASE_SECS * FACTOR.powi(i as i32))
}
