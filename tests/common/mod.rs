//! Shared helpers for the real-peer tests (`tests/peers.rs`): free loopback ports, the gateway
//! binary under test, SIPp runs and a headless baresip seat.
//!
//! Everything talks to 127.0.0.1 only. Every process is started by the test itself, bounded in
//! time, and stopped by its PID (SIGTERM through `kill`, SIGKILL via [`Child::kill`] as a last
//! resort in `Drop`), never by name.

// Each integration-test file compiles this module on its own and uses a subset of it.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The only address the tests use.
pub(crate) const LOOPBACK: &str = "127.0.0.1";
/// Seat domain of the shipped `config/siaga.toml`.
pub(crate) const DOMAIN: &str = "siaga.local";
/// How long the gateway may take to answer OPTIONS after it was started.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the gateway may take to exit after SIGTERM.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The hint every missing-tool failure carries.
const INSTALL_HINT: &str =
    "run `bash scripts/install-test-peers.sh` (installs sip-tester and baresip; needs root)";

/// A port free for both UDP and TCP on 127.0.0.1, never handed out twice by this process.
pub(crate) fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    for _ in 0..1000 {
        let udp = UdpSocket::bind((LOOPBACK, 0)).expect("bind an ephemeral UDP port on 127.0.0.1");
        let port = udp.local_addr().expect("local address").port();
        // Not in the gateway's default RTP range (media.rtp_port_min..=max, 30000..=39999,
        // inside Linux's ephemeral range): gateways of tests running at the same time take
        // their RTP ports there, and SIPp exits at start when its media port (or the one two
        // above it) was taken in between.
        if (29_990..40_010).contains(&port) {
            continue;
        }
        if TcpListener::bind((LOOPBACK, port)).is_err() {
            continue;
        }
        if given.lock().expect("port set").insert(port) {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1 after 1000 tries");
}

/// The full path of `tool` in `PATH`, or a failure that says how to install it.
pub(crate) fn require_tool(tool: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{tool}` is not installed (not in PATH): {INSTALL_HINT}"))
}

/// Root of the crate (where `config/` and `fixtures/` are).
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of `fixtures/sipp/`, checked to exist.
pub(crate) fn sipp_scenario(name: &str) -> PathBuf {
    let p = crate_dir().join("fixtures/sipp").join(name);
    assert!(p.is_file(), "missing SIPp scenario {}", p.display());
    p
}

/// Waits up to `limit` for `child` to exit; `None` when it is still running.
fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().expect("try_wait") {
            Some(status) => return Some(status),
            None if Instant::now() >= deadline => return None,
            None => sleep(Duration::from_millis(50)),
        }
    }
}

/// SIGTERM to one PID this test started.
fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -TERM {pid} failed");
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Last `max` bytes of a log, for failure messages.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

// ---------------------------------------------------------------------------------------------
// The gateway under test

/// The program the tests start as the gateway.
struct GatewayBin {
    path: PathBuf,
    overridden: bool,
}

/// `env!("CARGO_BIN_EXE_siaga")`, unless `SIAGA_TEST_BIN` names another program with the same
/// command line (`scripts/selftest-peers.sh` uses it to check this harness against a mock).
fn gateway_bin() -> GatewayBin {
    match std::env::var_os("SIAGA_TEST_BIN") {
        Some(p) if !p.is_empty() => GatewayBin {
            path: PathBuf::from(p),
            overridden: true,
        },
        _ => GatewayBin {
            path: PathBuf::from(env!("CARGO_BIN_EXE_siaga")),
            overridden: false,
        },
    }
}

/// A running `siaga run` on 127.0.0.1 with its own ports and store, killed on drop.
pub(crate) struct Gateway {
    child: Option<Child>,
    /// SIP address (UDP and TCP).
    pub(crate) sip: SocketAddr,
    /// HTTP API address.
    pub(crate) api: SocketAddr,
    log: PathBuf,
    dir: TempDir,
}

impl Gateway {
    /// Starts the gateway binary with the shipped `config/siaga.toml` (its digest defaults
    /// too: real peers register with no override), free SIP and API ports, a store in a
    /// fresh temporary directory and `env`, and waits until it answers OPTIONS over UDP
    /// with 200.
    pub(crate) fn start(env: &[(&str, &str)]) -> Gateway {
        Self::start_config(&crate_dir().join("config/siaga.toml"), env)
    }

    /// Like [`Gateway::start`] with another configuration file.
    pub(crate) fn start_config(config: &Path, env: &[(&str, &str)]) -> Gateway {
        Self::start_limited(config, env, None)
    }

    /// Like [`Gateway::start`] with soft AND hard open-files limits of `nofile`: the gateway
    /// raises its soft limit to the hard one at start, so both are set to test the budget.
    pub(crate) fn start_nofile(env: &[(&str, &str)], nofile: u64) -> Gateway {
        Self::start_limited(&crate_dir().join("config/siaga.toml"), env, Some(nofile))
    }

    /// Like [`Gateway::start_config`], with soft and hard open-files limits of `nofile`
    /// (through util-linux `prlimit`, which execs the gateway: the PID stays the gateway's).
    pub(crate) fn start_limited(
        config: &Path,
        env: &[(&str, &str)],
        nofile: Option<u64>,
    ) -> Gateway {
        let dir = tempfile::Builder::new()
            .prefix("siaga-peers-")
            .tempdir()
            .expect("temporary directory");
        let sip: SocketAddr = format!("{LOOPBACK}:{}", free_port()).parse().expect("addr");
        let api: SocketAddr = format!("{LOOPBACK}:{}", free_port()).parse().expect("addr");
        let log = dir.path().join("siaga.log");
        let config = config.to_path_buf();
        let bin = gateway_bin();
        assert!(
            config.is_file() || bin.overridden,
            "missing {}",
            config.display()
        );

        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new(require_tool("prlimit"));
                c.arg(format!("--nofile={n}:{n}")).arg("--").arg(&bin.path);
                c
            }
            None => Command::new(&bin.path),
        };
        cmd.arg("run")
            .arg("--config")
            .arg(&config)
            .current_dir(dir.path())
            .env("SIAGA__SIP__LISTEN", sip.to_string())
            .env("SIAGA__API__LISTEN", api.to_string())
            .env("SIAGA__STORE__PATH", dir.path().join("siaga.sqlite"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).expect("gateway log"))
            .stderr(fs::File::create(dir.path().join("siaga.stderr")).expect("gateway log"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start the siaga binary");
        let mut gw = Gateway {
            child: Some(child),
            sip,
            api,
            log,
            dir,
        };
        gw.wait_ready();
        gw
    }

    /// stdout and stderr of the gateway so far.
    pub(crate) fn log(&self) -> String {
        format!(
            "--- siaga stdout ---\n{}\n--- siaga stderr ---\n{}",
            tail(&read_lossy(&self.log), 8000),
            tail(&read_lossy(&self.dir.path().join("siaga.stderr")), 8000)
        )
    }

    /// The gateway's temporary directory (store, logs).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends OPTIONS over UDP every 200 ms until a 200 comes back, for [`READY_TIMEOUT`].
    fn wait_ready(&mut self) {
        let sock = UdpSocket::bind((LOOPBACK, 0)).expect("probe socket");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let local = sock.local_addr().expect("local addr");
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut n = 0u32;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!(
                    "siaga exited before it was ready ({status})\n{}",
                    self.log()
                );
            }
            n += 1;
            let probe = options_request(self.sip, local, n);
            sock.send_to(probe.as_bytes(), self.sip)
                .expect("send OPTIONS");
            let mut buf = [0u8; 65535];
            if let Ok((len, from)) = sock.recv_from(&mut buf) {
                last = String::from_utf8_lossy(&buf[..len]).into_owned();
                if from == self.sip && last.starts_with("SIP/2.0 200") {
                    return;
                }
            }
        }
        panic!(
            "siaga did not answer OPTIONS on udp:{} with 200 within {READY_TIMEOUT:?} \
             (last answer: {last:?})\n{}",
            self.sip,
            self.log()
        );
    }

    /// Sends `signal` (a `kill` name such as `HUP`) to the gateway process, by its PID.
    pub(crate) fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("gateway running");
        let status = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL (a crash: no shutdown code runs), waits for the process to be gone.
    pub(crate) fn kill9(mut self) {
        let mut child = self.child.take().expect("gateway running");
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }

    /// SIGTERM, then asserts a clean exit (status 0) within [`STOP_TIMEOUT`].
    pub(crate) fn stop(mut self) {
        let mut child = self.child.take().expect("gateway running");
        sigterm(child.id());
        match wait_timeout(&mut child, STOP_TIMEOUT) {
            Some(status) => assert!(
                status.success(),
                "siaga exited with {status} after SIGTERM, expected 0\n{}",
                self.log()
            ),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "siaga still running {STOP_TIMEOUT:?} after SIGTERM\n{}",
                    self.log()
                );
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A minimal OPTIONS request from `local` to `to`, number `n` of the probe.
pub(crate) fn options_request(to: SocketAddr, local: SocketAddr, n: u32) -> String {
    format!(
        "OPTIONS sip:{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-siaga-probe-{n};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{LOOPBACK}>;tag=probe{n}\r\n\
         To: <sip:{to}>\r\n\
         Call-ID: siaga-probe-{n}-{}@{LOOPBACK}\r\n\
         CSeq: {n} OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        local.port()
    )
}

// ---------------------------------------------------------------------------------------------
// SIPp

/// One line of a SIPp injection file for the `fixtures/sipp/register_*.xml` scenarios:
/// user; domain; the credentials as a whole `[authentication]` keyword.
pub(crate) fn seat_line(user: &str, password: &str) -> String {
    format!("{user};{DOMAIN};[authentication username={user} password={password}]")
}

/// `seat1`..`seatN` with their shipped passwords `siaga-seatN`.
pub(crate) fn seat_lines(n: u32) -> Vec<String> {
    (1..=n)
        .map(|i| seat_line(&format!("seat{i}"), &format!("siaga-seat{i}")))
        .collect()
}

/// The outcome of one SIPp run.
pub(crate) struct SippRun {
    /// Exit code: 0 all calls succeeded, 1 some failed, 97/99 stopped early, 255 fatal.
    pub(crate) code: Option<i32>,
    /// Last row of `-trace_stat`, by column name (`SuccessfulCall(C)`, `FailedCall(C)`, ...).
    pub(crate) stats: HashMap<String, String>,
    /// `-trace_err` file and SIPp's own output.
    pub(crate) errors: String,
}

impl SippRun {
    fn count(&self, column: &str) -> u64 {
        self.stats
            .get(column)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
    pub(crate) fn successful(&self) -> u64 {
        self.count("SuccessfulCall(C)")
    }
    pub(crate) fn failed(&self) -> u64 {
        self.count("FailedCall(C)")
    }
    /// A readable summary for assertion messages.
    pub(crate) fn report(&self) -> String {
        let mut s = format!(
            "sipp exit code {:?}, successful calls {}, failed calls {}\n",
            self.code,
            self.successful(),
            self.failed()
        );
        let _ = write!(s, "--- sipp errors ---\n{}", tail(&self.errors, 6000));
        s
    }
    /// Asserts that SIPp exited 0 with `calls` successful calls and no failed one.
    pub(crate) fn assert_all_succeeded(&self, calls: u64, gw: &Gateway) {
        assert!(
            self.code == Some(0) && self.successful() == calls && self.failed() == 0,
            "expected {calls} successful SIPp calls\n{}\n{}",
            self.report(),
            gw.log()
        );
    }
}

/// Runs `sipp` with `scenario` against `target` over UDP: one call per injection line in
/// turn (`lines`, wrapping), `calls` calls at `rate` calls/s, bounded by `-timeout` and a
/// watchdog, from a free local port on 127.0.0.1.
pub(crate) fn run_sipp(
    target: SocketAddr,
    scenario: &str,
    lines: &[String],
    calls: u32,
    rate: u32,
    timeout: Duration,
) -> SippRun {
    let sipp = require_tool("sipp");
    let scenario = sipp_scenario(scenario);
    let dir = tempfile::Builder::new()
        .prefix("siaga-sipp-")
        .tempdir()
        .expect("temporary directory");
    let inf = dir.path().join("seats.csv");
    fs::write(&inf, format!("SEQUENTIAL\n{}\n", lines.join("\n"))).expect("write seats.csv");
    let stat = dir.path().join("stat.csv");
    let err = dir.path().join("errors.log");
    let out = dir.path().join("sipp.out");
    let secs = timeout.as_secs().max(1);
    let mut child = Command::new(sipp)
        .arg(target.to_string())
        .arg("-sf")
        .arg(&scenario)
        .arg("-inf")
        .arg(&inf)
        .args(["-t", "u1", "-i", LOOPBACK, "-bind_local"])
        .args(["-p", &free_port().to_string()])
        .args(["-cp", &free_port().to_string()])
        .args(["-m", &calls.to_string(), "-r", &rate.to_string()])
        .args(["-recv_timeout", "5000", "-nostdin"])
        .args(["-timeout", &format!("{secs}s"), "-timeout_error"])
        .args(["-trace_stat", "-fd", "1", "-stf"])
        .arg(&stat)
        .arg("-trace_err")
        .arg("-error_file")
        .arg(&err)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).expect("sipp output"))
        .stderr(Stdio::from(
            fs::File::options()
                .append(true)
                .open(&out)
                .expect("sipp output"),
        ))
        .spawn()
        .expect("start sipp");
    let status = match wait_timeout(&mut child, timeout + Duration::from_secs(10)) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sipp did not stop {:?} after its own -timeout\n{}",
                Duration::from_secs(10),
                tail(&read_lossy(&out), 4000)
            );
        }
    };
    SippRun {
        code: status.code(),
        stats: last_stat_row(&read_lossy(&stat)),
        errors: format!(
            "{}\n--- sipp output ---\n{}",
            read_lossy(&err),
            tail(&read_lossy(&out), 3000)
        ),
    }
}

/// The last row of a SIPp `-trace_stat` file (`;`-separated, header first).
fn last_stat_row(text: &str) -> HashMap<String, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .zip(last.split(';'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// baresip

/// A headless baresip user agent registering one seat, killed on drop.
pub(crate) struct Baresip {
    child: Option<Child>,
    /// Where baresip listens for SIP (UDP).
    pub(crate) sip: SocketAddr,
    log: PathBuf,
    dir: TempDir,
}

/// Writes a baresip configuration directory for one account and returns its path inside
/// `dir`: SIP on `listen` (UDP only), no audio device (aufile/ausine), no console module,
/// only the modules a registration needs; the account registers `user` at `registrar`
/// (the AOR's host is the registrar address, as a seat configured with the gateway's IP).
pub(crate) fn write_baresip_config(
    dir: &Path,
    listen: SocketAddr,
    registrar: SocketAddr,
    user: &str,
    password: &str,
    regint: u32,
) -> PathBuf {
    let conf = dir.join("baresip");
    fs::create_dir_all(&conf).expect("baresip config dir");
    let modules = ["/usr/lib/baresip/modules", "/usr/lib64/baresip/modules"]
        .into_iter()
        .find(|p| Path::new(p).join("account.so").is_file())
        .unwrap_or_else(|| {
            panic!("baresip modules not found in /usr/lib/baresip/modules: {INSTALL_HINT}")
        });
    let config = format!(
        "poll_method\t\tepoll\n\
         sip_listen\t\t{listen}\n\
         sip_transports\t\tudp\n\
         audio_player\t\taufile,/dev/null\n\
         audio_source\t\tausine,440\n\
         audio_alert\t\taufile,/dev/null\n\
         module_path\t\t{modules}\n\
         module\t\t\tg711.so\n\
         module\t\t\tausine.so\n\
         module\t\t\taufile.so\n\
         module_app\t\taccount.so\n"
    );
    fs::write(conf.join("config"), config).expect("baresip config");
    fs::write(
        conf.join("accounts"),
        format!("<sip:{user}@{registrar};transport=udp>;auth_pass={password};regint={regint}\n"),
    )
    .expect("baresip accounts");
    fs::write(conf.join("contacts"), "").expect("baresip contacts");
    conf
}

impl Baresip {
    /// Starts `baresip -f DIR` for `user` against `registrar`, stdin from /dev/null, with a
    /// hard limit of `-t 120` seconds.
    pub(crate) fn start(registrar: SocketAddr, user: &str, password: &str) -> Baresip {
        Self::spawn(registrar, user, password, false)
    }

    /// Like [`Baresip::start`], answering every call at once (`answermode=auto`), sending
    /// its sine tone as audio.
    pub(crate) fn start_answering(registrar: SocketAddr, user: &str, password: &str) -> Baresip {
        Self::spawn(registrar, user, password, true)
    }

    fn spawn(registrar: SocketAddr, user: &str, password: &str, answer: bool) -> Baresip {
        let baresip = require_tool("baresip");
        let dir = tempfile::Builder::new()
            .prefix("siaga-baresip-")
            .tempdir()
            .expect("temporary directory");
        let sip: SocketAddr = format!("{LOOPBACK}:{}", free_port()).parse().expect("addr");
        let conf = write_baresip_config(dir.path(), sip, registrar, user, password, 60);
        if answer {
            let accounts = conf.join("accounts");
            let line = read_lossy(&accounts);
            fs::write(&accounts, format!("{};answermode=auto\n", line.trim_end()))
                .expect("baresip accounts");
            // A call needs an 8 kHz source (ausine only does 48 kHz) and media on loopback
            // only (baresip would otherwise advertise eth0's address in its SDP).
            let wav = dir.path().join("tone.wav");
            write_tone_wav(&wav, 440.0, 20);
            let config = read_lossy(&conf.join("config")).replace(
                "audio_source\t\tausine,440\n",
                &format!(
                    "audio_source\t\taufile,{}\nnet_interface\t\t127.0.0.1\n",
                    wav.display()
                ),
            );
            fs::write(conf.join("config"), config).expect("baresip config");
        }
        let log = dir.path().join("baresip.log");
        let child = Command::new(baresip)
            .arg("-f")
            .arg(&conf)
            .args(["-t", "120"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).expect("baresip log"))
            .stderr(Stdio::from(
                fs::File::options()
                    .append(true)
                    .open(&log)
                    .expect("baresip log"),
            ))
            .spawn()
            .expect("start baresip");
        Baresip {
            child: Some(child),
            sip,
            log,
            dir,
        }
    }

    /// baresip's output so far.
    pub(crate) fn log(&self) -> String {
        read_lossy(&self.log)
    }

    /// Waits for baresip's "200 OK ... [N binding]" registration line; `Err` with the reason
    /// when baresip exits or `limit` passes first.
    pub(crate) fn wait_registered(&mut self, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| registered_line(l)) {
                return Ok(line.to_owned());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                return Err(format!("baresip exited ({status}) before registering"));
            }
            if Instant::now() >= deadline {
                return Err(format!("baresip did not register within {limit:?}"));
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM (baresip unregisters, then exits); returns its exit status.
    pub(crate) fn stop(mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        sigterm(child.id());
        let status = wait_timeout(&mut child, STOP_TIMEOUT);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        status
    }

    /// The configuration directory root.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// baresip's "seat2@127.0.0.1: {0/UDP/v4} 200 OK () [1 binding]": a 200 OK with at least one
/// binding listed by the registrar.
pub(crate) fn registered_line(line: &str) -> bool {
    let Some(at) = line.find(" 200 OK") else {
        return false;
    };
    let rest = &line[at..];
    let Some(open) = rest.rfind('[') else {
        return false;
    };
    let count: String = rest[open + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    rest[open..].contains(" binding") && count.parse::<u32>().is_ok_and(|n| n > 0)
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A mono 16-bit 8 kHz WAV file with `seconds` of a sine tone at `hz` (baresip's audio).
pub(crate) fn write_tone_wav(path: &Path, hz: f64, seconds: u32) {
    let samples = 8000 * seconds;
    let mut bytes = Vec::with_capacity(44 + 2 * samples as usize);
    let data_len = 2 * samples;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&8000u32.to_le_bytes());
    bytes.extend_from_slice(&16000u32.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..samples {
        let v = (f64::from(n) * hz * std::f64::consts::TAU / 8000.0).sin() * 8000.0;
        bytes.extend_from_slice(&(v as i16).to_le_bytes());
    }
    fs::write(path, bytes).expect("tone.wav");
}

/// A SIPp process started in its own temporary folder, where `fixtures` links to the crate's
/// (scenarios name `fixtures/audio/*.pcap` relative to the folder SIPp runs in), so every file
/// SIPp writes (error logs, statistics) stays out of the repository. Killed on drop.
pub(crate) struct Sipp {
    child: Child,
    out: PathBuf,
    dir: TempDir,
}

impl Sipp {
    /// Starts `sipp ARGS -nostdin -trace_err -error_file <dir>/errors.log` in the folder.
    pub(crate) fn spawn(args: &[String]) -> Sipp {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(crate_dir().join("fixtures"), dir.path().join("fixtures"))
            .expect("link fixtures into the SIPp folder");
        let out = dir.path().join("sipp.out");
        let child = Command::new(require_tool("sipp"))
            .args(args)
            .args(["-nostdin", "-trace_err", "-error_file"])
            .arg(dir.path().join("errors.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp");
        Sipp { child, out, dir }
    }

    /// [`Sipp::spawn`] with a command line split at white space.
    pub(crate) fn spawn_line(args: &str) -> Sipp {
        Sipp::spawn(
            &args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
    }

    /// The folder SIPp runs in (scenarios written there can be named by relative path).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Waits for the exit code (bounded; killed past `limit`), returns it with SIPp's
    /// output and, after an exit, its error log.
    pub(crate) fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = fs::read_to_string(&self.out).unwrap_or_default();
                out.push_str(&read_lossy(&self.dir.path().join("errors.log")));
                return (status.code(), out);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return (None, fs::read_to_string(&self.out).unwrap_or_default());
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET on loopback that must answer 200; the body.
pub(crate) fn http_get(api: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        api.port()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}
