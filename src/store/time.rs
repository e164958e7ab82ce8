//! UTC timestamps as integer milliseconds since the Unix epoch.
//!
//! Integers, not RFC 3339 text, in the database: range scans and hour buckets are integer
//! comparisons and divisions, and there is no parsing in a query. JSON shows RFC 3339
//! (`2026-11-01T03:04:05.123Z`).
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// A UTC instant, milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the epoch.
    pub const fn from_ms(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_ms(self) -> i64 {
        self.0
    }

    /// The wall clock (only at the edges: the B2BUA driver, the API, the CLI).
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// Hours since the epoch (the analytics bucket), rounding down.
    pub const fn hour(self) -> i64 {
        self.0.div_euclid(HOUR_MS)
    }

    /// `self + ms`.
    pub const fn plus_ms(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// As a chrono UTC time (`None` only far outside any real date).
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }

    /// Parses RFC 3339 (`2026-11-01T00:00:00+07:00`, `...Z`).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Timestamp(t.timestamp_millis()))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.timestamp_millis())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_utc() {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "{}ms", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not an RFC 3339 time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_hour() {
        let t = Timestamp::parse_rfc3339("2026-11-01T07:30:00+07:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-01T00:30:00.000Z");
        assert_eq!(t.hour() * HOUR_MS, t.as_ms() - 30 * 60_000);
        assert_eq!(Timestamp::from_ms(-1).hour(), -1);
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
    }
}
