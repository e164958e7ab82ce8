//! Unit tests of the config tree: defaults, env overrides, error messages.
use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create temp file");
    f.write_all(text.as_bytes()).expect("write temp file");
    path
}

fn load_err(text: &str, vars: &[(&str, &str)]) -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "siaga.toml", text);
    let err = Config::load_with_env(&path, env(vars)).expect_err("must fail");
    (err.to_string(), path.display().to_string())
}

#[test]
fn empty_toml_is_all_defaults() {
    let cfg = Config::from_toml("").expect("defaults are valid");
    assert_eq!(cfg, Config::default());
    assert_eq!(cfg.sip.listen.to_string(), "127.0.0.1:5060");
    assert_eq!(cfg.sip.t1_ms, 500);
    assert_eq!(cfg.sip.t2_ms, 4000);
    assert_eq!(cfg.sip.t4_ms, 5000);
    assert_eq!(cfg.sip.max_message_bytes, 65535);
    assert_eq!(
        cfg.registrar.algorithms,
        [DigestAlgorithm::Md5, DigestAlgorithm::Sha256]
    );
    assert_eq!(cfg.registrar.md5_only_user_agents, ["baresip"]);
    assert_eq!(cfg.seats.len(), 4);
    assert_eq!(cfg.seats[3].name, "seat4");
    assert_eq!(cfg.api.listen.to_string(), "127.0.0.1:8112");
    assert_eq!(cfg.store.path, Path::new("data/siaga.sqlite"));
    assert!(cfg.trunk.is_trunk("127.0.0.1".parse().expect("ip")));
    assert!(cfg.trunk.is_trunk("::1".parse().expect("ip")));
    assert!(!cfg.trunk.is_trunk("192.0.2.1".parse().expect("ip")));
}

#[test]
fn env_overrides_numbers_and_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "siaga.toml", "[sip]\nt1_ms = 400\n");
    let cfg = Config::load_with_env(
        &path,
        env(&[
            ("SIAGA__SIP__LISTEN", "127.0.0.1:15060"),
            ("SIAGA__SIP__T1_MS", "300"),
            ("SIAGA__REGISTRAR__LOCKOUT_FAILURES", "3"),
            ("SIAGA__SIP__DOMAIN", "12345"),
            ("PATH", "/usr/bin"),
            ("SIAGA_SIP__LISTEN", "ignored: single underscore"),
        ]),
    )
    .expect("valid overrides");
    assert_eq!(cfg.sip.listen.to_string(), "127.0.0.1:15060");
    assert_eq!(cfg.sip.t1_ms, 300, "env wins over the file");
    assert_eq!(cfg.registrar.lockout_failures, 3);
    assert_eq!(
        cfg.sip.domain, "12345",
        "numeric-looking strings stay strings"
    );
}

#[test]
fn env_strings_are_not_reparsed() {
    // try_parsing(true) would turn these into numbers/bools and print them back changed.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "siaga.toml", "");
    let cfg = Config::load_with_env(
        &path,
        env(&[
            ("SIAGA__API__TOKEN", "007"),
            ("SIAGA__REGISTRAR__REALM", "1e3"),
            ("SIAGA__SIP__USER_AGENT", "TRUE"),
        ]),
    )
    .expect("valid overrides");
    assert_eq!(cfg.api.token.as_ref().map(Secret::expose), Some("007"));
    assert_eq!(cfg.registrar.realm, "1e3");
    assert_eq!(cfg.sip.user_agent, "TRUE");
}

#[test]
fn env_lists_are_comma_separated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "siaga.toml",
        "[sip]\nalso_listen = [\"[::1]:5060\"]\n",
    );
    let cfg = Config::load_with_env(
        &path,
        env(&[
            ("SIAGA__TRUNK__ALLOW", "192.0.2.0/24, 2001:db8::/32"),
            ("SIAGA__SIP__ALSO_LISTEN", ""),
            ("SIAGA__REGISTRAR__ALGORITHMS", "MD5"),
        ]),
    )
    .expect("valid overrides");
    let allow: Vec<String> = cfg.trunk.allow.iter().map(ToString::to_string).collect();
    assert_eq!(allow, ["192.0.2.0/24", "2001:db8::/32"]);
    assert!(
        cfg.sip.also_listen.is_empty(),
        "empty value means empty list"
    );
    assert_eq!(cfg.registrar.algorithms, [DigestAlgorithm::Md5]);
}

