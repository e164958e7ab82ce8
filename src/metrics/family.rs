//! Metric families: atomics for the hot path, one small map per labelled family.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter holding `v` (for values kept elsewhere, rendered at scrape time).
    pub fn from_value(v: u64) -> Counter {
        Counter(AtomicU64::new(v))
    }
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// The value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters by one label's value (method, status code, class...). Label values come from a
/// small closed set chosen by siaga (never from a message's text), so the map stays small.
#[derive(Debug, Default)]
pub struct CounterVec(Mutex<BTreeMap<String, u64>>);

impl CounterVec {
    /// Adds one to the counter of `label`.
    pub fn inc(&self, label: &str) {
        self.add(label, 1);
    }
    /// Adds `n` to the counter of `label`.
    pub fn add(&self, label: &str, n: u64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(label) {
            Some(v) => *v += n,
            None => {
                map.insert(label.to_string(), n);
            }
        }
    }
    /// Makes `label` appear with 0 before anything happened (dashboards see the series).
    pub fn touch(&self, label: &str) {
        self.add(label, 0);
    }
    /// The counter of `label`.
    pub fn get(&self, label: &str) -> u64 {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(label).copied().unwrap_or(0)
    }
    /// Every (label, value), sorted by label.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Gauges by one label's value, replaced as a whole (e.g. seats by state).
#[derive(Debug, Default)]
pub struct GaugeVec(Mutex<BTreeMap<String, i64>>);

impl GaugeVec {
    /// Replaces every value; labels in `keep` that are missing from `values` read 0.
    pub fn replace(&self, keep: &[&str], values: impl IntoIterator<Item = (String, i64)>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.clear();
        for k in keep {
            map.insert((*k).to_string(), 0);
        }
        for (k, v) in values {
            *map.entry(k).or_insert(0) += v;
        }
    }
    /// Every (label, value), sorted by label.
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// A histogram with fixed upper bounds (seconds), cumulative on render.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in microseconds, so that it stays an atomic integer.
    sum_us: AtomicU64,
}

impl Histogram {
    /// A histogram over `bounds` (ascending, seconds); `+Inf` is implied.
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }
    /// Records one observation of `seconds` (negative values count as 0).
    pub fn observe(&self, seconds: f64) {
        let s = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        if let Some(i) = self.bounds.iter().position(|b| s <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        // µs as an integer: truncation is below the resolution anyone reads.
        self.sum_us
            .fetch_add((s * 1e6).min(u64::MAX as f64) as u64, Ordering::Relaxed);
    }
    /// (upper bound, cumulative count) per bucket, then the total count and the sum (s).
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, u64, f64) {
        let mut running = 0;
        let cumulative = self
            .bounds
            .iter()
            .zip(&self.buckets)
            .map(|(b, c)| {
                running += c.load(Ordering::Relaxed);
                (*b, running)
            })
            .collect();
        (
            cumulative,
            self.count.load(Ordering::Relaxed),
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }
}
