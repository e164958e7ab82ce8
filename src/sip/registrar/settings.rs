//! Registrar settings and the seat status it reports (plain data; the config module
//! fills [`RegistrarSettings`]).

use super::guard::GuardSettings;
use super::Algorithm;
use crate::config::{Cidr, Config, DigestAlgorithm};
use std::net::IpAddr;
use std::time::Duration;

/// A seat and its password (stored in clear: digest needs HA1, RFC 7616 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatCredential {
    /// The seat name: the user part of its address-of-record and its digest username.
    pub name: String,
    /// The digest password.
    pub password: String,
    /// Networks this seat may register from; empty: any (within the registrar's list).
    pub allow_from: Vec<Cidr>,
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
    /// Offered algorithms, one challenge each, in this order (RFC 8760 §2.4: clients take
    /// the first they support).
    pub algorithms: Vec<Algorithm>,
    /// Lower-case `User-Agent` substrings of clients that get the MD5 challenge alone.
    pub md5_only_user_agents: Vec<String>,
    /// Password-guessing defence: per (account, source) back-off, account protection.
    pub guard: GuardSettings,
    /// Networks any seat may register from; empty: any.
    pub allow_from: Vec<Cidr>,
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
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
            md5_only_user_agents: vec!["baresip".into()],
            guard: GuardSettings::default(),
            allow_from: Vec::new(),
            qualify_interval: Duration::from_secs(30),
            qualify_misses: 3,
            seats: Vec::new(),
        }
    }
}

impl RegistrarSettings {
    /// The settings from `[sip]`, `[registrar]` and `[[seats]]`.
    pub fn from_config(config: &Config) -> RegistrarSettings {
        let r = &config.registrar;
        RegistrarSettings {
            realm: r.realm.clone(),
            domain: config.sip.domain.clone(),
            min_expires: Duration::from_secs(r.min_expires.into()),
            default_expires: Duration::from_secs(r.default_expires.into()),
            max_expires: Duration::from_secs(r.max_expires.into()),
            nonce_lifetime: r.nonce_lifetime(),
            algorithms: r
                .algorithms
                .iter()
                .map(|a| match a {
                    DigestAlgorithm::Sha256 => Algorithm::Sha256,
                    DigestAlgorithm::Md5 => Algorithm::Md5,
                })
                .collect(),
            md5_only_user_agents: r
                .md5_only_user_agents
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            guard: GuardSettings {
                threshold: r.lockout_failures,
                window: r.lockout_window(),
                silence: r.lockout(),
                max_delay: Duration::from_secs(r.backoff_max_s),
                account_failures: r.account_failures,
                alarm_sources: r.alarm_sources,
            },
            allow_from: r.allow_from.clone(),
            qualify_interval: r.qualify_interval(),
            qualify_misses: r.qualify_misses,
            seats: config
                .seats
                .iter()
                .map(|s| SeatCredential {
                    name: s.name.clone(),
                    password: s.password.expose().to_string(),
                    allow_from: s.allow_from.clone(),
                })
                .collect(),
        }
    }

    /// The algorithms to challenge a client with, in order: all of them, or MD5 alone
    /// for a `User-Agent` on the MD5-only list (libre 1.x fails with ENOSYS on a 401 that
    /// holds any non-MD5 challenge, whatever its position).
    pub fn challenge_algorithms(&self, user_agent: Option<&str>) -> Vec<Algorithm> {
        let md5_only = user_agent.is_some_and(|ua| {
            let ua = ua.to_ascii_lowercase();
            self.md5_only_user_agents
                .iter()
                .any(|s| !s.is_empty() && ua.contains(s.as_str()))
        });
        if md5_only && self.algorithms.contains(&Algorithm::Md5) {
            vec![Algorithm::Md5]
        } else {
            self.algorithms.clone()
        }
    }

    /// Whether `ip` is inside the registrar-wide allow list (empty: everyone).
    pub fn source_allowed(&self, ip: IpAddr) -> bool {
        self.allow_from.is_empty() || self.allow_from.iter().any(|n| n.contains(ip))
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
