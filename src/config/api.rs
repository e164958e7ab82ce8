//! `[api]`: the HTTP listener, its connection limits, the `Host` names it answers to and the
//! named API keys machines use (people log in with accounts, see `[accounts]`).
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::types::Secret;
use super::ValidationError;
use crate::store::Role;

/// The placeholder token; [`super::secrets`] refuses it off loopback.
pub const DEFAULT_API_TOKEN: &str = "change-me";

/// The name the legacy `api.token` gets as a key.
pub const LEGACY_TOKEN_KEY: &str = "token";

/// `[api]`: the HTTP API and dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address of the HTTP listener.
    #[serde(default = "default_api_listen")]
    pub listen: SocketAddr,
    /// Legacy single bearer token (before `[[api.keys]]`): loaded as the key named `token`
    /// with role supervisor, which is what it could do before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// Named API keys for machines (`Authorization: Bearer <key>`).
    #[serde(default)]
    pub keys: Vec<ApiKey>,
    /// `Host` names (with or without port) the API answers to; others get 421 (DNS
    /// rebinding). Empty: `localhost`, `127.0.0.1`, `::1` and the listen address.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Open HTTP connections at most; when full, the connection idle longest is closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Open HTTP connections per source address at most (same rule within a source).
    #[serde(default = "default_max_per_source")]
    pub max_connections_per_source: usize,
    /// Seconds a connection may stay without a request in progress (from accept, and
    /// between requests) before it is closed: a connection that sends no complete request
    /// header in this time is closed.
    #[serde(default = "default_idle_timeout_s")]
    pub idle_timeout_s: u64,
    /// Seconds one request (body read and handler) may take before its connection is closed.
    #[serde(default = "default_request_timeout_s")]
    pub request_timeout_s: u64,
    /// PEM certificate chain (leaf first) for HTTPS; empty: plain HTTP. Reloaded on SIGHUP.
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub tls_cert: PathBuf,
    /// PEM private key of `tls_cert`; set both or neither.
    #[serde(default, skip_serializing_if = "is_empty_path")]
    pub tls_key: PathBuf,
}

fn is_empty_path(p: &std::path::Path) -> bool {
    p.as_os_str().is_empty()
}

/// `[[api.keys]]`: one machine client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Who it is, in logs and dispositions (`A-Z a-z 0-9 - _ .`).
    pub name: String,
    /// The bearer secret (printed as `***`).
    pub key: Secret,
    /// What it may do: seat, supervisor, analyst or admin (seat keys are refused: a seat is
    /// a person with a login).
    pub role: Role,
}

fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8112))
}
fn default_max_connections() -> usize {
    256
}
fn default_max_per_source() -> usize {
    32
}
fn default_idle_timeout_s() -> u64 {
    30
}
fn default_request_timeout_s() -> u64 {
    60
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: default_api_listen(),
            token: None,
            keys: Vec::new(),
            hosts: Vec::new(),
            max_connections: default_max_connections(),
            max_connections_per_source: default_max_per_source(),
            idle_timeout_s: default_idle_timeout_s(),
            request_timeout_s: default_request_timeout_s(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
        }
    }
}

