//! The seat registrar (RFC 3261 §10.3), sans-IO: requests and time go in, responses and
//! probe lists come out; no sockets, no clock.
//!
//! Call takers' softphones ("seats") REGISTER with digest credentials (RFC 3261 §22.4,
//! RFC 7616, RFC 8760). [`Registrar::handle_register`] checks, in this order:
//!
//! 1. the registrar-wide `allow_from` networks: 403 for any name from elsewhere;
//! 2. the To URI: it is the address-of-record and must be a SIP or SIPS URI (RFC 3261
//!    §10.2, §10.3 step 5; RFC 4475 §3.3.4 `unksm2`: "a registrar would reject this
//!    request with a 400 Bad Request"); its host must be our domain or an IP literal
//!    (§10.3 step 3: else 404); its user part names the seat;
//! 3. credentials (§10.3 step 3, §22.4): none or another scheme, 401 with one challenge
//!    per algorithm (RFC 8760 §3). Then the **nonce, before any password**: one we did not
//!    issue, or issued to another source IP, gets a fresh 401 and counts nothing (a forged
//!    nonce cannot lock anyone out); an expired or replayed one gets 401 `stale=true`
//!    (RFC 7616 §3.3). Then the seat's own `allow_from` (outside: the same 403 as a wrong
//!    password, not evaluated), then the `guard` (per (account, source) back-off and
//!    account protection: refused unevaluated, answered late or not at all), then the
//!    digest: unknown user or wrong digest, 403 and a failure counted; credentials of one
//!    seat for another seat's AOR, 403 (§10.3 step 4);
//! 4. the binding update (`bindings`, §10.3 steps 6 and 7), then 200 listing every current
//!    binding with its remaining `expires` (step 8). A binding that moves to a source IP
//!    the seat was not bound from raises a warning and a counter.

mod auth;
mod bindings;
mod digest;
mod guard;
mod nonce;
mod outcome;
mod persist;
mod qualify;
mod settings;
#[cfg(test)]
mod tests;

pub use bindings::Binding;
pub use digest::Algorithm;
pub use guard::{GuardSettings, GuardStats};
use outcome::{Outcome, Timing};
pub use outcome::{RegistrarStats, Reply};
pub use qualify::QualifyProbe;
pub use settings::{RegistrarSettings, SeatCredential, SeatState, SeatStatus};

use crate::sip::header::NameAddr;
use crate::sip::message::{Request, Response};
use crate::sip::rate_limit::LogGate;
use crate::sip::reply::{random_token, response_to};
use bindings::{BindingError, Bindings, Limits};
use digest::Credentials;
use guard::Guard;
use nonce::NonceTable;
use qualify::Qualify;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How many nonces are remembered at most (oldest evicted first).
const NONCE_CAP: usize = 10_000;
/// Refused REGISTERs logged per minute at most (the rest are counted, then summarised).
const REFUSAL_LOG_PER_MIN: u32 = 30;

/// The seat registrar. One instance owns all registrar state.
#[derive(Debug)]
pub struct Registrar {
    settings: RegistrarSettings,
    passwords: HashMap<String, String>,
    opaque: String,
    nonces: NonceTable,
    guard: Guard,
    bindings: Bindings,
    qualify: Qualify,
    stats: RegistrarStats,
    refusal_log: LogGate,
    /// When the answer of the REGISTER being processed goes out (set while processing).
    timing: Timing,
}

impl Registrar {
    /// A registrar with no bindings.
    pub fn new(settings: RegistrarSettings) -> Registrar {
        let passwords = settings
            .seats
            .iter()
            .map(|s| (s.name.clone(), s.password.clone()))
            .collect();
        Registrar {
            passwords,
            opaque: format!("{:032x}", rand::random::<u128>()),
            nonces: NonceTable::new(settings.nonce_lifetime, NONCE_CAP),
            guard: Guard::new(settings.guard.clone()),
            stats: RegistrarStats::default(),
            refusal_log: LogGate::new(REFUSAL_LOG_PER_MIN, Duration::from_secs(60)),
            timing: Timing::Now,
            bindings: Bindings::default(),
            qualify: Qualify::new(settings.qualify_interval, settings.qualify_misses),
            settings,
        }
    }

