//! Panic button devices (sans-IO): enrolment with name and phone number, a one-time code
//! read to the person on a callback (or sent by the SMS hook), then a device key.
//!
//! ```text
//!  begin(name, phone) ──► Enrolment + OneTimeCode (6 digits, 10 min, 5 tries)
//!  verify(code)       ──► Device + DeviceKey (shown once; only its SHA-256 is kept)
//!  alert with key     ──► Device::key_matches
//! ```
//!
//! Codes and keys are stored hashed: a copy of the database does not let anyone send
//! alerts as a registered person.
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use crate::location::phone::{normalize, PhoneError, E164};
use crate::store::Timestamp;

/// How long a one-time code is valid.
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong codes before the enrolment is void.
pub const MAX_ATTEMPTS: u8 = 5;
/// Pranks from one device before it is flagged and its alerts lowered (like a repeat prank
/// caller; never dropped).
pub const PRANK_FLAG: u32 = 3;
/// Longest name kept.
pub const MAX_NAME_CHARS: usize = 80;

/// A registration waiting for its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// Random id (32 hex), given to the app to quote with the code.
    pub id: String,
    /// The person's name as entered (trimmed).
    pub name: String,
    /// Their phone number.
    pub phone: E164,
    /// SHA-256 of `id:code`.
    pub code_sha256: [u8; 32],
    /// Begun.
    pub created_at: Timestamp,
    /// Wrong codes so far.
    pub attempts: u8,
}

/// The code to read or send to the person. Not `Display`, so that it is not logged by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    /// The six digits.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode(******)")
    }
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Random id (32 hex).
    pub id: String,
    /// The person's name.
    pub name: String,
    /// Their phone number (the callback goes there).
    pub phone: E164,
    /// SHA-256 of the device key.
    pub key_sha256: [u8; 32],
    /// Registered.
    pub registered_at: Timestamp,
    /// Revoked by a supervisor: its alerts are refused.
    pub revoked: bool,
    /// Alerts disposed as pranks.
    pub pranks: u32,
}

impl Device {
    /// Whether `key` is this device's (constant time in the key's bytes).
    pub fn key_matches(&self, key: &str) -> bool {
        let h = sha256(key.as_bytes());
        h.iter()
            .zip(self.key_sha256.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Flagged as a repeat prank device: its alerts queue at the lowest class.
    pub fn flagged(&self) -> bool {
        self.pranks >= PRANK_FLAG
    }
}

/// The device key, shown to the app once.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceKey(String);

impl DeviceKey {
    /// `dk_` then 64 hex digits.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(***)")
    }
}

/// Why an enrolment cannot begin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnrolError {
    /// Empty, too long, or with control characters.
    #[error("name must be 1 to {MAX_NAME_CHARS} characters without control characters")]
    BadName,
    /// Not a phone number.
    #[error("phone number: {0}")]
    BadPhone(#[from] PhoneError),
}

/// Why a code is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Older than [`CODE_TTL_MS`].
    #[error("the code has expired; register again")]
    Expired,
    /// [`MAX_ATTEMPTS`] wrong codes.
    #[error("too many wrong codes; register again")]
    TooManyAttempts,
    /// Wrong code.
    #[error("wrong code ({left} tries left)")]
    Wrong {
        /// Tries left.
        left: u8,
    },
}

/// Starts an enrolment.
pub fn begin(
    now: Timestamp,
    name: &str,
    phone: &str,
    rng: &mut impl RngCore,
) -> Result<(Enrolment, OneTimeCode), EnrolError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(EnrolError::BadName);
    }
    let phone = normalize(phone)?;
    let id = random_hex(rng, 16);
    let code = format!("{:06}", rng.random_range(0..1_000_000u32));
    let enrolment = Enrolment {
        code_sha256: code_hash(&id, &code),
        id,
        name: name.to_owned(),
        phone,
        created_at: now,
        attempts: 0,
    };
    Ok((enrolment, OneTimeCode(code)))
}

