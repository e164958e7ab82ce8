//! The seat registrar (RFC 3261 §10.3), sans-IO: requests and time go in, responses and
//! probe lists come out; no sockets, no clock.
//!
//! Call takers' softphones ("seats") REGISTER with digest credentials (RFC 3261 §22.4,
//! RFC 7616, RFC 8760). [`Registrar::handle_register`] checks, in this order:
//!
//! 1. lockout of the source IP after repeated failures (`lockout`): 403;
//! 2. the To URI: it is the address-of-record and must be a SIP or SIPS URI (RFC 3261
//!    §10.2, §10.3 step 5; RFC 4475 §3.3.4 `unksm2`: "a registrar would reject this
//!    request with a 400 Bad Request"); its host must be our domain or an IP literal
//!    (§10.3 step 3: else 404); its user part names the seat;
//! 3. credentials (§10.3 step 3, §22.4): none or another scheme, 401 with one challenge
//!    per algorithm (RFC 8760 §3); unknown user or wrong digest, 403 and a failure counted;
//!    stale or replayed nonce with a correct digest, 401 `stale=true` (RFC 7616 §3.3);
//!    credentials of one seat for another seat's AOR, 403 (§10.3 step 4);
//! 4. the binding update (`bindings`, §10.3 steps 6 and 7), then 200 listing every current
//!    binding with its remaining `expires` (step 8).

mod bindings;
mod digest;
mod lockout;
mod nonce;
mod persist;
mod qualify;
mod settings;
#[cfg(test)]
mod tests;

pub use bindings::Binding;
pub use digest::Algorithm;
pub use qualify::QualifyProbe;
pub use settings::{RegistrarSettings, SeatCredential, SeatState, SeatStatus};

use crate::sip::header::NameAddr;
use crate::sip::message::{Request, Response};
use crate::sip::reply::{random_token, response_to};
use bindings::{BindingError, Bindings, Limits};
use digest::{Credentials, DigestError, Qop};
use lockout::Lockout;
use nonce::{NonceCheck, NonceTable};
use qualify::Qualify;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How many nonces are remembered at most (oldest evicted first).
const NONCE_CAP: usize = 10_000;
/// How many sources the lockout tables track at most.
const LOCKOUT_CAP: usize = 10_000;

/// The result of a REGISTER before it becomes a response (mapped in one place).
enum Outcome {
    Locked,
    BadRequest(&'static str),
    NotFound,
    Challenge { stale: bool },
    Forbidden(&'static str),
    Binding(BindingError),
    Bound,
}

impl Outcome {
    /// The status code and the Warning text (RFC 3261 §20.43) for this outcome.
    fn status(&self) -> (u16, Option<&'static str>) {
        match self {
            Outcome::Locked => (
                403,
                Some("source locked out after repeated authentication failures"),
            ),
            Outcome::BadRequest(reason) => (400, Some(reason)),
            Outcome::Forbidden(reason) => (403, Some(reason)),
            Outcome::NotFound => (404, None),
            Outcome::Challenge { .. } => (401, None),
            Outcome::Binding(BindingError::BadRequest { reason, .. }) => (400, Some(reason)),
            Outcome::Binding(BindingError::IntervalTooBrief { .. }) => (423, None),
            // §10.3 step 7: a binding update that cannot be applied fails with 500.
            Outcome::Binding(BindingError::OutOfOrder { .. }) => (500, Some("CSeq out of order")),
            Outcome::Binding(BindingError::TooManyContacts { .. }) => {
                (403, Some("too many contacts"))
            }
            Outcome::Bound => (200, None),
        }
    }
}

/// The seat registrar. One instance owns all registrar state.
#[derive(Debug)]
pub struct Registrar {
    settings: RegistrarSettings,
    passwords: HashMap<String, String>,
    opaque: String,
    nonces: NonceTable,
    lockout: Lockout,
    bindings: Bindings,
    qualify: Qualify,
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
            lockout: Lockout::new(
                settings.lockout_failures,
                settings.lockout_window,
                settings.lockout_duration,
                LOCKOUT_CAP,
            ),
            bindings: Bindings::default(),
            qualify: Qualify::new(settings.qualify_interval, settings.qualify_misses),
            settings,
        }
    }

