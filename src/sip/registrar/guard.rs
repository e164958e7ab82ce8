//! Password-guessing defence for the registrar (RFC 3261 §26.1 names registrars as a target
//! for guessing; RFC 7616 §5.5 leaves the answer to the server). Sans-IO: time is an argument.
//!
//! The rules, and why each one:
//! - Sources are IPv4 addresses or IPv6 /64s (`source_key`).
//! - Failures are counted per **(account, source IP)**, not per source: a wrong password for
//!   `seat4` must not lock `seat1` out when every seat sits behind one NAT address.
//! - A pair with `threshold` failures in its `window` gets **slower answers**: the next
//!   attempt is evaluated no earlier than `2^(n - threshold)` seconds (capped at
//!   `max_delay`) after the last failure, and the refusal is sent only then. Attempts in
//!   between are refused without looking at the password (so the right password does not
//!   help a guesser) and the answer waits just as long.
//! - At `2 × threshold` failures the pair gets **silence** for `silence` (no answer at
//!   all), except from a source that holds, or recently held, a valid binding of the
//!   account: that one only ever gets slower answers, so an account is never locked out
//!   for the phone that is really registered with it.
//! - Failures are also counted **per account across sources**: `account_failures` of them
//!   in the window protect the account for `silence`: only sources that recently
//!   registered it are evaluated, every other source gets the refusal whatever it sends.
//!   This stops guessing spread over many addresses (with IPv6 the supply is unlimited).
//! - When failures for one account come from `alarm_sources` distinct sources in the window
//!   an alarm is logged and counted, once per window.
//!
//! Memory is bounded: at most `CAP` pairs and `CAP` accounts are tracked (oldest dropped).

use crate::sip::rate_limit::source_key;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many pairs, accounts and failure events are tracked at most.
const CAP: usize = 10_000;
/// How many good sources are remembered per account.
const KNOWN_PER_ACCOUNT: usize = 16;
/// How long a source that registered an account stays trusted for it.
const KNOWN_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// The guard's thresholds (filled from `[registrar]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSettings {
    /// Failures of one (account, source) pair before answers slow down.
    pub threshold: u32,
    /// Sliding window in which failures are counted.
    pub window: Duration,
    /// Silence of a pair after `2 × threshold`, and the account protection time.
    pub silence: Duration,
    /// The longest delay of a slowed answer.
    pub max_delay: Duration,
    /// Failures of one account (all sources) in the window that protect it.
    pub account_failures: u32,
    /// Distinct failing sources of one account in the window that raise the alarm.
    pub alarm_sources: u32,
}

/// The same defaults as `[registrar]` in the configuration.
impl Default for GuardSettings {
    fn default() -> GuardSettings {
        GuardSettings {
            threshold: 5,
            window: Duration::from_secs(60),
            silence: Duration::from_secs(300),
            max_delay: Duration::from_secs(16),
            account_failures: 20,
            alarm_sources: 5,
        }
    }
}

/// What to do with an attempt that carries credentials with a valid nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Check the password now.
    Evaluate,
    /// Refuse without checking, answering after the delay.
    RefuseAfter(Duration),
    /// Refuse without any answer.
    Silence,
}

/// What to do after a failed evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Penalty {
    /// Answer after this delay (zero: at once).
    AnswerAfter(Duration),
    /// Do not answer.
    Silence,
}

#[derive(Debug, Clone, Copy)]
struct Pair {
    count: u32,
    last: Instant,
    next_eval: Instant,
    silent_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct Account {
    /// (when, source) of each recent failure, oldest first.
    failures: VecDeque<(Instant, IpAddr)>,
    protected_until: Option<Instant>,
    alarmed_at: Option<Instant>,
    /// Sources that registered this account, with the last time they did.
    known: Vec<(IpAddr, Instant)>,
}

/// Counters for metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GuardStats {
    /// Failed password evaluations.
    pub failures: u64,
    /// Attempts refused without evaluation (slowed, silenced or protected).
    pub refused_unevaluated: u64,
    /// Alarms: an account saw failures from many sources.
    pub distributed_alarms: u64,
    /// Times an account entered protection.
    pub protections: u64,
}