impl Enrolment {
    /// Checks `code` at `now`; on success the device and its key (shown once).
    /// A wrong code counts an attempt (persist the enrolment again).
    pub fn verify(
        &mut self,
        now: Timestamp,
        code: &str,
        rng: &mut impl RngCore,
    ) -> Result<(Device, DeviceKey), VerifyError> {
        if now.as_ms() - self.created_at.as_ms() > CODE_TTL_MS {
            return Err(VerifyError::Expired);
        }
        if self.attempts >= MAX_ATTEMPTS {
            return Err(VerifyError::TooManyAttempts);
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let h = code_hash(&self.id, &code);
        let same = h
            .iter()
            .zip(self.code_sha256.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if !same {
            self.attempts += 1;
            return Err(if self.attempts >= MAX_ATTEMPTS {
                VerifyError::TooManyAttempts
            } else {
                VerifyError::Wrong {
                    left: MAX_ATTEMPTS - self.attempts,
                }
            });
        }
        let key = format!("dk_{}", random_hex(rng, 32));
        let device = Device {
            id: random_hex(rng, 16),
            name: self.name.clone(),
            phone: self.phone.clone(),
            key_sha256: sha256(key.as_bytes()),
            registered_at: now,
            revoked: false,
            pranks: 0,
        };
        Ok((device, DeviceKey(key)))
    }
}

/// SHA-256 of a device key, to look a device up.
pub fn key_sha256(key: &str) -> [u8; 32] {
    sha256(key.as_bytes())
}

fn code_hash(id: &str, code: &str) -> [u8; 32] {
    sha256(format!("{id}:{code}").as_bytes())
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn random_hex(rng: &mut impl RngCore, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_ms(1_764_800_000_000 + s * 1000)
    }

    #[test]
    fn enrol_verify_and_key() {
        let mut rng = StdRng::seed_from_u64(7);
        let (mut e, code) = begin(t(0), "  Siti Aminah ", "0812-3456-7890", &mut rng).expect("ok");
        assert_eq!(e.name, "Siti Aminah");
        assert_eq!(e.phone.as_str(), "+6281234567890");
        assert_eq!(code.expose().len(), 6);
        assert_eq!(format!("{code:?}"), "OneTimeCode(******)");
        let (d, key) = e
            .verify(t(60), code.expose(), &mut rng)
            .expect("right code");
        assert!(key.expose().starts_with("dk_") && key.expose().len() == 67);
        assert!(d.key_matches(key.expose()));
        assert!(!d.key_matches("dk_0"));
        assert_eq!(d.key_sha256, key_sha256(key.expose()));
        assert_eq!(d.phone, e.phone);
        assert!(!d.flagged());
    }

    #[test]
    fn wrong_codes_expire_and_lock() {
        let mut rng = StdRng::seed_from_u64(8);
        let (mut e, code) = begin(t(0), "Budi", "+6281234567890", &mut rng).expect("ok");
        let wrong = if code.expose() == "000000" {
            "000001"
        } else {
            "000000"
        };
        assert_eq!(
            e.verify(t(1), wrong, &mut rng),
            Err(VerifyError::Wrong { left: 4 })
        );
        for _ in 0..3 {
            assert!(matches!(
                e.verify(t(1), wrong, &mut rng),
                Err(VerifyError::Wrong { .. })
            ));
        }
        assert_eq!(
            e.verify(t(1), wrong, &mut rng),
            Err(VerifyError::TooManyAttempts)
        );
        assert_eq!(
            e.verify(t(1), code.expose(), &mut rng),
            Err(VerifyError::TooManyAttempts)
        );

        let (mut e, code) = begin(t(0), "Budi", "+6281234567890", &mut rng).expect("ok");
        assert_eq!(
            e.verify(t(601), code.expose(), &mut rng),
            Err(VerifyError::Expired)
        );
    }

    #[test]
    fn bad_names_and_numbers() {
        let mut rng = StdRng::seed_from_u64(9);
        assert_eq!(
            begin(t(0), " ", "0812345678", &mut rng).err(),
            Some(EnrolError::BadName)
        );
        assert_eq!(
            begin(t(0), &"x".repeat(81), "0812345678", &mut rng).err(),
            Some(EnrolError::BadName)
        );
        assert_eq!(
            begin(t(0), "a\u{7}", "0812345678", &mut rng).err(),
            Some(EnrolError::BadName)
        );
        assert!(matches!(
            begin(t(0), "Ani", "112", &mut rng),
            Err(EnrolError::BadPhone(_))
        ));
    }
}