    /// Handles one REGISTER from `source` and returns the complete response.
    pub fn handle_register(&mut self, now: Instant, source: SocketAddr, req: &Request) -> Response {
        let (seat, outcome) = self.process(now, source, req);
        let response = self.respond(now, req, seat.as_deref(), outcome);
        tracing::info!(
            seat = seat.as_deref().unwrap_or("-"),
            %source,
            status = response.status,
            "REGISTER"
        );
        response
    }

    fn process(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Request,
    ) -> (Option<String>, Outcome) {
        if self.lockout.locked_until(now, source.ip()).is_some() {
            return (None, Outcome::Locked);
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

    /// Digest check (RFC 3261 §22.4). `None` when the request is authenticated as `seat`.
    fn authenticate(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Request,
        seat: &str,
    ) -> Option<Outcome> {
        let mut found = None;
        for value in req.headers.get_all("Authorization") {
            match Credentials::parse(value) {
                Ok(c) if c.realm == self.settings.realm => {
                    found = Some(c);
                    break;
                }
                Ok(_) | Err(DigestError::UnknownScheme) => {}
                Err(DigestError::Malformed { reason }) => return Some(Outcome::BadRequest(reason)),
            }
        }
        let Some(creds) = found else {
            return Some(Outcome::Challenge { stale: false });
        };
        if !creds
            .algorithm
            .is_some_and(|a| self.settings.algorithms.contains(&a))
        {
            return Some(Outcome::Challenge { stale: false });
        }
        if creds.uri != req.uri {
            return Some(Outcome::BadRequest(
                "digest uri differs from the Request-URI",
            ));
        }
        // Hash even for unknown users, so timing does not tell which seats exist.
        let password = self.passwords.get(&creds.username);
        let matches = creds.verify(req.method.as_str(), password.map_or("", String::as_str));
        let verified = matches && password.is_some();
        if !verified {
            return Some(self.fail(now, source, &creds.username, "authentication failed"));
        }
        let nc = match creds.qop {
            Qop::None => None,
            Qop::Auth { count, .. } => Some(count),
        };
        match self.nonces.check(now, &creds.nonce, nc) {
            NonceCheck::Fresh => self.nonces.accept(&creds.nonce, nc),
            NonceCheck::Stale => return Some(Outcome::Challenge { stale: true }),
            NonceCheck::Replay => {
                tracing::warn!(%source, user = creds.username, ?nc, "digest nonce count replayed");
                return Some(Outcome::Challenge { stale: true });
            }
        }
        if creds.username != seat {
            return Some(self.fail(
                now,
                source,
                &creds.username,
                "credentials are for another seat",
            ));
        }
        None
    }

    /// Counts one failure against `source` and logs when it starts a lockout.
    fn fail(
        &mut self,
        now: Instant,
        source: SocketAddr,
        user: &str,
        reason: &'static str,
    ) -> Outcome {
        if let Some(failures) = self.lockout.record_failure(now, source.ip()) {
            tracing::warn!(
                source = %source.ip(),
                failures,
                user,
                lockout_secs = self.settings.lockout_duration.as_secs(),
                "REGISTER source locked out"
            );
        }
        Outcome::Forbidden(reason)
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
        self.bindings
            .update(now, seat, source, req, self.limits())?;
        let current = self.bindings.current(now, seat);
        self.qualify.sync(now, seat, &current);
        Ok(())
    }

    /// Maps an outcome to the wire: the only place that picks status codes.
    fn respond(
        &mut self,
        now: Instant,
        req: &Request,
        seat: Option<&str>,
        outcome: Outcome,
    ) -> Response {
        let (status, warning) = outcome.status();
        let mut response = response_to(req, status, Some(&random_token()));
        let headers = &mut response.headers;
        match outcome {
            Outcome::Locked => response.reason = "Forbidden (locked out)".into(),
            Outcome::Challenge { stale } => {
                let nonce = self.nonces.issue(now);
                for &algorithm in &self.settings.algorithms {
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
            // RFC 3261 §20.43: 399 = miscellaneous warning.
            let agent = if self.settings.domain.is_empty() {
                "siaga"
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
        self.lockout.prune(now);
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
