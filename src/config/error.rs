//! [`ConfigError`]: every message names where the bad value came from (file or env var) and
//! the dotted key, e.g. ``config/siaga.toml: unknown key `sip.lisen` ``.
use std::fmt;
use std::path::PathBuf;

use super::env::{env_var_name, ENV_ORIGIN};

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A TOML file, by the path it was loaded from.
    File(PathBuf),
    /// An environment variable, by its name (`SIAGA__SIP__LISTEN`).
    Env(String),
    /// A TOML string given to [`Config::from_toml`](super::Config::from_toml).
    Inline,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::Inline => f.write_str("<inline toml>"),
        }
    }
}

/// A cross-field rule broken by otherwise well-typed values (see [`Config::validate`](super::Config::validate)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
#[non_exhaustive]
pub struct ValidationError {
    /// Dotted key of the offending value, e.g. `registrar.min_expires` or `seats[2].name`.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
    /// The other key of a cross-field rule (`registrar.max_expires` when `default_expires`
    /// exceeds it), so the error can point at an env override of either.
    pub related: Option<String>,
}

impl ValidationError {
    pub(super) fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidationError {
            key: key.into(),
            reason: reason.into(),
            related: None,
        }
    }

    pub(super) fn related(mut self, key: impl Into<String>) -> Self {
        self.related = Some(key.into());
        self
    }

    /// Where the broken rule was set: the env var of `key` or `related` if either came from
    /// the environment (the file is not at fault then), else the file.
    pub(super) fn origin(&self, merged: &config::Config, file: &Origin) -> Origin {
        let primary = origin_of(Some(merged), &self.key, file);
        match (&primary, &self.related) {
            (Origin::Env(_), _) | (_, None) => primary,
            (_, Some(other)) => origin_of(Some(merged), other, file),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The path given to [`Config::load`](super::Config::load).
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{origin}: invalid TOML: {message}")]
    Syntax {
        /// The file.
        origin: Origin,
        /// The TOML parser's message (it includes line and column).
        message: String,
    },
    /// A key that the config tree does not have (usually a typo).
    #[error("{origin}: unknown key `{key}`")]
    UnknownKey {
        /// File or env var that set it.
        origin: Origin,
        /// Dotted key.
        key: String,
    },
    /// A required key (e.g. `name` of a `[[seats]]` entry) is absent.
    #[error("{origin}: missing key `{key}`")]
    MissingKey {
        /// The file.
        origin: Origin,
        /// Dotted key.
        key: String,
    },
    /// A value of the wrong type or one that does not parse (address, CIDR, number).
    #[error("{origin}: {key}: {message}")]
    InvalidValue {
        /// File or env var that set it.
        origin: Origin,
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Values parse but break a cross-field rule.
    #[error("{origin}: {source}")]
    Invalid {
        /// File or env var that set the offending key.
        origin: Origin,
        /// The rule that failed.
        source: ValidationError,
    },
    /// A `SIAGA__*` variable whose value is not UTF-8.
    #[error("env {var}: value is not valid UTF-8")]
    NonUnicodeEnv {
        /// The variable name.
        var: String,
    },
    /// Anything else the `config` crate reported.
    #[error("{origin}: {message}")]
    Other {
        /// Best guess of the source.
        origin: Origin,
        /// The `config` crate's message.
        message: String,
    },
}

/// Resolves where the value at `key` came from, using the merged sources.
pub(super) fn origin_of(merged: Option<&config::Config>, key: &str, file: &Origin) -> Origin {
    merged
        .and_then(|m| lookup(&m.cache, key))
        .and_then(|v| env_key(v, key))
        .map_or_else(|| file.clone(), |k| Origin::Env(env_var_name(&k)))
}

/// The key of the env-set value at or under `value`, if any. A table such as `[media]` made
/// up only by `SIAGA__MEDIA__PORTS` has no origin itself; its leaf has.
fn env_key(value: &config::Value, key: &str) -> Option<String> {
    if value.origin() == Some(ENV_ORIGIN) {
        return Some(key.to_owned());
    }
    match &value.kind {
        config::ValueKind::Table(t) => {
            let mut names: Vec<&String> = t.keys().collect();
            names.sort(); // deterministic when several variables are at fault
            names
                .into_iter()
                .find_map(|n| env_key(&t[n], &join_key(Some(key), n)))
        }
        _ => None,
    }
}

/// Finds the value at a dotted key such as `trunk.allow[1]` or `seats[0].name`.
///
/// Walks the tree by hand because `config::Config::get::<Value>` deserializes the value
/// again and so loses its origin.
fn lookup<'a>(root: &'a config::Value, key: &str) -> Option<&'a config::Value> {
    let mut cur = root;
    for segment in key.split('.') {
        let (name, indices) = segment.split_once('[').unwrap_or((segment, ""));
        if !name.is_empty() {
            match &cur.kind {
                config::ValueKind::Table(t) => cur = t.get(name)?,
                _ => return None,
            }
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            match &cur.kind {
                config::ValueKind::Array(a) => cur = a.get(i)?,
                _ => return None,
            }
        }
    }
    Some(cur)
}

