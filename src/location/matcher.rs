//! Matching locations to calls (sans-IO; time is an argument).
//!
//! AML arrives on its own schedule: often a few seconds after the call is answered, sometimes
//! before the INVITE reaches siaga (the handset sends it as the call is dialled), sometimes
//! after the caller hung up. So:
//!
//! ```text
//!  location ──► live call with the same E.164 number or IMEI?  ──► attach
//!         │     call of that number/IMEI ended ≤ after_ms ago? ──► attach (record only)
//!         └──► otherwise kept ≤ before_ms, attached when such a call starts
//! ```
//!
//! Each call keeps one *primary* location (the one shown and recorded): a location the call
//! taker entered is never replaced; otherwise a more precise one, or one more than
//! [`FRESHER_MS`] newer, replaces it. Every attached location is still reported
//! (`primary: false`) so that it can be logged.
use std::collections::VecDeque;

use crate::store::Timestamp;

use super::fix::{Channel, Location};
use super::phone::{normalize, E164};
use super::places::Places;
use super::resolved::Resolved;

/// A newer location replaces a more precise one when it is this much newer: the caller
/// moves, and a minute-old GNSS fix is worse than a fresh Wi-Fi one.
pub const FRESHER_MS: i64 = 60_000;
/// Locations kept waiting for a call at most (oldest dropped first; the intake rate limit
/// keeps this far away).
pub const MAX_PENDING: usize = 1024;
/// Calls tracked at most (live plus recently ended).
pub const MAX_CALLS: usize = 4096;

/// The window, from `[location]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchWindow {
    /// How long a location waits for its call to start, ms.
    pub before_ms: i64,
    /// How long after a call ended its locations are still attached, ms.
    pub after_ms: i64,
}

/// A location attached to a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Attach {
    /// The call's key (as given to [`Matcher::call_started`]).
    pub call: String,
    /// The resolved location.
    pub resolved: Resolved,
    /// It is now the call's primary location (record it, put it on the seat INVITE).
    pub primary: bool,
    /// The call had already ended.
    pub after_end: bool,
}

/// What became of a location handed to [`Matcher::location`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Attached to a call.
    Attached(Attach),
    /// Kept until a matching call starts or the window passes.
    Pending,
    /// Neither a usable number nor an IMEI: it can never match.
    Unmatchable,
}

#[derive(Debug)]
struct Call {
    key: String,
    number: Option<E164>,
    imei: Option<String>,
    ended: Option<Timestamp>,
    primary: Option<Resolved>,
}

#[derive(Debug)]
struct Pending {
    number: Option<E164>,
    imei: Option<String>,
    resolved: Resolved,
}

/// The matcher: calls in, locations in, attachments out.
#[derive(Debug)]
pub struct Matcher {
    window: MatchWindow,
    places: Places,
    calls: VecDeque<Call>,
    pending: VecDeque<Pending>,
}

impl Matcher {
    /// A matcher resolving with `places`.
    pub fn new(window: MatchWindow, places: Places) -> Matcher {
        Matcher {
            window,
            places,
            calls: VecDeque::new(),
            pending: VecDeque::new(),
        }
    }

    /// A call started (INVITE from the trunk). `caller` is the number as the INVITE gave it
    /// (any form [`normalize`] reads), `imei` when known. Returns the waiting locations that
    /// match it, in arrival order.
    pub fn call_started(
        &mut self,
        now: Timestamp,
        key: &str,
        caller: Option<&str>,
        imei: Option<&str>,
    ) -> Vec<Attach> {
        self.expire(now);
        if self.calls.len() >= MAX_CALLS {
            self.calls.pop_front();
        }
        let mut call = Call {
            key: key.to_owned(),
            number: caller.and_then(|c| normalize(c).ok()),
            imei: imei.and_then(clean_imei),
            ended: None,
            primary: None,
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            if same_party(
                &call,
                self.pending[i].number.as_ref(),
                self.pending[i].imei.as_deref(),
            ) {
                if let Some(p) = self.pending.remove(i) {
                    out.push(offer(&mut call, p.resolved, false));
                }
            } else {
                i += 1;
            }
        }
        self.calls.push_back(call);
        out
    }

    /// The call ended; its locations are still attached for `after_ms`.
    pub fn call_ended(&mut self, now: Timestamp, key: &str) {
        if let Some(c) = self
            .calls
            .iter_mut()
            .find(|c| c.key == key && c.ended.is_none())
        {
            c.ended = Some(now);
        }
        self.expire(now);
    }