impl ApiConfig {
    /// Every key, the legacy `api.token` included (as [`LEGACY_TOKEN_KEY`], supervisor),
    /// with the dotted config key each came from.
    pub fn all_keys(&self) -> Vec<(String, ApiKey)> {
        let mut all: Vec<(String, ApiKey)> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("api.keys[{i}].key"), k.clone()))
            .collect();
        if let Some(token) = &self.token {
            let key = ApiKey {
                name: LEGACY_TOKEN_KEY.to_owned(),
                key: token.clone(),
                role: Role::Supervisor,
            };
            all.push(("api.token".to_owned(), key));
        }
        all
    }

    /// The `Host` names accepted, lower case, each with and without the listen port.
    pub fn allowed_hosts(&self) -> Vec<String> {
        let port = self.listen.port();
        let mut names: Vec<String> = if self.hosts.is_empty() {
            let mut d = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "[::1]".to_owned(),
            ];
            if !self.listen.ip().is_unspecified() {
                d.push(host_of(self.listen.ip()));
            }
            d
        } else {
            self.hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect()
        };
        let with_port: Vec<String> = names
            .iter()
            .filter(|h| !has_port(h))
            .map(|h| format!("{h}:{port}"))
            .collect();
        names.extend(with_port);
        names.sort();
        names.dedup();
        names
    }

    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if self.token.as_ref().is_some_and(Secret::is_empty) {
            return Err(ValidationError::new("api.token", "must not be empty"));
        }
        let all = self.all_keys();
        for (i, (at, k)) in all.iter().enumerate() {
            let name_key = sibling(at, "name");
            let valid = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
            if k.name.is_empty() || !k.name.chars().all(valid) {
                return Err(ValidationError::new(name_key, "use A-Z a-z 0-9 - _ ."));
            }
            if k.key.is_empty() {
                return Err(ValidationError::new(at.clone(), "must not be empty"));
            }
            if k.role == Role::Seat {
                let why = "a key cannot have role seat (seats are people: give them an account)";
                return Err(ValidationError::new(sibling(at, "role"), why));
            }
            if let Some((_, other)) = all[..i].iter().find(|(_, o)| o.name == k.name) {
                let why = format!("duplicate key name {:?}", other.name);
                return Err(ValidationError::new(name_key, why));
            }
            if all[..i].iter().any(|(_, o)| o.key == k.key) {
                return Err(ValidationError::new(
                    at.clone(),
                    "the same secret as another key",
                ));
            }
        }
        for (i, h) in self.hosts.iter().enumerate() {
            let h = h.trim();
            if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
                return Err(ValidationError::new(
                    format!("api.hosts[{i}]"),
                    "not a host name",
                ));
            }
        }
        if self.max_connections == 0 {
            return Err(ValidationError::new(
                "api.max_connections",
                "must be at least 1",
            ));
        }
        if !(1..=self.max_connections).contains(&self.max_connections_per_source) {
            let why = "must be between 1 and api.max_connections";
            return Err(ValidationError::new("api.max_connections_per_source", why)
                .related("api.max_connections"));
        }
        for (key, v) in [
            ("api.idle_timeout_s", self.idle_timeout_s),
            ("api.request_timeout_s", self.request_timeout_s),
        ] {
            if !(1..=3600).contains(&v) {
                return Err(ValidationError::new(
                    key,
                    "must be between 1 and 3600 seconds",
                ));
            }
        }
        match (is_empty_path(&self.tls_cert), is_empty_path(&self.tls_key)) {
            (false, true) => {
                return Err(ValidationError::new("api.tls_key", "set with api.tls_cert")
                    .related("api.tls_cert"))
            }
            (true, false) => {
                return Err(ValidationError::new("api.tls_cert", "set with api.tls_key")
                    .related("api.tls_key"))
            }
            _ => {}
        }
        Ok(())
    }
}

/// `api.keys[2].key` -> `api.keys[2].<field>`; the legacy `api.token` has no siblings.
fn sibling(at: &str, field: &str) -> String {
    match at.strip_suffix(".key") {
        Some(base) => format!("{base}.{field}"),
        None => at.to_owned(),
    }
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Whether a host name already ends in `:port` (`[v6]:port` or `name:port`).
fn has_port(h: &str) -> bool {
    match h.rsplit_once(':') {
        Some((head, port)) => {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !head.ends_with(':')
                && (!head.starts_with('[') || head.ends_with(']'))
                && (head.starts_with('[') || !head.contains(':'))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_hosts_are_loopback_names_and_the_listen_address() {
        let mut c = ApiConfig {
            listen: "192.0.2.7:8112".parse().unwrap(),
            ..ApiConfig::default()
        };
        let hosts = c.allowed_hosts();
        for h in [
            "localhost",
            "localhost:8112",
            "127.0.0.1:8112",
            "[::1]:8112",
            "192.0.2.7",
            "192.0.2.7:8112",
        ] {
            assert!(hosts.contains(&h.to_owned()), "{h} in {hosts:?}");
        }
        assert!(!hosts.iter().any(|h| h.contains("evil")));
        c.hosts = vec!["Siaga.Example:443".into(), "siaga.example".into()];
        let hosts = c.allowed_hosts();
        assert!(hosts.contains(&"siaga.example:443".to_owned()));
        assert!(hosts.contains(&"siaga.example:8112".to_owned()));
        assert!(!hosts.contains(&"localhost".to_owned()));
    }

    #[test]
    fn legacy_token_is_a_supervisor_key() {
        let c = ApiConfig {
            token: Some(Secret::new("abc")),
            ..ApiConfig::default()
        };
        let keys = c.all_keys();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].0, "api.token");
        assert_eq!(
            (keys[0].1.name.as_str(), keys[0].1.role),
            (LEGACY_TOKEN_KEY, Role::Supervisor)
        );
    }
}
