//! Every shipped and fixture config file: valid ones load, invalid ones fail naming file and
//! key; and the `check-config` command's exit codes and masking.
use std::path::{Path, PathBuf};
use std::process::Command;

use siaga::config::Config;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `.toml` files in `dir` (relative to the crate root), sorted, at least one.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("read {dir}: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .toml files in {dir}");
    files
}

/// No `SIAGA__*` from the developer's shell may change what a file means.
fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn shipped_and_valid_files_load() {
    for file in toml_files("config")
        .into_iter()
        .chain(toml_files("fixtures/config/valid"))
    {
        if let Err(e) = Config::load_with_env(&file, no_env()) {
            panic!("{} should load: {e}", file.display());
        }
    }
}

#[test]
fn shipped_file_matches_the_defaults() {
    // config/siaga.toml documents every default; it must not drift from the code.
    let shipped = Config::load_with_env(&root().join("config/siaga.toml"), no_env())
        .expect("shipped config loads");
    assert_eq!(shipped, Config::default());
}

#[test]
fn shipped_file_names_every_key() {
    // Every key the code prints must appear in the shipped file (documented there).
    let text = std::fs::read_to_string(root().join("config/siaga.toml")).expect("read");
    for line in Config::default().masked_toml().lines() {
        if let Some((key, _)) = line.split_once(" = ") {
            let needle = format!("\n{key} = ");
            assert!(text.contains(&needle), "config/siaga.toml lacks `{key}`");
        }
    }
}

#[test]
fn invalid_files_fail_naming_file_and_key() {
    for file in toml_files("fixtures/config/invalid") {
        let text = std::fs::read_to_string(&file).expect("read fixture");
        // First line of each invalid fixture: `# expect: <text the error must contain>`.
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect:` line", file.display()));
        match Config::load_with_env(&file, no_env()) {
            Ok(_) => panic!("{} should fail", file.display()),
            Err(e) => {
                let msg = e.to_string();
                let prefix = format!("{}: ", file.display());
                assert!(
                    msg.starts_with(&prefix),
                    "{msg:?} should start with {prefix:?}"
                );
                assert!(msg.contains(expect), "{msg:?} should name {expect:?}");
            }
        }
    }
}

fn siaga(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .output()
        .expect("run siaga")
}

#[test]
fn check_config_prints_masked_config() {
    let out = siaga(&["check-config", "--config", "config/siaga.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("listen = \"127.0.0.1:5060\""), "{stdout}");
    for secret in ["siaga-seat1", "siaga-seat4", "change-me"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
    assert!(stdout.contains("password = \"***\""));

    let out = siaga(&[
        "check-config",
        "-c",
        "fixtures/config/valid/ipv6_two_seats.toml",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for secret in ["alpha-secret", "beta-secret", "fixture-token"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
}

#[test]
fn check_config_fails_with_code_2() {
    let out = siaga(&[
        "check-config",
        "--config",
        "fixtures/config/invalid/unknown_key.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fixtures/config/invalid/unknown_key.toml: unknown key `sip.lisen`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let out = siaga(&["check-config", "--config", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_config_applies_env_overrides() {
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(["check-config"])
        .current_dir(root())
        .env("SIAGA__SIP__LISTEN", "127.0.0.1:15060")
        .env("SIAGA__API__TOKEN", "secret-from-env")
        .output()
        .expect("run siaga");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("listen = \"127.0.0.1:15060\""), "{stdout}");
    assert!(!stdout.contains("secret-from-env"));

    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args(["check-config"])
        .current_dir(root())
        .env("SIAGA__SIP__T1_MS", "fast")
        .output()
        .expect("run siaga");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("env SIAGA__SIP__T1_MS: sip.t1_ms"),
        "{stderr}"
    );
}

#[test]
fn run_with_bad_config_exits_2() {
    let out = siaga(&["run", "--config", "fixtures/config/invalid/bad_addr.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sip.listen"), "{stderr}");
}

#[test]
fn run_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::Duration;

    let store = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .args([
            "run",
            "--config",
            "config/siaga.toml",
            "--log-level",
            "info",
        ])
        .current_dir(root())
        // Port 0 so the test never collides once app.rs binds real sockets.
        .env("SIAGA__SIP__LISTEN", "127.0.0.1:0")
        .env("SIAGA__API__LISTEN", "127.0.0.1:0")
        .env("SIAGA__STORE__PATH", store.path().join("t.sqlite"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn siaga run");
    let stdout = child.stdout.take().expect("piped stdout");
    // Wait (bounded) for the startup line: the signal handler is installed before it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("siaga started") {
                let _ = tx.send(());
            }
        }
    });
    let started = rx.recv_timeout(Duration::from_secs(20)).is_ok();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for siaga");
    assert!(started, "no startup log line");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
