//! AML intake (sans-IO): who may post (API key or HMAC, from `[location]`), how many per
//! minute, and the body to a [`Location`]. The HTTP handler answers 2xx whatever this says
//! (the ELS HTTPS specification asks for it; a sender must not retry a discarded message):
//! the [`IntakeError`] is for the log and the counters.
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{AmlAuth, LocationConfig};
use crate::store::Timestamp;

use super::aml::{AmlSms, AmlSmsError, ElsReport};
use super::fix::Location;

/// Header carrying the API key.
pub const API_KEY_HEADER: &str = "X-Siaga-Aml-Key";
/// Header carrying the HMAC: `sha256=<64 hex>` of the raw body.
pub const SIGNATURE_HEADER: &str = "X-Siaga-Signature";

/// Why an AML POST gave no location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// `[location] aml_enabled = false`.
    #[error("AML intake is disabled")]
    Disabled,
    /// Missing or wrong API key / signature.
    #[error("AML sender not authenticated")]
    Unauthenticated,
    /// Over `aml_rate_per_minute`.
    #[error("AML rate limit reached")]
    RateLimited,
    /// The SMS text is not a usable AML message.
    #[error("AML SMS: {0}")]
    Sms(#[from] AmlSmsError),
    /// Read, but the handset had no position.
    #[error("AML message without a position")]
    NoPosition,
}

/// Checks the sender: `api_key` is the [`API_KEY_HEADER`] value, `signature` the
/// [`SIGNATURE_HEADER`] value. Comparisons take the same time whatever the input.
pub fn authenticate(
    cfg: &LocationConfig,
    api_key: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), IntakeError> {
    if !cfg.aml_enabled {
        return Err(IntakeError::Disabled);
    }
    let ok = match cfg.aml_auth {
        AmlAuth::ApiKey => api_key.is_some_and(|k| {
            let want = cfg.aml_api_key.expose();
            !want.is_empty() && same(k.trim().as_bytes(), want.as_bytes())
        }),
        AmlAuth::Hmac => signature.and_then(parse_signature).is_some_and(|sig| {
            let Ok(mut mac) =
                Hmac::<Sha256>::new_from_slice(cfg.aml_hmac_secret.expose().as_bytes())
            else {
                return false;
            };
            mac.update(body);
            mac.verify_slice(&sig).is_ok()
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(IntakeError::Unauthenticated)
    }
}

/// The HMAC a sender computes (for tests and for documenting the sender's side).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(), // HMAC takes keys of any length
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn parse_signature(s: &str) -> Option<Vec<u8>> {
    let hex = s.trim().strip_prefix("sha256=")?;
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// Constant-time equality for equal lengths (the length of a key is not a secret worth
/// hiding; its bytes are).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An ELS HTTPS form body to its location.
pub fn els_location(body: &[u8]) -> Result<Location, IntakeError> {
    ElsReport::parse(body)
        .location()
        .ok_or(IntakeError::NoPosition)
}

/// An AML SMS to its location; `sender` is the originating number the SMS gateway saw.
pub fn sms_location(text: &str, sender: Option<&str>) -> Result<Location, IntakeError> {
    AmlSms::parse(text)?
        .location(sender)
        .ok_or(IntakeError::NoPosition)
}

/// A token bucket over all AML senders: `per_minute` tokens, refilled continuously.
#[derive(Debug, Clone)]
pub struct RateLimit {
    per_minute: u32,
    tokens: f64,
    last: Option<Timestamp>,
}

impl RateLimit {
    /// A full bucket of `per_minute`.
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            tokens: f64::from(per_minute),
            last: None,
        }
    }

    /// Takes one token at `now`, or says [`IntakeError::RateLimited`].
    pub fn take(&mut self, now: Timestamp) -> Result<(), IntakeError> {
        let cap = f64::from(self.per_minute);
        if let Some(last) = self.last {
            let elapsed = (now.as_ms() - last.as_ms()).max(0) as f64;
            self.tokens = (self.tokens + elapsed * cap / 60_000.0).min(cap);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(IntakeError::RateLimited)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn cfg(toml: &str) -> LocationConfig {
        Config::from_toml(toml).expect("valid").location
    }

    #[test]
    fn api_key_and_hmac() {
        let body = b"location_latitude=-6.7&location_longitude=108.5";
        let off = LocationConfig::default();
        assert_eq!(
            authenticate(&off, Some("x"), None, body),
            Err(IntakeError::Disabled)
        );

        let key = cfg("[location]\naml_enabled = true\naml_api_key = \"k-0123456789abcdef\"\n");
        assert_eq!(
            authenticate(&key, Some("k-0123456789abcdef"), None, body),
            Ok(())
        );
        assert_eq!(
            authenticate(&key, Some("k-0123456789abcdeX"), None, body),
            Err(IntakeError::Unauthenticated)
        );
        assert_eq!(
            authenticate(&key, None, None, body),
            Err(IntakeError::Unauthenticated)
        );

        let secret = "s-0123456789abcdef";
        let h = cfg(&format!(
            "[location]\naml_enabled = true\naml_auth = \"hmac\"\naml_hmac_secret = \"{secret}\"\n"
        ));
        let sig = sign(secret, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 71);
        assert_eq!(authenticate(&h, None, Some(&sig), body), Ok(()));
        assert_eq!(
            authenticate(&h, None, Some(&sig), b"tampered"),
            Err(IntakeError::Unauthenticated)
        );
        assert_eq!(
            authenticate(&h, Some(secret), None, body),
            Err(IntakeError::Unauthenticated)
        );
        assert_eq!(
            authenticate(&h, None, Some("sha256=zz"), body),
            Err(IntakeError::Unauthenticated)
        );
    }

    #[test]
    fn bodies_to_locations() {
        let l = els_location(
            b"location_latitude=-6.71251&location_longitude=108.55822&device_number=0812",
        )
        .expect("fix");
        assert_eq!(l.caller.as_deref(), Some("0812"));
        assert_eq!(els_location(b"v=1"), Err(IntakeError::NoPosition));
        assert!(matches!(
            sms_location("hello", None),
            Err(IntakeError::Sms(_))
        ));
        let none = "A\"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;si=234159000000000;ei=123456789012345;mcc=234;mnc=15;ml=127";
        assert_eq!(
            sms_location(none, Some("+44")),
            Err(IntakeError::NoPosition)
        );
    }

    #[test]
    fn rate_limit_refills_over_time() {
        let t = |ms: i64| Timestamp::from_ms(1_764_800_000_000 + ms);
        let mut r = RateLimit::new(2);
        assert_eq!(r.take(t(0)), Ok(()));
        assert_eq!(r.take(t(0)), Ok(()));
        assert_eq!(r.take(t(1)), Err(IntakeError::RateLimited));
        assert_eq!(
            r.take(t(29_000)),
            Err(IntakeError::RateLimited),
            "0.97 of a token"
        );
        assert_eq!(r.take(t(31_000)), Ok(()), "one token per 30 s");
        assert_eq!(r.take(t(600_000)), Ok(()));
        assert_eq!(r.take(t(600_000)), Ok(()));
        assert_eq!(
            r.take(t(600_000)),
            Err(IntakeError::RateLimited),
            "capped at 2"
        );
    }
}
