//! Shipped placeholder secrets (`change-me`, `siaga-seatN`) are fine for a loopback demo and
//! nowhere else: with any listener off loopback, [`validate`] refuses them, naming the key
//! (the file is added by the loader), so `siaga run` and `check-config` both fail.
use std::net::SocketAddr;

use super::api::DEFAULT_API_TOKEN;
use super::{Config, ValidationError};

/// Whether `secret` is one of the values shipped in `config/siaga.toml`, the built-in
/// defaults or the docs.
pub fn is_placeholder(secret: &str) -> bool {
    let s = secret.trim().to_ascii_lowercase();
    let seat_n = s
        .strip_prefix("siaga-seat")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    seat_n || [DEFAULT_API_TOKEN, "changeme", "change_me", "siaga"].contains(&s.as_str())
}

/// The first listener (dotted key and address) bound off loopback, if any.
fn exposed_listener(config: &Config) -> Option<(String, SocketAddr)> {
    let sip = std::iter::once(("sip.listen".to_owned(), config.sip.listen));
    let also = (config.sip.also_listen.iter().enumerate())
        .map(|(i, a)| (format!("sip.also_listen[{i}]"), *a));
    let api = std::iter::once(("api.listen".to_owned(), config.api.listen));
    sip.chain(also)
        .chain(api)
        .find(|(_, addr)| !addr.ip().is_loopback())
}

pub(super) fn validate(config: &Config) -> Result<(), ValidationError> {
    let Some((listener, addr)) = exposed_listener(config) else {
        return Ok(());
    };
    let keys = config.api.all_keys().into_iter().map(|(at, k)| (at, k.key));
    let seats = (config.seats.iter().enumerate())
        .map(|(i, s)| (format!("seats[{i}].password"), s.password.clone()));
    for (at, secret) in keys.chain(seats) {
        if is_placeholder(secret.expose()) {
            let why = format!(
                "still the shipped placeholder while {listener} ({addr}) is off loopback; \
                 set a real secret (placeholders are accepted only when every listener is on \
                 loopback)"
            );
            // Not `related(listener)`: the error's origin must be where the secret is set
            // (the file, usually), even when the listener came from the environment.
            return Err(ValidationError::new(at, why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "change-me",
            "CHANGE-ME",
            "siaga-seat1",
            "siaga-seat12",
            "changeme",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for s in ["siaga-seat", "siaga-seat1x", "k7#Qz9-real", "change-me-now"] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn loopback_demo_keeps_placeholders() {
        Config::from_toml("[[api.keys]]\nname = \"c\"\nkey = \"change-me\"\nrole = \"admin\"\n")
            .expect("loopback demo");
    }

    #[test]
    fn off_loopback_refuses_each_kind() {
        let cases = [
            ("[sip]\nlisten = \"0.0.0.0:5060\"\n", "seats[0].password"),
            (
                "[api]\nlisten = \"192.0.2.1:8112\"\ntoken = \"change-me\"\n\
                 [[seats]]\nname = \"a\"\npassword = \"good-secret-1\"\n",
                "api.token",
            ),
            (
                "[sip]\nalso_listen = [\"[::]:5060\"]\n[[seats]]\nname = \"a\"\npassword = \"x-real\"\n\
                 [[api.keys]]\nname = \"c\"\nkey = \"change-me\"\nrole = \"analyst\"\n",
                "api.keys[0].key",
            ),
        ];
        for (toml, key) in cases {
            match Config::from_toml(toml) {
                Err(super::super::ConfigError::Invalid { source, .. }) => {
                    assert_eq!(source.key, key, "{toml}");
                    assert!(source.reason.contains("off loopback"), "{}", source.reason);
                }
                other => panic!("{toml}: expected Invalid at {key}, got {other:?}"),
            }
        }
        Config::from_toml(
            "[sip]\nlisten = \"0.0.0.0:5060\"\n[[seats]]\nname = \"a\"\npassword = \"x-real\"\n",
        )
        .expect("real secrets off loopback");
    }
}
