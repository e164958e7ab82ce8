//! `[registrar]` and `[[seats]]`: seat registration, digest auth, lockout, qualify.
use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::types::{Cidr, Secret};
use super::ValidationError;

/// Digest algorithms the registrar may challenge with (RFC 7616 §3.3).
///
/// Written as `"SHA-256"` / `"MD5"` in TOML (serde via the string form, so the error for a
/// wrong name lists the accepted ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `SHA-256` (RFC 7616 / RFC 8760); offered after MD5 by default, see
    /// [`RegistrarConfig::algorithms`].
    Sha256,
    /// `MD5` (RFC 2617); still needed by most softphones.
    Md5,
}

impl std::str::FromStr for DigestAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // RFC 7616 §3.3: algorithm tokens compare case-insensitively.
        if s.eq_ignore_ascii_case("SHA-256") {
            Ok(DigestAlgorithm::Sha256)
        } else if s.eq_ignore_ascii_case("MD5") {
            Ok(DigestAlgorithm::Md5)
        } else {
            Err(format!(
                "unknown digest algorithm {s:?}, expected \"SHA-256\" or \"MD5\""
            ))
        }
    }
}

impl Serialize for DigestAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DigestAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl DigestAlgorithm {
    /// The token as written in `WWW-Authenticate`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Md5 => "MD5",
        }
    }
}

/// `[registrar]`: how seats register and authenticate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarConfig {
    /// Digest realm in challenges.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Shortest registration accepted (seconds); shorter gets 423 Interval Too Brief.
    #[serde(default = "default_min_expires")]
    pub min_expires: u32,
    /// Registration lifetime (seconds) when the REGISTER asks for none.
    #[serde(default = "default_default_expires")]
    pub default_expires: u32,
    /// Longest registration granted (seconds); longer requests are cut down to this.
    #[serde(default = "default_max_expires")]
    pub max_expires: u32,
    /// How long a digest nonce stays valid (seconds).
    #[serde(default = "default_nonce_lifetime_s")]
    pub nonce_lifetime_s: u64,
    /// Digest algorithms offered, one `WWW-Authenticate` each, in this order. Default
    /// `MD5`, `SHA-256`: clients that take the first challenge (SIPp, RFC 8760 §2.4
    /// readers) then register with MD5, and a client that answers the SHA-256 challenge is
    /// still verified with SHA-256.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<DigestAlgorithm>,
    /// `User-Agent` substrings (case-insensitive) of clients that give up when ANY
    /// challenge in the 401 is not MD5 (libre/baresip 1.x: ENOSYS): they get the MD5
    /// challenge alone, when `algorithms` holds MD5.
    #[serde(default = "default_md5_only_user_agents")]
    pub md5_only_user_agents: Vec<String>,
    /// Failed authentications of one seat from one source IP within `lockout_window_s`
    /// after which that pair gets slower answers (1 s, doubling up to `backoff_max_s`); at
    /// twice this number the pair gets no answer for `lockout_s`, unless the source holds
    /// (or recently held) the seat's binding. Other seats on the same address are not
    /// affected.
    #[serde(default = "default_lockout_failures")]
    pub lockout_failures: u32,
    /// Window (seconds) in which failures are counted.
    #[serde(default = "default_lockout_window_s")]
    pub lockout_window_s: u64,
    /// How long (seconds) a silenced pair gets no answer, and how long a protected seat
    /// stays protected after the last guess.
    #[serde(default = "default_lockout_s")]
    pub lockout_s: u64,
    /// The longest delay (seconds) of a slowed answer.
    #[serde(default = "default_backoff_max_s")]
    pub backoff_max_s: u64,
    /// Failed authentications of one seat from all sources within `lockout_window_s` that
    /// protect it: only sources it registered from are then evaluated.
    #[serde(default = "default_account_failures")]
    pub account_failures: u32,
    /// Distinct sources failing for one seat within `lockout_window_s` that raise the
    /// password-guessing alarm in the log.
    #[serde(default = "default_alarm_sources")]
    pub alarm_sources: u32,
    /// Networks seats may register from (CIDR); empty: any. REGISTER from elsewhere gets
    /// 403 whatever seat it names.
    #[serde(default)]
    pub allow_from: Vec<Cidr>,
    /// Interval (seconds) between OPTIONS pings to each registered seat.
    #[serde(default = "default_qualify_interval_s")]
    pub qualify_interval_s: u64,
    /// OPTIONS misses in a row before a seat is marked unreachable.
    #[serde(default = "default_qualify_misses")]
    pub qualify_misses: u32,
}

fn default_realm() -> String {
    "siaga".to_owned()
}
fn default_min_expires() -> u32 {
    60
}
fn default_default_expires() -> u32 {
    600
}
fn default_max_expires() -> u32 {
    3600
}
fn default_nonce_lifetime_s() -> u64 {
    300
}
fn default_algorithms() -> Vec<DigestAlgorithm> {
    vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256]
}
fn default_md5_only_user_agents() -> Vec<String> {
    vec!["baresip".to_owned()]
}
fn default_lockout_failures() -> u32 {
    5
}
fn default_lockout_window_s() -> u64 {
    60
}
fn default_lockout_s() -> u64 {
    300
}
fn default_backoff_max_s() -> u64 {
    16
}
fn default_account_failures() -> u32 {
    20
}
fn default_alarm_sources() -> u32 {
    5
}
fn default_qualify_interval_s() -> u64 {
    30
}
fn default_qualify_misses() -> u32 {
    2
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            realm: default_realm(),
            min_expires: default_min_expires(),
            default_expires: default_default_expires(),
            max_expires: default_max_expires(),
            nonce_lifetime_s: default_nonce_lifetime_s(),
            algorithms: default_algorithms(),
            md5_only_user_agents: default_md5_only_user_agents(),
            lockout_failures: default_lockout_failures(),
            lockout_window_s: default_lockout_window_s(),
            lockout_s: default_lockout_s(),
            backoff_max_s: default_backoff_max_s(),
            account_failures: default_account_failures(),
            alarm_sources: default_alarm_sources(),
            allow_from: Vec::new(),
            qualify_interval_s: default_qualify_interval_s(),
            qualify_misses: default_qualify_misses(),
        }
    }
}

