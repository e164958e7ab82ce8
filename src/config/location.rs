//! `[location]`: matching AML / PIDF-LO locations to calls and authenticating AML intake.
use serde::{Deserialize, Serialize};

use super::types::Secret;
use super::ValidationError;
use crate::location::MatchWindow;

/// How an AML POST (`/aml`, `/aml/sms`) proves it comes from the configured sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmlAuth {
    /// A shared API key in a header (`aml_api_key`).
    ApiKey,
    /// An HMAC-SHA256 of the body with a shared secret (`aml_hmac_secret`).
    Hmac,
}

/// `[location]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// Accept AML at all (`POST /aml`, `POST /aml/sms`); off until a secret is configured.
    #[serde(default)]
    pub aml_enabled: bool,
    /// `api_key` or `hmac`.
    #[serde(default = "default_auth")]
    pub aml_auth: AmlAuth,
    /// The API key an AML sender presents (secret; printed as `***`).
    #[serde(default = "empty_secret")]
    pub aml_api_key: Secret,
    /// The HMAC-SHA256 key shared with the AML sender (secret; printed as `***`).
    #[serde(default = "empty_secret")]
    pub aml_hmac_secret: Secret,
    /// AML messages accepted per minute from all senders together (excess: 2xx, discarded).
    #[serde(default = "default_rate")]
    pub aml_rate_per_minute: u32,
    /// Seconds a location that arrived before its call waits for the call to start.
    #[serde(default = "default_before")]
    pub match_before_s: u32,
    /// Seconds after a call ended that its locations are still attached to its record.
    #[serde(default = "default_after")]
    pub match_after_s: u32,
}

fn default_auth() -> AmlAuth {
    AmlAuth::ApiKey
}
fn empty_secret() -> Secret {
    Secret::new("")
}
fn default_rate() -> u32 {
    120
}
fn default_before() -> u32 {
    300
}
fn default_after() -> u32 {
    120
}

impl Default for LocationConfig {
    fn default() -> Self {
        LocationConfig {
            aml_enabled: false,
            aml_auth: default_auth(),
            aml_api_key: empty_secret(),
            aml_hmac_secret: empty_secret(),
            aml_rate_per_minute: default_rate(),
            match_before_s: default_before(),
            match_after_s: default_after(),
        }
    }
}

/// Shortest shared secret accepted: 128 bits written as hex or base64 is 22+ characters.
const MIN_SECRET_CHARS: usize = 16;

impl LocationConfig {
    /// The matcher's window.
    pub fn window(&self) -> MatchWindow {
        MatchWindow {
            before_ms: i64::from(self.match_before_s) * 1000,
            after_ms: i64::from(self.match_after_s) * 1000,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if self.aml_enabled {
            let (key, secret) = match self.aml_auth {
                AmlAuth::ApiKey => ("location.aml_api_key", &self.aml_api_key),
                AmlAuth::Hmac => ("location.aml_hmac_secret", &self.aml_hmac_secret),
            };
            if secret.expose().chars().count() < MIN_SECRET_CHARS {
                return Err(ValidationError::new(
                    key,
                    format!("must be at least {MIN_SECRET_CHARS} characters when location.aml_enabled is true"),
                )
                .related("location.aml_enabled"));
            }
        }
        if self.aml_rate_per_minute == 0 || self.aml_rate_per_minute > 60_000 {
            return Err(ValidationError::new(
                "location.aml_rate_per_minute",
                "must be 1..=60000",
            ));
        }
        if self.match_before_s > 3600 {
            return Err(ValidationError::new(
                "location.match_before_s",
                "must be at most 3600 (an hour-old location is not this call's)",
            ));
        }
        if self.match_after_s > 3600 {
            return Err(ValidationError::new(
                "location.match_after_s",
                "must be at most 3600",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{AmlAuth, Config};

    #[test]
    fn defaults_and_window() {
        let c = Config::from_toml("").expect("defaults").location;
        assert!(!c.aml_enabled);
        assert_eq!(c.aml_auth, AmlAuth::ApiKey);
        assert_eq!(c.window().before_ms, 300_000);
        assert_eq!(c.window().after_ms, 120_000);
    }

    #[test]
    fn enabled_needs_the_chosen_secret() {
        let err = Config::from_toml("[location]\naml_enabled = true\naml_auth = \"hmac\"\naml_api_key = \"0123456789abcdef0123\"\n")
            .expect_err("hmac without its secret");
        assert!(
            err.to_string().contains("location.aml_hmac_secret"),
            "{err}"
        );
        let ok = Config::from_toml("[location]\naml_enabled = true\naml_auth = \"hmac\"\naml_hmac_secret = \"0123456789abcdef0123\"\n")
            .expect("hmac with a secret");
        assert_eq!(ok.location.aml_hmac_secret.expose(), "0123456789abcdef0123");
        assert!(!ok.masked_toml().contains("0123456789abcdef0123"));
        let err =
            Config::from_toml("[location]\naml_auth = \"token\"\n").expect_err("unknown auth");
        assert!(err.to_string().contains("aml_auth"), "{err}");
        let err = Config::from_toml("[location]\nmatch_before_s = 7200\n").expect_err("too long");
        assert!(err.to_string().contains("location.match_before_s"), "{err}");
    }
}