    /// Handles one REGISTER from `source`: the response and when to send it, or silence.
    pub fn handle_register(&mut self, now: Instant, source: SocketAddr, req: &Request) -> Reply {
        self.timing = Timing::Now;
        let (seat, outcome) = self.process(now, source, req);
        let timing = std::mem::replace(&mut self.timing, Timing::Now);
        let response = self.respond(now, source, req, seat.as_deref(), outcome);
        let seat = seat.as_deref().unwrap_or("-");
        let status = response.status;
        if status == 200 || status == 401 {
            tracing::debug!(seat, %source, status, "REGISTER");
        } else if let Some(suppressed) = self.refusal_log.allow(now) {
            tracing::info!(seat, %source, status, ?timing, suppressed, "REGISTER refused");
        }
        let delay = match timing {
            Timing::Now => Duration::ZERO,
            Timing::After(delay) => delay,
            // The request that earned the silence already has a transaction: it gets the
            // longest slowed answer; later ones are dropped by `admits`.
            Timing::Never => self.settings.guard.max_delay,
        };
        Reply { response, delay }
    }

    /// Whether a REGISTER from `source` gets any answer: false for an (account, source)
    /// pair the guard has silenced. Called before a transaction is created, so silenced
    /// guessing costs no state.
    pub fn admits(&mut self, now: Instant, source: SocketAddr, req: &Request) -> bool {
        let user = req
            .headers
            .get_all("Authorization")
            .filter_map(|v| Credentials::parse(v).ok())
            .find(|c| c.realm == self.settings.realm)
            .map(|c| c.username);
        match user {
            Some(user) => !self.guard.is_silenced(now, &user, source.ip()),
            None => true,
        }
    }

    /// Counters.
    pub fn stats(&self) -> RegistrarStats {
        RegistrarStats {
            guard: self.guard.stats(),
            ..self.stats
        }
    }

    fn process(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Request,
    ) -> (Option<String>, Outcome) {
        if !self.settings.source_allowed(source.ip()) {
            self.stats.outside_allow_from += 1;
            return (None, Outcome::Forbidden("authentication failed"));
        }
        let to = match req.headers.get("To").map(|v| NameAddr::parse(v, "To")) {
            Some(Ok(to)) => to,
            _ => return (None, Outcome::BadRequest("missing or malformed To")),
        };
        if !to.uri.is_sip() {
            return (None, Outcome::BadRequest("To must be a SIP or SIPS URI"));
        }
        let Some(seat) = to.uri.user.clone() else {
            return (None, Outcome::NotFound);
        };
        if !self.domain_matches(&to.uri.host) {
            return (Some(seat), Outcome::NotFound);
        }
        let outcome = match self.authenticate(now, source, req, &seat) {
            Some(failed) => failed,
            None => match self.bind(now, source, req, &seat) {
                Ok(()) => Outcome::Bound,
                Err(e) => Outcome::Binding(e),
            },
        };
        (Some(seat), outcome)
    }

    fn domain_matches(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        self.settings.domain.is_empty()
            || host.eq_ignore_ascii_case(&self.settings.domain)
            || bare.parse::<std::net::IpAddr>().is_ok()
    }

    fn limits(&self) -> Limits {
        let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        Limits {
            min: secs(self.settings.min_expires),
            default: secs(self.settings.default_expires),
            max: secs(self.settings.max_expires),
        }
    }

    fn bind(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Request,
        seat: &str,
    ) -> Result<(), BindingError> {
        let before = self.bindings.current(now, seat);
        self.bindings
            .update(now, seat, source, req, self.limits())?;
        self.guard.succeed(now, seat, source.ip());
        if !before.is_empty() && before.iter().all(|b| b.source.ip() != source.ip()) {
            self.stats.binding_moves += 1;
            let from: Vec<String> = before.iter().map(|b| b.source.ip().to_string()).collect();
            tracing::warn!(seat, to = %source.ip(), ?from, "seat binding moved to a new source");
        }
        let current = self.bindings.current(now, seat);
        self.qualify.sync(now, seat, &current);
        Ok(())
    }

