//! HTTPS for the API of the real binary on loopback: `/health` over TLS with a client that
//! trusts only the test certificate (curl `--cacert`), the certificate reloaded on SIGHUP
//! (and a bad new file leaving the old one in use), a silent TLS client closed at the idle
//! timeout, a bad certificate file refused as a config error naming key and file, and
//! SIGHUP without HTTPS not stopping the gateway.
mod common;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{crate_dir, require_tool, Gateway};

/// A self-signed certificate for `localhost` and 127.0.0.1 with its key, made by the
/// openssl CLI in `dir` as `{name}.crt` / `{name}.key`.
fn make_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out = Command::new(require_tool("openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=siaga-test-{name}"),
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (crt, key)
}

/// `GET https://127.0.0.1:port{path}` with curl trusting only `ca`: status code and body,
/// or curl's error.
fn curl(api: SocketAddr, path: &str, ca: &Path) -> Result<(u16, String), String> {
    let out = Command::new(require_tool("curl"))
        .args([
            "-sS",
            "--max-time",
            "5",
            "--noproxy",
            "*",
            "-w",
            "\n%{http_code}",
        ])
        .arg("--cacert")
        .arg(ca)
        .arg(format!("https://127.0.0.1:{}{path}", api.port()))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').ok_or("no status")?;
    Ok((
        code.trim().parse().map_err(|_| text.clone())?,
        body.to_owned(),
    ))
}

fn start_https(crt: &Path, key: &Path, extra: &[(&str, &str)]) -> Gateway {
    let (crt, key) = (crt.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let mut env = vec![("SIAGA__API__TLS_CERT", crt), ("SIAGA__API__TLS_KEY", key)];
    env.extend_from_slice(extra);
    let gw = Gateway::start(&env);
    // Gateway::start waits for SIP; the API binds just after.
    let up = eventually(Duration::from_secs(10), || {
        TcpStream::connect(gw.api).is_ok()
    });
    assert!(up, "the API does not listen\n{}", gw.log());
    gw
}

/// Polls `f` until it is true or `limit` passes.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn https_health_and_certificate_reload_on_sighup() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (live_crt, live_key) = (certs.path().join("live.crt"), certs.path().join("live.key"));
    let (old_crt, old_key) = make_cert(certs.path(), "old");
    let (new_crt, new_key) = make_cert(certs.path(), "new");
    std::fs::copy(&old_crt, &live_crt).expect("copy");
    std::fs::copy(&old_key, &live_key).expect("copy");
    let gw = start_https(&live_crt, &live_key, &[]);

    assert_eq!(
        curl(gw.api, "/health", &old_crt),
        Ok((200, "ok".to_owned())),
        "{}",
        gw.log()
    );
    // A client that trusts only the other certificate is refused: it is really TLS with ours.
    assert!(curl(gw.api, "/health", &new_crt).is_err());

    // A bad new file: logged, the old certificate stays.
    std::fs::write(&live_crt, "-----BEGIN CERTIFICATE-----\nnot base64!\n").expect("write");
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(10), || gw
            .log()
            .contains("not reloaded")),
        "no reload error logged\n{}",
        gw.log()
    );
    assert_eq!(
        curl(gw.api, "/health", &old_crt),
        Ok((200, "ok".to_owned()))
    );

    // The renewed pair: new connections get it.
    std::fs::copy(&new_crt, &live_crt).expect("copy");
    std::fs::copy(&new_key, &live_key).expect("copy");
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(10), || {
            curl(gw.api, "/health", &new_crt) == Ok((200, "ok".to_owned()))
        }),
        "the new certificate is not served after SIGHUP\n{}",
        gw.log()
    );
    assert!(curl(gw.api, "/health", &old_crt).is_err());
    gw.stop();
}