impl RegistrarConfig {
    /// Nonce lifetime as a [`Duration`].
    pub fn nonce_lifetime(&self) -> Duration {
        Duration::from_secs(self.nonce_lifetime_s)
    }
    /// Lockout counting window as a [`Duration`].
    pub fn lockout_window(&self) -> Duration {
        Duration::from_secs(self.lockout_window_s)
    }
    /// Lockout duration as a [`Duration`].
    pub fn lockout(&self) -> Duration {
        Duration::from_secs(self.lockout_s)
    }
    /// Qualify interval as a [`Duration`].
    pub fn qualify_interval(&self) -> Duration {
        Duration::from_secs(self.qualify_interval_s)
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        let err = |key: &str, reason: String| {
            Err(ValidationError::new(format!("registrar.{key}"), reason))
        };
        if self.realm.trim().is_empty() {
            return err("realm", "must not be empty".into());
        }
        if self.min_expires == 0 {
            return err("min_expires", "must be > 0".into());
        }
        if self.min_expires > self.default_expires {
            return err(
                "min_expires",
                format!("must be <= default_expires ({})", self.default_expires),
            )
            .map_err(|e| e.related("registrar.default_expires"));
        }
        if self.default_expires > self.max_expires {
            return err(
                "default_expires",
                format!("must be <= max_expires ({})", self.max_expires),
            )
            .map_err(|e| e.related("registrar.max_expires"));
        }
        if self.nonce_lifetime_s == 0 {
            return err("nonce_lifetime_s", "must be > 0".into());
        }
        if self.algorithms.is_empty() {
            return err(
                "algorithms",
                "must name at least one of SHA-256, MD5".into(),
            );
        }
        let mut seen = HashSet::new();
        for (i, alg) in self.algorithms.iter().enumerate() {
            if !seen.insert(alg) {
                return err(
                    &format!("algorithms[{i}]"),
                    format!("{} listed twice", alg.as_str()),
                );
            }
        }
        if self.lockout_failures == 0 {
            return err("lockout_failures", "must be >= 1".into());
        }
        if self.lockout_window_s == 0 {
            return err("lockout_window_s", "must be > 0".into());
        }
        if self.backoff_max_s == 0 {
            return err("backoff_max_s", "must be > 0".into());
        }
        if self.account_failures == 0 {
            return err("account_failures", "must be >= 1".into());
        }
        if self.alarm_sources == 0 {
            return err("alarm_sources", "must be >= 1".into());
        }
        if self.qualify_interval_s == 0 {
            return err("qualify_interval_s", "must be > 0".into());
        }
        if self.qualify_misses == 0 {
            return err("qualify_misses", "must be >= 1".into());
        }
        Ok(())
    }
}

/// One `[[seats]]` entry: a call-taker softphone account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    /// Seat name, the user part of its AOR and the digest username.
    pub name: String,
    /// Digest password (secret; printed as `***`).
    pub password: Secret,
    /// A static seat (a desk phone): its SIP URI, rung without registration. The gateway
    /// sends to the URI's host and port, which must be an IP literal. Empty: the seat
    /// registers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    /// Networks this seat may register from (CIDR), inside `[registrar] allow_from`;
    /// empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_from: Vec<Cidr>,
}

/// The default seats `seat1`..`seat4` with passwords `siaga-seat1`..`siaga-seat4`, as in the
/// shipped `config/siaga.toml`; fine on loopback, to be replaced anywhere else.
pub(super) fn default_seats() -> Vec<Seat> {
    (1..=4)
        .map(|n| Seat {
            name: format!("seat{n}"),
            password: Secret::new(format!("siaga-seat{n}")),
            contact: String::new(),
            allow_from: Vec::new(),
        })
        .collect()
}

/// Seat names become SIP user parts and digest usernames; keep them to unreserved characters
/// so no escaping is ever needed (RFC 3261 §25.1 `unreserved`, minus the marks that confuse
/// people: `!*'()`).
fn valid_seat_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

pub(super) fn validate_seats(seats: &[Seat]) -> Result<(), ValidationError> {
    // A 112 gateway with no seat can only queue callers forever; refuse to start instead.
    if seats.is_empty() {
        return Err(ValidationError::new(
            "seats",
            "at least one [[seats]] entry is required",
        ));
    }
    let mut names = HashSet::new();
    for (i, seat) in seats.iter().enumerate() {
        if !valid_seat_name(&seat.name) {
            return Err(ValidationError::new(
                format!("seats[{i}].name"),
                format!(
                    "{:?} must be non-empty and use only A-Z a-z 0-9 - _ . ~",
                    seat.name
                ),
            ));
        }
        if !names.insert(seat.name.as_str()) {
            return Err(ValidationError::new(
                format!("seats[{i}].name"),
                format!("seat {:?} is defined twice", seat.name),
            ));
        }
        if seat.password.is_empty() {
            return Err(ValidationError::new(
                format!("seats[{i}].password"),
                "must not be empty",
            ));
        }
    }
    Ok(())
}