    /// Maps an outcome to the wire: the only place that picks status codes.
    fn respond(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Request,
        seat: Option<&str>,
        outcome: Outcome,
    ) -> Response {
        let (status, warning) = outcome.status();
        let mut response = response_to(req, status, Some(&random_token()));
        let headers = &mut response.headers;
        match outcome {
            Outcome::Challenge { stale } => {
                let nonce = self.nonces.issue(now, source.ip());
                let user_agent = req.headers.get("User-Agent");
                for algorithm in self.settings.challenge_algorithms(user_agent) {
                    let realm = &self.settings.realm;
                    let value = digest::challenge(realm, &nonce, &self.opaque, algorithm, stale);
                    headers.push("WWW-Authenticate", value);
                }
            }
            Outcome::Binding(BindingError::IntervalTooBrief { min, .. }) => {
                headers.push("Min-Expires", min.to_string());
            }
            Outcome::Binding(ref e) => tracing::debug!(error = %e, "binding update refused"),
            Outcome::Bound => {
                let current = self.bindings.current(now, seat.unwrap_or_default());
                for value in bindings::contact_values(now, &current) {
                    headers.push("Contact", value);
                }
            }
            _ => {}
        }
        if let Some(text) = warning {
            // RFC 3261 §20.43: 399 = miscellaneous warning; the agent is our domain (or the
            // pseudonym "-"), never the product name.
            let agent = if self.settings.domain.is_empty() {
                "-"
            } else {
                &self.settings.domain
            };
            headers.push("Warning", format!("399 {agent} \"{text}\""));
        }
        response
    }

    /// Every configured seat with its state, sorted by name.
    pub fn seats(&self, now: Instant) -> Vec<SeatStatus> {
        let mut out: Vec<SeatStatus> = self
            .settings
            .seats
            .iter()
            .map(|s| {
                let current = self.bindings.current(now, &s.name);
                let state = if current.is_empty() {
                    SeatState::Offline
                } else if current
                    .iter()
                    .any(|b| self.qualify.is_reachable(&s.name, &b.contact))
                {
                    SeatState::Registered
                } else {
                    SeatState::Unreachable
                };
                SeatStatus {
                    name: s.name.clone(),
                    state,
                    contacts: current.len(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The seat's live bindings, highest `q` first, for routing. Send to `source`.
    pub fn contacts_for(&self, now: Instant, seat: &str) -> Vec<Binding> {
        self.bindings.current(now, seat)
    }

    /// True when the seat has a live binding that answers OPTIONS.
    pub fn is_reachable(&self, now: Instant, seat: &str) -> bool {
        self.bindings
            .current(now, seat)
            .iter()
            .any(|b| self.qualify.is_reachable(seat, &b.contact))
    }

    /// The OPTIONS probes due at `now` (each contact every `qualify_interval`).
    pub fn qualify_due(&mut self, now: Instant) -> Vec<QualifyProbe> {
        self.expire(now);
        self.qualify.due(now)
    }

    /// Records whether the probe of `contact` was answered (any final response) or not
    /// (transaction timeout).
    pub fn on_qualify_result(&mut self, seat: &str, contact: &str, now: Instant, answered: bool) {
        self.qualify.on_result(seat, contact, now, answered);
    }

    /// Removes lapsed bindings and prunes nonce and lockout tables.
    pub fn expire(&mut self, now: Instant) {
        for (seat, contact) in self.bindings.expire(now) {
            tracing::info!(seat, contact, "seat binding expired");
            self.qualify.forget(&seat, &contact);
        }
        self.nonces.prune(now);
        self.guard.prune(now);
    }

    /// When the driver should next call [`Registrar::qualify_due`] / [`Registrar::expire`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self
            .bindings
            .seats()
            .flat_map(|(_, list)| list.iter().map(|b| b.expires_at))
            .min();
        [expiry, self.qualify.next_due()]
            .into_iter()
            .flatten()
            .min()
    }
}
