//! Credentials of one REGISTER (RFC 3261 §22.4): the nonce first, then the seat's allow list,
//! the guessing guard, and only then the password.

use super::digest::{Credentials, DigestError, Qop};
use super::guard::{Gate, Penalty};
use super::nonce::NonceCheck;
use super::outcome::{Outcome, Timing};
use super::Registrar;
use crate::sip::message::Request;
use std::net::SocketAddr;
use std::time::Instant;

impl Registrar {
    /// Digest check (RFC 3261 §22.4). `None` when the request is authenticated as `seat`.
    pub(super) fn authenticate(
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
        let ip = source.ip();
        let nc = match creds.qop {
            Qop::None => None,
            Qop::Auth { count, .. } => Some(count),
        };
        // The nonce first: only a nonce we issued to this source, still fresh, lets the
        // password be tried, so forged requests neither test passwords nor count failures.
        match self.nonces.check(now, &creds.nonce, nc, ip) {
            NonceCheck::Fresh => {}
            NonceCheck::Unknown => {
                self.stats.unknown_nonces += 1;
                return Some(Outcome::Challenge { stale: false });
            }
            NonceCheck::Stale => return Some(Outcome::Challenge { stale: true }),
            NonceCheck::Replay => {
                tracing::debug!(%source, user = creds.username, ?nc, "digest nonce count replayed");
                return Some(Outcome::Challenge { stale: true });
            }
        }
        let seat_entry = self
            .settings
            .seats
            .iter()
            .find(|s| s.name == creds.username);
        let exists = seat_entry.is_some();
        if seat_entry.is_some_and(|s| {
            !s.allow_from.is_empty() && !s.allow_from.iter().any(|n| n.contains(ip))
        }) {
            // The same answer as a wrong password: an outsider learns nothing.
            self.stats.outside_allow_from += 1;
            return Some(Outcome::Forbidden("authentication failed"));
        }
        match self.guard.gate(now, &creds.username, ip) {
            Gate::Evaluate => {}
            Gate::RefuseAfter(delay) => {
                self.timing = Timing::After(delay);
                return Some(Outcome::Forbidden("authentication failed"));
            }
            Gate::Silence => {
                self.timing = Timing::Never;
                return Some(Outcome::Forbidden("authentication failed"));
            }
        }
        // Hash even for unknown users, so timing does not tell which seats exist.
        let password = self.passwords.get(&creds.username);
        let matches = creds.verify(req.method.as_str(), password.map_or("", String::as_str));
        let verified = matches && password.is_some();
        if !verified {
            return Some(self.fail(now, ip, &creds.username, exists, "authentication failed"));
        }
        self.nonces.accept(&creds.nonce, nc);
        if creds.username != seat {
            return Some(self.fail(
                now,
                ip,
                &creds.username,
                exists,
                "credentials are for another seat",
            ));
        }
        None
    }

    /// Counts one failed evaluation and sets when (or whether) the 403 goes out.
    fn fail(
        &mut self,
        now: Instant,
        ip: std::net::IpAddr,
        user: &str,
        exists: bool,
        reason: &'static str,
    ) -> Outcome {
        self.timing = match self.guard.fail(now, user, ip, exists) {
            Penalty::AnswerAfter(d) if d.is_zero() => Timing::Now,
            Penalty::AnswerAfter(d) => Timing::After(d),
            Penalty::Silence => Timing::Never,
        };
        Outcome::Forbidden(reason)
    }
}
