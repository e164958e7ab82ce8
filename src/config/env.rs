//! Environment overrides: `SIAGA__<SECTION>__<KEY>=value`.
//!
//! Scalars go through `config::Environment` with `try_parsing(false)`: the `config` crate
//! already turns a string into a number when the field is numeric, while `try_parsing(true)`
//! would turn a string field such as a token `007` into the integer 7 and print it back as
//! `"7"`. List keys (comma-separated) are applied as overrides here because
//! `Environment`'s list splitting only runs with `try_parsing(true)` and cannot express an
//! empty list.
use std::ffi::OsString;

use config::builder::DefaultState;
use config::{ConfigBuilder, Environment, Map, Value, ValueKind};

use super::error::{from_config_error, ConfigError, Origin};

/// The `origin` the `config` crate gives values from `Environment`; overrides set here use the
/// same so that [`super::error::origin_of`] recognises both.
pub(super) const ENV_ORIGIN: &str = "the environment";

const PREFIX: &str = "SIAGA";
const SEPARATOR: &str = "__";

/// Keys whose env value is a comma-separated list, e.g.
/// `SIAGA__TRUNK__ALLOW=127.0.0.0/8,::1/128`. An empty value means an empty list.
const LIST_KEYS: &[&str] = &[
    "sip.also_listen",
    "trunk.allow",
    "registrar.algorithms",
    "registrar.md5_only_user_agents",
    "registrar.allow_from",
    "routing.emergency_numbers",
];

/// The variable that sets `key`: `sip.t1_ms` → `SIAGA__SIP__T1_MS`. Array indices are dropped
/// (`trunk.allow[1]` → `SIAGA__TRUNK__ALLOW`) since a list is set as one variable.
pub(super) fn env_var_name(key: &str) -> String {
    let mut plain = String::with_capacity(key.len());
    let mut depth = 0u32;
    for c in key.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let path = plain.to_ascii_uppercase().replace('.', SEPARATOR);
    format!("{PREFIX}{SEPARATOR}{path}")
}

/// Keeps only `SIAGA__*` variables (any case, as `config` matches the prefix case-insensitively).
/// A non-UTF-8 value under the prefix is an error rather than silently mangled, since it may
/// be a password.
pub(super) fn collect_os<I>(vars: I) -> Result<Vec<(String, String)>, ConfigError>
where
    I: IntoIterator<Item = (OsString, OsString)>,
{
    let mut out = Vec::new();
    for (k, v) in vars {
        let Ok(k) = k.into_string() else { continue };
        if !is_ours(&k) {
            continue;
        }
        match v.into_string() {
            Ok(v) => out.push((k, v)),
            Err(_) => return Err(ConfigError::NonUnicodeEnv { var: k }),
        }
    }
    Ok(out)
}

fn is_ours(var: &str) -> bool {
    let prefix = format!("{PREFIX}{SEPARATOR}");
    var.len() > prefix.len() && var[..prefix.len()].eq_ignore_ascii_case(&prefix)
}

/// Adds the overrides in `vars` (already filtered or not) on top of `builder`.
pub(super) fn apply<I>(
    mut builder: ConfigBuilder<DefaultState>,
    vars: I,
) -> Result<ConfigBuilder<DefaultState>, ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let origin = ENV_ORIGIN.to_owned();
    let mut scalars = Map::new();
    for (var, value) in vars {
        if !is_ours(&var) {
            continue;
        }
        let key = var[PREFIX.len() + SEPARATOR.len()..]
            .to_ascii_lowercase()
            .replace(SEPARATOR, ".");
        if !LIST_KEYS.contains(&key.as_str()) {
            scalars.insert(var, value);
            continue;
        }
        let items = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::new(Some(&origin), ValueKind::String(s.to_owned())))
            .collect::<Vec<_>>();
        builder = builder
            .set_override(&key, Value::new(Some(&origin), ValueKind::Array(items)))
            .map_err(|e| from_config_error(e, None, &Origin::Env(var.clone())))?;
    }
    let env = Environment::with_prefix(PREFIX)
        .prefix_separator(SEPARATOR)
        .separator(SEPARATOR)
        .try_parsing(false)
        .source(Some(scalars));
    Ok(builder.add_source(env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_names() {
        assert_eq!(env_var_name("sip.t1_ms"), "SIAGA__SIP__T1_MS");
        assert_eq!(env_var_name("trunk.allow[1]"), "SIAGA__TRUNK__ALLOW");
        assert_eq!(env_var_name("lisen"), "SIAGA__LISEN");
    }

    #[test]
    fn prefix_match() {
        assert!(is_ours("SIAGA__SIP__LISTEN"));
        assert!(is_ours("siaga__sip__listen"));
        assert!(!is_ours("SIAGA_SIP"));
        assert!(!is_ours("SIAGA__"));
        assert!(!is_ours("PATH"));
    }
}
