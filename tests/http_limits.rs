//! The HTTP API of the real binary under attack-shaped load, on loopback: idle connection
//! floods at the default soft open-files limit, silent and trickling connections, the Host
//! check, and the refusal of shipped placeholder secrets off loopback.
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{crate_dir, free_port, options_request, Gateway, LOOPBACK};

/// Idle connections opened by the flood test, as in the issue (1,100 > the 1024 limit).
const FLOOD: usize = 1100;

/// The soft open-files limit of this test process must hold the flood's client sockets.
fn raise_own_nofile(need: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("nofile line");
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (soft, hard) = (nums[0], nums[1]);
    if soft >= need {
        return;
    }
    assert!(hard >= need, "hard open-files limit {hard} < {need}");
    let status = Command::new(common::require_tool("prlimit"))
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={hard}:"))
        .status()
        .expect("run prlimit");
    assert!(
        status.success(),
        "prlimit failed to raise our own soft limit"
    );
}

/// `GET path` over a fresh connection with `Host: host`; the status line and body.
fn get(api: SocketAddr, path: &str, host: &str) -> Result<String, String> {
    let mut s =
        TcpStream::connect_timeout(&api, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer)
}

fn sip_answers_options(gw: &Gateway) -> bool {
    let sock = UdpSocket::bind((LOOPBACK, 0)).expect("udp");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let req = options_request(gw.sip, sock.local_addr().expect("addr"), 1);
    sock.send_to(req.as_bytes(), gw.sip).expect("send");
    let mut buf = [0u8; 4096];
    sock.recv_from(&mut buf)
        .is_ok_and(|(n, _)| buf[..n].starts_with(b"SIP/2.0 200"))
}

/// Waits until every socket sees its connection closed (EOF or reset); the elapsed time
/// of each, `None` for those still open at `limit`.
async fn closed_within(
    socks: Vec<tokio::net::TcpStream>,
    limit: Duration,
) -> Vec<Option<Duration>> {
    let t0 = Instant::now();
    let tasks: Vec<_> = socks
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut buf = [0u8; 256];
                let read = tokio::time::timeout(limit, async {
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                });
                read.await.ok().map(|()| t0.elapsed())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("reader task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_flood_at_1024_files_leaves_health_answering_and_is_closed() {
    raise_own_nofile(FLOOD as u64 + 512);
    let gw = Gateway::start_nofile(&[("SIAGA__API__IDLE_TIMEOUT_S", "5")], 1024);
    // 1,100 silent connections from 40 loopback sources (the global cap, not only the
    // per-source one, is reached).
    let mut socks = Vec::with_capacity(FLOOD);
    for i in 0..FLOOD {
        let src: SocketAddr = format!("127.0.0.{}:0", 2 + i % 40).parse().expect("src");
        let sock = tokio::net::TcpSocket::new_v4().expect("socket");
        sock.bind(src).expect("bind a loopback source");
        let s = tokio::time::timeout(Duration::from_secs(5), sock.connect(gw.api))
            .await
            .unwrap_or_else(|_| panic!("connect #{i} hung\n{}", gw.log()))
            .unwrap_or_else(|e| panic!("connect #{i}: {e}\n{}", gw.log()));
        socks.push(s);
    }
    let api = gw.api;
    let host = format!("127.0.0.1:{}", api.port());
    let started = Instant::now();
    let health = tokio::task::spawn_blocking(move || get(api, "/health", &host))
        .await
        .expect("health task");
    let answer =
        health.unwrap_or_else(|e| panic!("/health failed under the flood: {e}\n{}", gw.log()));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        sip_answers_options(&gw),
        "SIP stopped answering\n{}",
        gw.log()
    );
    // Every idle one is closed: most at once to make room, the rest by the idle timeout.
    let closed = closed_within(socks, Duration::from_secs(35)).await;
    let open = closed.iter().filter(|c| c.is_none()).count();
    let slowest = closed.iter().flatten().max().copied().unwrap_or_default();
    assert_eq!(
        open, 0,
        "{open} of {FLOOD} idle connections still open after 35 s"
    );
    assert!(
        slowest < Duration::from_secs(5 + 4),
        "slowest close {slowest:?} (idle timeout 5 s)"
    );
    gw.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_idle_timeout_closes_silent_and_trickling_connections() {
    let gw = Gateway::start(&[]);
    let silent = tokio::net::TcpStream::connect(gw.api)
        .await
        .expect("connect");
    let mut partial = tokio::net::TcpStream::connect(gw.api)
        .await
        .expect("connect");
    {
        use tokio::io::AsyncWriteExt;
        partial
            .write_all(b"GET /health HTTP/1.1\r\nHost: loc")
            .await
            .expect("write");
    }
    // An active client next to them is served all along.
    let api = gw.api;
    let host = format!("localhost:{}", api.port());
    let probe = tokio::task::spawn_blocking(move || get(api, "/health", &host))
        .await
        .expect("task");
    assert!(probe.expect("health").starts_with("HTTP/1.1 200"));
    let closed = closed_within(vec![silent, partial], Duration::from_secs(35)).await;
    for (what, c) in ["silent", "partial header"].iter().zip(&closed) {
        let at = c.unwrap_or_else(|| panic!("{what} connection open after 35 s\n{}", gw.log()));
        assert!(
            at >= Duration::from_secs(25),
            "{what} closed too early: {at:?}"
        );
    }
    gw.stop();
}

#[test]
fn dns_rebinding_host_is_refused_on_the_real_socket() {
    let gw = Gateway::start(&[]);
    let ok = get(gw.api, "/health", &format!("127.0.0.1:{}", gw.api.port())).expect("health");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let bad = get(gw.api, "/health", "attacker.example").expect("answer");
    assert!(bad.starts_with("HTTP/1.1 421"), "{bad}");
    assert!(bad.contains(r#""error":"misdirected request"#), "{bad}");
    gw.stop();
}

#[test]
fn placeholder_secrets_refuse_to_start_off_loopback() {
    let config = crate_dir().join("config/siaga.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |env: &[(&str, String)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_siaga"));
        cmd.arg("run")
            .arg("--config")
            .arg(&config)
            .current_dir(dir.path());
        cmd.env("SIAGA__STORE__PATH", dir.path().join("s.sqlite"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run siaga")
    };
    // The shipped seat passwords with SIP on every address: refused before binding.
    let sip = format!("0.0.0.0:{}", free_port());
    let api = format!("{LOOPBACK}:{}", free_port());
    let out = run(&[
        ("SIAGA__SIP__LISTEN", sip.clone()),
        ("SIAGA__API__LISTEN", api.clone()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("config/siaga.toml"),
        "names the file: {stderr}"
    );
    assert!(
        stderr.contains("seats[0].password"),
        "names the key: {stderr}"
    );
    assert!(stderr.contains("off loopback"), "{stderr}");
    // The legacy token placeholder with the API off loopback (env override): named too.
    let out = run(&[
        ("SIAGA__SIP__LISTEN", format!("{LOOPBACK}:{}", free_port())),
        ("SIAGA__API__LISTEN", format!("0.0.0.0:{}", free_port())),
        ("SIAGA__API__TOKEN", "change-me".to_owned()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("api.token") || stderr.contains("seats[0].password"),
        "{stderr}"
    );
}
