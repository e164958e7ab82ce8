//! What a REGISTER comes to before it is a response, and the registrar's reply and counters
//! (the status codes are picked in one place, [`Outcome::status`]).

use super::bindings::BindingError;
use super::GuardStats;
use crate::sip::message::Response;
use std::time::Duration;

/// When the answer to a REGISTER goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timing {
    Now,
    After(Duration),
    Never,
}

/// The registrar's answer to one REGISTER: always a response, sometimes held back (a
/// slowed answer to a guessing source). Sources that get no answer at all are dropped before
/// a transaction exists, by [`Registrar::admits`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The response.
    pub response: Response,
    /// How long to hold it before sending.
    pub delay: Duration,
}

/// Counters for metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarStats {
    /// The password-guessing guard's counters.
    pub guard: GuardStats,
    /// Bindings that moved to a source IP the seat was not bound from.
    pub binding_moves: u64,
    /// REGISTERs refused by an `allow_from` list.
    pub outside_allow_from: u64,
    /// Credentials with a nonce we did not issue to that source (answered with a challenge).
    pub unknown_nonces: u64,
}

/// The result of a REGISTER before it becomes a response (mapped in one place).
pub(super) enum Outcome {
    BadRequest(&'static str),
    NotFound,
    Challenge { stale: bool },
    Forbidden(&'static str),
    Binding(BindingError),
    Bound,
}

impl Outcome {
    /// The status code and the Warning text (RFC 3261 §20.43) for this outcome.
    pub(super) fn status(&self) -> (u16, Option<&'static str>) {
        match self {
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