/// The guard's tables.
#[derive(Debug)]
pub(crate) struct Guard {
    s: GuardSettings,
    pairs: HashMap<(String, IpAddr), Pair>,
    accounts: HashMap<String, Account>,
    stats: GuardStats,
    /// Budget for the per-pair warnings (any name, any source: an attacker picks both).
    pair_log: crate::sip::rate_limit::LogGate,
}

impl Guard {
    /// An empty guard.
    pub(crate) fn new(s: GuardSettings) -> Guard {
        Guard {
            s,
            pairs: HashMap::new(),
            accounts: HashMap::new(),
            stats: GuardStats::default(),
            pair_log: crate::sip::rate_limit::LogGate::new(30, Duration::from_secs(60)),
        }
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> GuardStats {
        self.stats
    }

    fn is_known(&self, now: Instant, account: &str, ip: IpAddr) -> bool {
        self.accounts.get(account).is_some_and(|a| {
            a.known
                .iter()
                .any(|(k, at)| *k == ip && now.saturating_duration_since(*at) < KNOWN_FOR)
        })
    }

    /// True when attempts for `account` from `ip` get no answer at all (counted).
    pub(crate) fn is_silenced(&mut self, now: Instant, account: &str, ip: IpAddr) -> bool {
        let ip = source_key(ip);
        let silenced = self
            .pairs
            .get(&(account.to_owned(), ip))
            .and_then(|p| p.silent_until)
            .is_some_and(|u| u > now)
            && !self.is_known(now, account, ip);
        if silenced {
            self.stats.refused_unevaluated += 1;
        }
        silenced
    }

    /// Whether an attempt for `account` from `ip` may have its password checked.
    pub(crate) fn gate(&mut self, now: Instant, account: &str, ip: IpAddr) -> Gate {
        let ip = source_key(ip);
        let known = self.is_known(now, account, ip);
        let protected = self
            .accounts
            .get(account)
            .and_then(|a| a.protected_until)
            .is_some_and(|until| until > now);
        let key = (account.to_owned(), ip);
        let gate = match self.pairs.get(&key) {
            Some(p) if p.silent_until.is_some_and(|u| u > now) && !known => Gate::Silence,
            Some(p) if p.next_eval > now => Gate::RefuseAfter(p.next_eval - now),
            _ if protected && !known => {
                // Keep the protection up while the guessing goes on.
                if let Some(a) = self.accounts.get_mut(account) {
                    a.protected_until = Some(now + self.s.silence);
                }
                Gate::RefuseAfter(delay_for(
                    &self.s,
                    self.pairs.get(&key).map_or(0, |p| p.count),
                ))
            }
            _ => Gate::Evaluate,
        };
        if gate != Gate::Evaluate {
            self.stats.refused_unevaluated += 1;
        }
        gate
    }

    /// Records a failed evaluation for `account` from `ip`; `seat_exists` tells whether the
    /// account is configured (only those get account-wide counting).
    pub(crate) fn fail(
        &mut self,
        now: Instant,
        account: &str,
        ip: IpAddr,
        seat_exists: bool,
    ) -> Penalty {
        let ip = source_key(ip);
        self.stats.failures += 1;
        let known = self.is_known(now, account, ip);
        let window = self.s.window;
        if self.pairs.len() >= CAP {
            self.pairs
                .retain(|_, p| now.saturating_duration_since(p.last) < window);
            if self.pairs.len() >= CAP {
                let oldest = self.pairs.iter().min_by_key(|(_, p)| p.last);
                if let Some((k, _)) = oldest.map(|(k, p)| (k.clone(), *p)) {
                    self.pairs.remove(&k);
                }
            }
        }
        let s = &self.s;
        let pair = self.pairs.entry((account.to_owned(), ip)).or_insert(Pair {
            count: 0,
            last: now,
            next_eval: now,
            silent_until: None,
        });
        if now.saturating_duration_since(pair.last) >= window {
            pair.count = 0;
        }
        pair.count += 1;
        pair.last = now;
        let count = pair.count;
        let delay = delay_for(s, count);
        let silenced = count >= s.threshold.saturating_mul(2) && !known;
        pair.next_eval = now + delay;
        if silenced {
            pair.silent_until = Some(now + s.silence);
            pair.next_eval = now + s.silence;
        }
        let notable = count == self.s.threshold || (silenced && count == self.s.threshold * 2);
        if let Some(suppressed) = notable.then(|| self.pair_log.allow(now)).flatten() {
            if silenced {
                tracing::warn!(account, source = %ip, failures = count, silence_s = self.s.silence.as_secs(), suppressed, "REGISTER: this source gets no answer for this account");
            } else {
                tracing::warn!(account, source = %ip, failures = count, suppressed, "REGISTER: answers to this source slowed down for this account");
            }
        }
        if seat_exists {
            self.count_for_account(now, account, ip);
        }
        if silenced {
            Penalty::Silence
        } else {
            Penalty::AnswerAfter(delay)
        }
    }

    fn count_for_account(&mut self, now: Instant, account: &str, ip: IpAddr) {
        if self.accounts.len() >= CAP && !self.accounts.contains_key(account) {
            return;
        }
        let (window, silence) = (self.s.window, self.s.silence);
        let a = self.accounts.entry(account.to_owned()).or_default();
        while a
            .failures
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= window)
        {
            a.failures.pop_front();
        }
        if a.failures.len() >= CAP {
            a.failures.pop_front();
        }
        a.failures.push_back((now, ip));
        let mut sources: Vec<IpAddr> = a.failures.iter().map(|(_, ip)| *ip).collect();
        sources.sort_unstable();
        sources.dedup();
        let alarm_due = a
            .alarmed_at
            .is_none_or(|at| now.saturating_duration_since(at) >= window);
        if sources.len() as u64 >= u64::from(self.s.alarm_sources) && alarm_due {
            a.alarmed_at = Some(now);
            self.stats.distributed_alarms += 1;
            tracing::error!(
                account,
                sources = sources.len(),
                failures = a.failures.len(),
                window_s = window.as_secs(),
                "ALARM: password guessing against this seat from many sources"
            );
        }
        let protected = a.protected_until.is_some_and(|u| u > now);
        if a.failures.len() as u64 >= u64::from(self.s.account_failures) && !protected {
            a.protected_until = Some(now + silence);
            self.stats.protections += 1;
            tracing::warn!(
                account,
                failures = a.failures.len(),
                protect_s = silence.as_secs(),
                "REGISTER: account protected, only sources it registered from are evaluated"
            );
        } else if protected {
            a.protected_until = Some(now + silence);
        }
    }