#[test]
fn error_unknown_key_in_file() {
    let (msg, file) = load_err("[sip]\nlisen = \"127.0.0.1:5060\"\n", &[]);
    assert_eq!(msg, format!("{file}: unknown key `sip.lisen`"));
}

#[test]
fn error_unknown_key_in_env() {
    let (msg, _) = load_err("", &[("SIAGA__SIP__LISEN", "127.0.0.1:5060")]);
    assert_eq!(msg, "env SIAGA__SIP__LISEN: unknown key `sip.lisen`");
    let (msg, _) = load_err("", &[("SIAGA__MEDIA__PORTS", "1")]);
    assert_eq!(msg, "env SIAGA__MEDIA__PORTS: unknown key `media.ports`");
    let (msg, _) = load_err("", &[("SIAGA__RECORDING__ON", "1")]);
    assert_eq!(msg, "env SIAGA__RECORDING__ON: unknown key `recording`");
}

#[test]
fn error_wrong_type() {
    let (msg, file) = load_err("[sip]\nt1_ms = \"fast\"\n", &[]);
    assert!(
        msg.starts_with(&format!("{file}: sip.t1_ms: invalid type")),
        "{msg}"
    );
    let (msg, _) = load_err("", &[("SIAGA__SIP__T1_MS", "12x")]);
    assert!(
        msg.starts_with("env SIAGA__SIP__T1_MS: sip.t1_ms: invalid type"),
        "{msg}"
    );
    let (msg, file) = load_err("[registrar]\nqualify_misses = -1\n", &[]);
    assert!(
        msg.starts_with(&format!("{file}: registrar.qualify_misses:")),
        "{msg}"
    );
}

#[test]
fn error_bad_value_names_key_and_value() {
    let (msg, file) = load_err("[sip]\nlisten = \"abc\"\n", &[]);
    assert_eq!(
        msg,
        format!("{file}: sip.listen: invalid socket address syntax \"abc\"")
    );
    let (msg, _) = load_err("", &[("SIAGA__API__LISTEN", "localhost")]);
    assert!(
        msg.starts_with("env SIAGA__API__LISTEN: api.listen: "),
        "{msg}"
    );
    let (msg, file) = load_err("[trunk]\nallow = [\"::1/128\", \"10.0.0.0/40\"]\n", &[]);
    assert!(
        msg.starts_with(&format!("{file}: trunk.allow[1]: invalid CIDR")),
        "{msg}"
    );
}

#[test]
fn error_cross_field_points_at_env_when_env_broke_it() {
    let (msg, file) = load_err("[registrar]\nmin_expires = 700\n", &[]);
    assert!(
        msg.starts_with(&format!("{file}: registrar.min_expires: must be <=")),
        "{msg}"
    );
    let (msg, _) = load_err("", &[("SIAGA__REGISTRAR__MAX_EXPIRES", "10")]);
    assert!(
        msg.starts_with("env SIAGA__REGISTRAR__MAX_EXPIRES: registrar.default_expires"),
        "{msg}"
    );
}

