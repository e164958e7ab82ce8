//! `[log] format`: the real binary logs one JSON object per line with `json`, and a value
//! that is neither format is a config error naming the key.
mod common;

use std::process::Command;

use common::{crate_dir, Gateway};

#[test]
fn json_format_writes_one_object_per_line() {
    let gw = Gateway::start(&[("SIAGA__LOG__FORMAT", "json")]);
    // The start line comes once the API listens too, maybe just after SIP answers.
    let read = || std::fs::read_to_string(gw.dir().join("siaga.log")).expect("log");
    let t0 = std::time::Instant::now();
    while !read().contains("siaga started") && t0.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = read();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "{}", gw.log());
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        assert!(
            v["message"].is_string() && v["target"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"message\":\"siaga started\"")),
        "{}",
        gw.log()
    );
    gw.stop();
}

#[test]
fn unknown_format_is_a_config_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_siaga"))
        .arg("check-config")
        .arg("--config")
        .arg(crate_dir().join("config/siaga.toml"))
        .env("SIAGA__LOG__FORMAT", "xml")
        .output()
        .expect("run siaga");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("log.format"), "{err}");
}