    /// A location arrived at `now` (AML, PIDF-LO of another leg...).
    pub fn location(&mut self, now: Timestamp, location: Location) -> Outcome {
        self.expire(now);
        let number = location.caller.as_deref().and_then(|c| normalize(c).ok());
        let imei = location.imei.as_deref().and_then(clean_imei);
        if number.is_none() && imei.is_none() {
            return Outcome::Unmatchable;
        }
        let resolved = Resolved::new(location, &self.places, now);
        // A live call first (latest started), else the most recently ended one.
        let live = self
            .calls
            .iter()
            .rposition(|c| c.ended.is_none() && same_party(c, number.as_ref(), imei.as_deref()));
        let target = live.or_else(|| {
            self.calls
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.ended.is_some() && same_party(c, number.as_ref(), imei.as_deref())
                })
                .max_by_key(|(_, c)| c.ended)
                .map(|(i, _)| i)
        });
        if let Some(call) = target.and_then(|i| self.calls.get_mut(i)) {
            let after_end = call.ended.is_some();
            return Outcome::Attached(offer(call, resolved, after_end));
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(Pending {
            number,
            imei,
            resolved,
        });
        Outcome::Pending
    }

    /// The call taker placed the caller by hand: this becomes the primary location and no
    /// automatic location replaces it. `None` when the call is unknown.
    pub fn entered_by_call_taker(
        &mut self,
        now: Timestamp,
        key: &str,
        mut location: Location,
    ) -> Option<Attach> {
        location.channel = Channel::CallTaker;
        let resolved = Resolved::new(location, &self.places, now);
        let call = self.calls.iter_mut().rev().find(|c| c.key == key)?;
        call.primary = Some(resolved.clone());
        Some(Attach {
            call: key.to_owned(),
            resolved,
            primary: true,
            after_end: call.ended.is_some(),
        })
    }

    /// The call's primary location (for a seat INVITE sent after the location arrived).
    pub fn primary(&self, key: &str) -> Option<&Resolved> {
        self.calls
            .iter()
            .rev()
            .find(|c| c.key == key)
            .and_then(|c| c.primary.as_ref())
    }

    /// Locations waiting for a call.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// When [`Matcher::handle_timeout`] next has something to forget.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let pending = self
            .pending
            .iter()
            .map(|p| p.resolved.received_at.plus_ms(self.window.before_ms));
        let ended = self
            .calls
            .iter()
            .filter_map(|c| c.ended.map(|e| e.plus_ms(self.window.after_ms)));
        pending.chain(ended).min()
    }

    /// Forgets what is out of the window at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.expire(now);
    }

    fn expire(&mut self, now: Timestamp) {
        let MatchWindow {
            before_ms,
            after_ms,
        } = self.window;
        self.pending
            .retain(|p| now.as_ms() - p.resolved.received_at.as_ms() <= before_ms);
        self.calls
            .retain(|c| c.ended.is_none_or(|e| now.as_ms() - e.as_ms() <= after_ms));
    }
}

fn same_party(c: &Call, number: Option<&E164>, imei: Option<&str>) -> bool {
    let by_number = matches!((c.number.as_ref(), number), (Some(a), Some(b)) if a == b);
    let by_imei = matches!((c.imei.as_deref(), imei), (Some(a), Some(b)) if a == b);
    by_number || by_imei
}

/// Attaches `new` to `call`, deciding whether it becomes primary.
fn offer(call: &mut Call, new: Resolved, after_end: bool) -> Attach {
    let primary = match &call.primary {
        None => true,
        Some(old) if old.location.channel == Channel::CallTaker => false,
        Some(old) => better(&new, old),
    };
    if primary {
        call.primary = Some(new.clone());
    }
    Attach {
        call: call.key.clone(),
        resolved: new,
        primary,
        after_end,
    }
}

/// More precise (unknown radius counts as worse than any), or clearly newer.
fn better(new: &Resolved, old: &Resolved) -> bool {
    if new.as_of().as_ms() - old.as_of().as_ms() > FRESHER_MS {
        return true;
    }
    if new.as_of() < old.as_of() {
        return false;
    }
    match (new.location.accuracy_m, old.location.accuracy_m) {
        (Some(n), Some(o)) => n <= o,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => true,
    }
}

/// IMEIs are 15 digits (14 + check digit; IMEISV 16). Anything else does not identify.
fn clean_imei(s: &str) -> Option<String> {
    let s = s.trim();
    ((14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
}