#[test]
fn error_missing_file_names_it() {
    let err =
        Config::load_with_env(Path::new("no/such/siaga.toml"), env(&[])).expect_err("missing file");
    assert!(
        err.to_string()
            .starts_with("no/such/siaga.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn error_never_echoes_secrets() {
    let (msg, _) = load_err("[api]\ntoken = [\"hunter2\"]\n", &[]);
    assert!(
        msg.contains("api.token") && !msg.contains("hunter2"),
        "{msg}"
    );
    let (msg, _) = load_err(
        "[[seats]]\nname = \"s\"\npassword = { x = \"hunter2\" }\n",
        &[],
    );
    assert!(
        msg.contains("seats[0].password") && !msg.contains("hunter2"),
        "{msg}"
    );
}

#[test]
fn inline_errors_say_inline() {
    let err = Config::from_toml("[store]\npath = \"\"\n").expect_err("empty path");
    assert_eq!(
        err.to_string(),
        "<inline toml>: store.path: must not be empty"
    );
}

#[test]
fn validation_rules() {
    let cases = [
        (
            "[sip]\nalso_listen = [\"127.0.0.1:5060\"]\n",
            "sip.also_listen[0]",
        ),
        ("[sip]\nrate_limit_per_s = 50\n", "sip.rate_limit_burst"),
        ("[sip]\nmax_message_bytes = 100\n", "sip.max_message_bytes"),
        ("[sip]\ndomain = \" \"\n", "sip.domain"),
        ("[registrar]\nalgorithms = []\n", "registrar.algorithms"),
        (
            "[registrar]\nalgorithms = [\"MD5\", \"md5\"]\n",
            "registrar.algorithms[1]",
        ),
        (
            "[registrar]\nqualify_misses = 0\n",
            "registrar.qualify_misses",
        ),
        (
            "[registrar]\ndefault_expires = 30\n",
            "registrar.min_expires",
        ),
        (
            "[[seats]]\nname = \"bad name\"\npassword = \"x\"\n",
            "seats[0].name",
        ),
        ("[api]\ntoken = \"\"\n", "api.token"),
        ("[sip]\nuser_agent = \" \"\n", "sip.user_agent"),
        (
            "[sip]\ntcp_first_message_timeout_s = 0\n",
            "sip.tcp_first_message_timeout_s",
        ),
        ("[sip]\ntcp_max_per_source = 0\n", "sip.tcp_max_per_source"),
        (
            "[registrar]\naccount_failures = 0\n",
            "registrar.account_failures",
        ),
        (
            "[registrar]\nbackoff_max_s = 0\n",
            "registrar.backoff_max_s",
        ),
    ];
    for (toml, key) in cases {
        match Config::from_toml(toml) {
            Err(ConfigError::Invalid { source, .. }) => assert_eq!(source.key, key, "{toml}"),
            other => panic!("{toml}: expected Invalid at {key}, got {other:?}"),
        }
    }
}

#[test]
fn allow_from_lists_for_all_seats_and_per_seat() {
    let cfg = Config::from_toml(
        "[registrar]\nallow_from = [\"192.0.2.0/24\"]\n\
         [[seats]]\nname = \"s1\"\npassword = \"p\"\nallow_from = [\"192.0.2.10/32\"]\n",
    )
    .expect("valid");
    assert_eq!(cfg.registrar.allow_from[0].to_string(), "192.0.2.0/24");
    assert_eq!(cfg.seats[0].allow_from[0].to_string(), "192.0.2.10/32");
    match Config::from_toml("[registrar]\nallow_from = [\"192.0.2.1/24\"]\n") {
        Err(e) => assert!(e.to_string().contains("registrar.allow_from"), "{e}"),
        Ok(_) => panic!("host bits set"),
    }
    let cfg = Config::load_with_env(
        &write(tempfile::tempdir().unwrap().path(), "s.toml", ""),
        env(&[("SIAGA__REGISTRAR__ALLOW_FROM", "10.0.0.0/8,192.0.2.0/24")]),
    )
    .expect("env list");
    assert_eq!(cfg.registrar.allow_from.len(), 2);
}

#[test]
fn masked_toml_hides_secrets_and_round_trips() {
    let text = "[api]\ntoken = \"tok-123\"\n[[seats]]\nname = \"a\"\npassword = \"pw-456\"\n";
    let cfg = Config::from_toml(text).expect("valid");
    let shown = cfg.masked_toml();
    assert!(
        !shown.contains("tok-123") && !shown.contains("pw-456"),
        "{shown}"
    );
    assert!(shown.contains("password = \"***\"") && shown.contains("token = \"***\""));
    assert!(
        !format!("{cfg:?}").contains("pw-456"),
        "Debug must not leak either"
    );
    // The printed config is itself a valid config (with masked secrets).
    let again = Config::from_toml(&shown).expect("masked output parses");
    assert_eq!(again.sip, cfg.sip);
    assert_eq!(again.registrar, cfg.registrar);
    assert_eq!(again.seats[0].password.expose(), Secret::MASK);
}