    /// Records a successful registration of `account` from `ip`: the pair is cleared and the
    /// source becomes known for the account.
    pub(crate) fn succeed(&mut self, now: Instant, account: &str, ip: IpAddr) {
        let ip = source_key(ip);
        self.pairs.remove(&(account.to_owned(), ip));
        if self.accounts.len() >= CAP && !self.accounts.contains_key(account) {
            return;
        }
        let a = self.accounts.entry(account.to_owned()).or_default();
        match a.known.iter_mut().find(|(k, _)| *k == ip) {
            Some(entry) => entry.1 = now,
            None => {
                if a.known.len() >= KNOWN_PER_ACCOUNT {
                    a.known.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
                    a.known.pop();
                }
                a.known.push((ip, now));
            }
        }
    }

    /// Drops state that no longer matters.
    pub(crate) fn prune(&mut self, now: Instant) {
        let window = self.s.window;
        self.pairs
            .retain(|_, p| now.saturating_duration_since(p.last) < window || p.next_eval > now);
        self.accounts.retain(|_, a| {
            a.known
                .retain(|(_, at)| now.saturating_duration_since(*at) < KNOWN_FOR);
            a.failures
                .retain(|(at, _)| now.saturating_duration_since(*at) < window);
            !a.known.is_empty()
                || !a.failures.is_empty()
                || a.protected_until.is_some_and(|u| u > now)
        });
    }

    /// Tracked (pairs, accounts): for memory-bound checks.
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.pairs.len(), self.accounts.len())
    }
}

/// The answer delay after `count` failures of a pair: none below the threshold, then 1 s
/// doubling per further failure, capped.
fn delay_for(s: &GuardSettings, count: u32) -> Duration {
    if count < s.threshold {
        return Duration::ZERO;
    }
    let doublings = (count - s.threshold).min(16);
    Duration::from_secs(1u64 << doublings).min(s.max_delay)
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