#[test]
fn silent_tls_client_is_closed_at_the_idle_timeout() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (crt, key) = make_cert(certs.path(), "idle");
    let gw = start_https(&crt, &key, &[("SIAGA__API__IDLE_TIMEOUT_S", "2")]);
    let mut s = TcpStream::connect(gw.api).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let t0 = Instant::now();
    let mut buf = [0u8; 64];
    // Says nothing (no ClientHello): the server closes it (EOF or reset) at ~2 s.
    let r = s.read(&mut buf);
    let waited = t0.elapsed();
    assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "closed after {waited:?}\n{}",
        gw.log()
    );
    // And the listener still serves TLS.
    assert_eq!(curl(gw.api, "/health", &crt), Ok((200, "ok".to_owned())));
    gw.stop();
}

#[test]
fn unreadable_certificate_is_a_config_error_naming_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, key) = make_cert(dir.path(), "k");
    let missing = dir.path().join("missing.crt");
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .arg("check-config")
        .arg("--config")
        .arg(crate_dir().join("config/siaga.toml"))
        .env("SIAGA__API__TLS_CERT", &missing)
        .env("SIAGA__API__TLS_KEY", &key)
        .output()
        .expect("run siaga");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("api.tls_cert") && err.contains(&*missing.to_string_lossy()),
        "{err}"
    );
    // A key file that holds no key.
    let bad_key = dir.path().join("bad.key");
    std::fs::write(&bad_key, "hello\n").expect("write");
    let (crt, _) = make_cert(dir.path(), "c");
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .arg("check-config")
        .arg("--config")
        .arg(crate_dir().join("config/siaga.toml"))
        .env("SIAGA__API__TLS_CERT", &crt)
        .env("SIAGA__API__TLS_KEY", &bad_key)
        .output()
        .expect("run siaga");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("api.tls_key") && err.contains("bad.key"),
        "{err}"
    );
}

/// `GET /health` over plain HTTP: the status line.
fn health_plain(api: SocketAddr) -> String {
    let Ok(mut s) = TcpStream::connect(api) else {
        return "no connection".to_owned();
    };
    let req = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        api.port()
    );
    let mut answer = String::new();
    let _ = std::io::Write::write_all(&mut s, req.as_bytes())
        .and_then(|()| s.read_to_string(&mut answer));
    answer.lines().next().unwrap_or("").to_owned()
}

#[test]
fn sighup_without_https_leaves_the_gateway_running() {
    let gw = Gateway::start(&[]);
    // The API answers: its SIGHUP handler is installed (before it binds).
    assert!(
        eventually(Duration::from_secs(10), || health_plain(gw.api)
            .starts_with("HTTP/1.1 200")),
        "{}",
        gw.log()
    );
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(10), || gw.log().contains("SIGHUP")),
        "SIGHUP not seen\n{}",
        gw.log()
    );
    assert!(
        health_plain(gw.api).starts_with("HTTP/1.1 200"),
        "{}",
        gw.log()
    );
    // And SIGTERM still ends it cleanly (exit 0).
    gw.stop();
}

#[test]
fn silent_tls_clients_at_the_cap_do_not_keep_https_out() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (crt, key) = make_cert(certs.path(), "cap");
    let gw = start_https(
        &crt,
        &key,
        &[
            ("SIAGA__API__MAX_CONNECTIONS", "8"),
            ("SIAGA__API__MAX_CONNECTIONS_PER_SOURCE", "4"),
        ],
    );
    // Twice the global cap of sockets that never send a ClientHello: each new one evicts
    // the idlest (mid-handshake counts as idle).
    let silent: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(gw.api).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        curl(gw.api, "/health", &crt),
        Ok((200, "ok".to_owned())),
        "{}",
        gw.log()
    );
    // And the evicted ones are really closed (4 per source stay open at most).
    let closed = silent
        .into_iter()
        .filter(|s| {
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .expect("timeout");
            let mut buf = [0u8; 16];
            match (&*s).read(&mut buf) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
            }
        })
        .count();
    assert!(
        closed >= 12,
        "only {closed} of 16 silent sockets closed\n{}",
        gw.log()
    );
    gw.stop();
}