/// Keys whose values must never be echoed in an error.
fn is_secret_key(key: &str) -> bool {
    key.ends_with("password") || key.ends_with("token")
}

/// The `config` crate builds keys like `seats[0]name`; put the missing dot back.
fn normalize_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ']' && chars.peek().is_some_and(|n| *n != '[' && *n != '.') {
            out.push('.');
        }
    }
    out
}

fn join_key(parent: Option<&str>, child: &str) -> String {
    match parent {
        Some(p) if !p.is_empty() => normalize_key(&format!("{p}.{child}")),
        _ => child.to_owned(),
    }
}

/// Converts an error of the `config` crate into a [`ConfigError`] naming key and origin.
///
/// `merged` is the built (not yet deserialized) configuration, used to find which source
/// set the offending key; it is `None` when building itself failed.
pub(super) fn from_config_error(
    err: config::ConfigError,
    merged: Option<&config::Config>,
    file: &Origin,
) -> ConfigError {
    // `At` wraps the real error with the key path it happened at.
    let (key, inner) = match err {
        config::ConfigError::At { error, key, .. } => (key, *error),
        other => (None, other),
    };
    let key = key.map(|k| normalize_key(&k));
    match inner {
        config::ConfigError::FileParse { cause, .. } => ConfigError::Syntax {
            origin: file.clone(),
            message: cause.to_string(),
        },
        config::ConfigError::NotFound(k) => {
            let key = normalize_key(&k);
            ConfigError::MissingKey {
                origin: origin_of(merged, &key, file),
                key,
            }
        }
        config::ConfigError::Type {
            unexpected,
            expected,
            key: type_key,
            ..
        } => {
            let key = type_key
                .map(|k| normalize_key(&k))
                .or(key)
                .unwrap_or_default();
            let shown = if is_secret_key(&key) {
                "a value".to_owned()
            } else {
                unexpected.to_string()
            };
            ConfigError::InvalidValue {
                origin: origin_of(merged, &key, file),
                message: format!("invalid type: {shown}, expected {expected}"),
                key,
            }
        }
        config::ConfigError::Message(msg) => message_error(msg, key, merged, file),
        other => ConfigError::Other {
            origin: key
                .as_deref()
                .map_or_else(|| file.clone(), |k| origin_of(merged, k, file)),
            message: match key {
                Some(k) => format!("{k}: {other}"),
                None => other.to_string(),
            },
        },
    }
}

/// Serde's custom messages: unknown fields and values its `FromStr` rejected.
fn message_error(
    msg: String,
    key: Option<String>,
    merged: Option<&config::Config>,
    file: &Origin,
) -> ConfigError {
    // serde's wording: "unknown field `lisen`, expected one of `listen`, ..."
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, _)) = rest.split_once('`') {
            let key = join_key(key.as_deref(), field);
            return ConfigError::UnknownKey {
                origin: origin_of(merged, &key, file),
                key,
            };
        }
    }
    let key = key.unwrap_or_default();
    // serde's SocketAddr message does not say what the value was; add it unless secret.
    let shown = merged
        .filter(|_| !is_secret_key(&key))
        .and_then(|m| lookup(&m.cache, &key))
        .and_then(|v| v.clone().into_string().ok())
        .filter(|v| !msg.contains(v.as_str()));
    let message = match shown {
        Some(v) => format!("{msg} {v:?}"),
        None => msg,
    };
    ConfigError::InvalidValue {
        origin: origin_of(merged, &key, file),
        key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_walks_tables_and_arrays() {
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(
                "[trunk]\nallow = [\"a\", \"b\"]\n[[seats]]\nname = \"s\"\n",
                config::FileFormat::Toml,
            ))
            .build()
            .expect("valid toml");
        let get = |k: &str| lookup(&cfg.cache, k).and_then(|v| v.clone().into_string().ok());
        assert_eq!(get("trunk.allow[1]").as_deref(), Some("b"));
        assert_eq!(get("seats[0].name").as_deref(), Some("s"));
        assert_eq!(get("seats[1].name"), None);
        assert_eq!(get("trunk.allow.x"), None);
    }

    #[test]
    fn normalize_inserts_dots() {
        assert_eq!(normalize_key("seats[0]name"), "seats[0].name");
        assert_eq!(normalize_key("seats[0].name"), "seats[0].name");
        assert_eq!(normalize_key("a[0][1]b"), "a[0][1].b");
        assert_eq!(normalize_key("trunk.allow[1]"), "trunk.allow[1]");
    }
}
