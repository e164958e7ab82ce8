//! Caller identity and repeat-caller windows.
//!
//! - [`CallerId::from_headers`] reads the number from P-Asserted-Identity (RFC 3325) or From,
//!   and treats `Privacy: id|header|user` (RFC 3323/3325), `anonymous`/`restricted`/`unknown`
//!   users, the `anonymous.invalid` host and missing numbers as withheld.
//! - [`RepeatCallers`] counts calls per number in the last hour and 24 hours (a DashMap of
//!   arrival times; [`RepeatCallers::expire`] drops what is older than 24 h).
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use dashmap::DashMap;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
/// Arrival times kept per number (a flood beyond this is still "many").
const MAX_PER_NUMBER: usize = 512;

/// Who is calling, as far as the headers tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerId {
    /// A number (digits, optionally with a leading `+`).
    Number(String),
    /// Withheld, anonymous or missing.
    Withheld,
}

impl CallerId {
    /// From the header values (full values, e.g. `"Budi" <sip:+6281234@trunk>;tag=1`).
    pub fn from_headers(from: Option<&str>, pai: Option<&str>, privacy: Option<&str>) -> CallerId {
        if privacy.is_some_and(privacy_hides_id) {
            return CallerId::Withheld;
        }
        pai.and_then(number_of)
            .or_else(|| from.and_then(number_of))
            .map_or(CallerId::Withheld, CallerId::Number)
    }

    /// The number, if not withheld.
    pub fn number(&self) -> Option<&str> {
        match self {
            CallerId::Number(n) => Some(n),
            CallerId::Withheld => None,
        }
    }
}

fn privacy_hides_id(privacy: &str) -> bool {
    privacy.split([';', ',', ' ']).map(str::trim).any(|p| {
        ["id", "header", "user"]
            .iter()
            .any(|k| p.eq_ignore_ascii_case(k))
    })
}

/// The user part of a `sip:`/`sips:`/`tel:` URI in a header value, if it is a number.
fn number_of(value: &str) -> Option<String> {
    let uri = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value),
    };
    let uri = uri.trim();
    let rest = ["sip:", "sips:", "tel:"].iter().find_map(|s| {
        uri.get(..s.len())
            .filter(|p| p.eq_ignore_ascii_case(s))
            .map(|_| &uri[s.len()..])
    })?;
    let (user, host) = rest.split_once('@').unwrap_or((rest, ""));
    let user = user.split(';').next().unwrap_or("");
    if host.eq_ignore_ascii_case("anonymous.invalid") {
        return None;
    }
    let digits = user.strip_prefix('+').unwrap_or(user);
    let ok = !digits.is_empty()
        && digits.len() <= 32
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.');
    ok.then(|| user.chars().filter(|&c| c != '-' && c != '.').collect())
}

/// Calls from one number before the current one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepeatCounts {
    /// In the last hour.
    pub last_1h: u32,
    /// In the last 24 hours.
    pub last_24h: u32,
}

/// Recent arrivals per number (shared by all calls; short sync locks only).
#[derive(Debug, Default)]
pub struct RepeatCallers {
    calls: DashMap<String, VecDeque<Instant>>,
}

impl RepeatCallers {
    /// An empty registry.
    pub fn new() -> RepeatCallers {
        RepeatCallers::default()
    }

    /// Records a call from `number` at `now` and returns the counts *before* it.
    pub fn record(&self, number: &str, now: Instant) -> RepeatCounts {
        let mut times = self.calls.entry(number.to_owned()).or_default();
        prune(&mut times, now);
        let counts = counts(&times, now);
        if times.len() >= MAX_PER_NUMBER {
            times.pop_front();
        }
        times.push_back(now);
        counts
    }

    /// The counts for `number` without recording a call.
    pub fn peek(&self, number: &str, now: Instant) -> RepeatCounts {
        self.calls
            .get(number)
            .map_or_else(RepeatCounts::default, |t| counts(&t, now))
    }

    /// Drops arrivals older than 24 h and numbers with none left.
    pub fn expire(&self, now: Instant) {
        self.calls.retain(|_, times| {
            prune(times, now);
            !times.is_empty()
        });
    }

    /// Numbers tracked.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// No number tracked.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) >= DAY)
    {
        times.pop_front();
    }
}

fn counts(times: &VecDeque<Instant>, now: Instant) -> RepeatCounts {
    let within = |w: Duration| {
        times
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) < w)
            .count() as u32
    };
    RepeatCounts {
        last_1h: within(HOUR),
        last_24h: within(DAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_withheld_callers() {
        let id =
            |f: Option<&str>, p: Option<&str>, pr: Option<&str>| CallerId::from_headers(f, p, pr);
        assert_eq!(
            id(
                Some("\"Budi\" <sip:+62812-345@192.0.2.1>;tag=a"),
                None,
                None
            ),
            CallerId::Number("+62812345".into())
        );
        assert_eq!(
            id(Some("<sip:111@x>"), Some("<tel:+6281>"), None),
            CallerId::Number("+6281".into())
        );
        assert_eq!(
            id(Some("<sip:anonymous@anonymous.invalid>"), None, None),
            CallerId::Withheld
        );
        assert_eq!(
            id(Some("sip:restricted@192.0.2.1"), None, None),
            CallerId::Withheld
        );
        assert_eq!(
            id(Some("<sip:0812@x>"), None, Some("id")),
            CallerId::Withheld
        );
        assert_eq!(
            id(Some("<sip:0812@x>"), None, Some("none")),
            CallerId::Number("0812".into())
        );
        assert_eq!(id(None, None, None), CallerId::Withheld);
        assert_eq!(id(Some("garbage <"), None, None), CallerId::Withheld);
    }

    #[test]
    fn windows_count_and_expire() {
        let reg = RepeatCallers::new();
        let t0 = Instant::now();
        assert_eq!(reg.record("0812", t0), RepeatCounts::default());
        let c = reg.record("0812", t0 + Duration::from_secs(1800));
        assert_eq!(
            c,
            RepeatCounts {
                last_1h: 1,
                last_24h: 1
            }
        );
        let c = reg.record("0812", t0 + Duration::from_secs(2 * 3600));
        assert_eq!(
            c,
            RepeatCounts {
                last_1h: 0,
                last_24h: 2
            }
        );
        reg.expire(t0 + Duration::from_secs(30 * 3600));
        assert!(reg.is_empty());
    }
}
