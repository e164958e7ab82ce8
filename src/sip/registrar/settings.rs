//! Registrar settings and the seat status it reports (plain data; the config module
//! fills [`RegistrarSettings`]).

use super::Algorithm;
use std::time::Duration;

/// A seat and its password (stored in clear: digest needs HA1, RFC 7616 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatCredential {
    /// The seat name: the user part of its address-of-record and its digest username.
    pub name: String,
    /// The digest password.
    pub password: String,
}

/// Registrar settings: plain data, filled from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrarSettings {
    /// Digest realm (RFC 7616 §3.3).
    pub realm: String,
    /// The domain of the seats' addresses-of-record (To host); empty accepts any.
    pub domain: String,
    /// Shorter registrations get 423 Interval Too Brief (RFC 3261 §10.3 step 7).
    pub min_expires: Duration,
    /// Used when neither the Contact nor the request says (§10.2.1.1).
    pub default_expires: Duration,
    /// Longer registrations are shortened to this.
    pub max_expires: Duration,
    /// How long a nonce is accepted before `stale=true`.
    pub nonce_lifetime: Duration,
    /// Offered algorithms, preferred first (RFC 8760 §3).
    pub algorithms: Vec<Algorithm>,
    /// Failures within `lockout_window` that lock a source.
    pub lockout_failures: u32,
    /// The sliding window for counting failures.
    pub lockout_window: Duration,
    /// How long a locked source is refused.
    pub lockout_duration: Duration,
    /// Interval between OPTIONS probes of each contact.
    pub qualify_interval: Duration,
    /// Missed probes in a row that make a contact unreachable.
    pub qualify_misses: u32,
    /// The seats allowed to register.
    pub seats: Vec<SeatCredential>,
}

impl Default for RegistrarSettings {
    fn default() -> RegistrarSettings {
        RegistrarSettings {
            realm: "siaga".into(),
            domain: "siaga.local".into(),
            min_expires: Duration::from_secs(60),
            default_expires: Duration::from_secs(3600),
            max_expires: Duration::from_secs(7200),
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            lockout_failures: 5,
            lockout_window: Duration::from_secs(300),
            lockout_duration: Duration::from_secs(900),
            qualify_interval: Duration::from_secs(30),
            qualify_misses: 3,
            seats: Vec::new(),
        }
    }
}

/// Where a seat stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeatState {
    /// At least one binding answers OPTIONS.
    Registered,
    /// Bound, but every contact missed `qualify_misses` probes in a row.
    Unreachable,
    /// No binding.
    Offline,
}

/// One configured seat and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatStatus {
    /// The seat name.
    pub name: String,
    /// Registered, unreachable or offline.
    pub state: SeatState,
    /// How many live bindings it has.
    pub contacts: usize,
}
