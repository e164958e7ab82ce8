//! Wiring: binds the sockets named in the configuration, builds the subsystems, runs them
//! until SIGINT/SIGTERM, then drains (STYLE.md habit 9).

use crate::config::{Config, DigestAlgorithm};
use crate::media::MediaEngine;
use crate::routing::AcdSettings;
use crate::screening::{RepeatCallers, ScreeningTap};
use crate::sip::b2bua::{CallSettings, Prompt, ScreeningSetup};
use crate::sip::endpoint::{Endpoint, EndpointSettings, StaticSeat};
use crate::sip::header::Uri;
use crate::sip::records::RecordWriter;
use crate::sip::registrar::{Algorithm, Registrar, RegistrarSettings, SeatCredential};
use crate::sip::server::{self, Control, DriverSettings, Snapshot};
use crate::sip::transaction::{Peer, Transport};
use crate::sip::transaction::{Timers, TransactionLayer};
use crate::sip::transport::TransportSettings;
use crate::store::{CallStore, SqliteStore, Timestamp};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;
use tracing::info;

/// The bound SIP sockets, in the order of `sip.listen` then `sip.also_listen`.
pub struct SipSockets {
    /// One UDP socket per address.
    pub udp: Vec<UdpSocket>,
    /// One TCP listener per address.
    pub tcp: Vec<TcpListener>,
}

impl SipSockets {
    /// Binds UDP and TCP on every configured SIP address.
    pub async fn bind(config: &Config) -> anyhow::Result<SipSockets> {
        let mut sockets = SipSockets {
            udp: Vec::new(),
            tcp: Vec::new(),
        };
        for addr in config.sip.listen_addrs() {
            let udp = UdpSocket::bind(addr)
                .await
                .with_context(|| format!("sip.listen: cannot bind UDP {addr}"))?;
            grow_receive_buffer(&udp, addr);
            let tcp = TcpListener::bind(addr)
                .await
                .with_context(|| format!("sip.listen: cannot bind TCP {addr}"))?;
            sockets.udp.push(udp);
            sockets.tcp.push(tcp);
        }
        Ok(sockets)
    }

    /// The addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.udp
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }
}

/// Receive buffer asked for on each SIP UDP socket. The kernel default (208 KiB on Linux)
/// holds ~100 datagrams of the socket's truesize: a 50 ms pause of the driver at 2,000 calls/s
/// (~12,000 SIP messages/s) overflows it, and a lost 180/200 from a seat makes the seat leg
/// retransmit its INVITE. The kernel caps the request at `net.core.rmem_max`.
pub const SIP_UDP_RECV_BUFFER: usize = 4 << 20;

fn grow_receive_buffer(udp: &UdpSocket, addr: SocketAddr) {
    let sock = socket2::SockRef::from(udp);
    match sock.set_recv_buffer_size(SIP_UDP_RECV_BUFFER) {
        Ok(()) => {
            tracing::debug!(%addr, bytes = ?sock.recv_buffer_size().ok(), "SIP UDP receive buffer")
        }
        Err(err) => {
            tracing::warn!(%addr, %err, "SIP UDP receive buffer left at the system default")
        }
    }
}

/// Registrar settings from the configuration.
pub fn registrar_settings(config: &Config) -> RegistrarSettings {
    let r = &config.registrar;
    RegistrarSettings {
        realm: r.realm.clone(),
        domain: config.sip.domain.clone(),
        min_expires: Duration::from_secs(r.min_expires.into()),
        default_expires: Duration::from_secs(r.default_expires.into()),
        max_expires: Duration::from_secs(r.max_expires.into()),
        nonce_lifetime: r.nonce_lifetime(),
        algorithms: r
            .algorithms
            .iter()
            .map(|a| match a {
                DigestAlgorithm::Sha256 => Algorithm::Sha256,
                DigestAlgorithm::Md5 => Algorithm::Md5,
            })
            .collect(),
        lockout_failures: r.lockout_failures,
        lockout_window: r.lockout_window(),
        lockout_duration: r.lockout(),
        qualify_interval: r.qualify_interval(),
        qualify_misses: r.qualify_misses,
        seats: config
            .seats
            .iter()
            .map(|s| SeatCredential {
                name: s.name.clone(),
                password: s.password.expose().to_string(),
            })
            .collect(),
    }
}

/// Where a configured SIP URI is sent: its host must be an IP literal (siaga resolves no
/// names: it sends only to addresses the operator wrote down).
fn uri_target(uri: &str) -> Option<(String, Peer)> {
    let parsed = Uri::parse(uri, "contact").ok()?;
    let host = parsed.host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = host.parse().ok()?;
    let transport = match parsed.params.value("transport") {
        Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
        _ => Transport::Udp,
    };
    let addr = SocketAddr::new(ip, parsed.port.unwrap_or(5060));
    Some((uri.to_string(), Peer { transport, addr }))
}

/// Builds the SIP endpoint for the bound addresses; `screening` when callers are screened.
pub fn endpoint(
    config: &Config,
    local: Vec<SocketAddr>,
    screening: Option<ScreeningSetup>,
) -> anyhow::Result<Endpoint> {
    let trunk = config.trunk.clone();
    let mut seats = Vec::new();
    for (i, seat) in config.seats.iter().enumerate() {
        let target = if seat.contact.is_empty() {
            None
        } else {
            Some(uri_target(&seat.contact).with_context(|| {
                format!(
                    "seats[{i}].contact: {:?} must be a sip: URI with an IP address",
                    seat.contact
                )
            })?)
        };
        seats.push(StaticSeat {
            name: seat.name.clone(),
            target,
        });
    }
    let overflow = if config.routing.overflow.is_empty() {
        None
    } else {
        Some(uri_target(&config.routing.overflow).with_context(|| {
            format!(
                "routing.overflow: {:?} must be a sip: URI with an IP address",
                config.routing.overflow
            )
        })?)
    };
    let routing = &config.routing;
    let settings = EndpointSettings {
        local: local.clone(),
        user_agent: config.sip.user_agent.clone(),
        trusted: Box::new(move |ip| trunk.is_trunk(ip)),
        rate_limit_per_s: config.sip.rate_limit_per_s,
        rate_limit_burst: config.sip.rate_limit_burst,
        calls: CallSettings {
            emergency_numbers: routing.emergency_numbers.clone(),
            local: local[0],
            user_agent: config.sip.user_agent.clone(),
            domain: config.sip.domain.clone(),
            overflow: overflow.clone(),
            screening: screening.clone(),
        },
        acd: AcdSettings {
            ring_timeout: routing.ring_timeout(),
            wrap_up: routing.wrap_up(),
            max_wait: routing.max_wait(),
            ageing: routing.ageing(),
            no_answer_pause: routing.no_answer_pause,
            overflow_enabled: overflow.is_some(),
        },
        seats,
    };
    let timers = Timers {
        t1: config.sip.t1(),
        t2: config.sip.t2(),
        t4: config.sip.t4(),
    };
    Ok(Endpoint::new(
        std::time::Instant::now(),
        settings,
        TransactionLayer::new(timers),
        Registrar::new(registrar_settings(config)),
    ))
}

/// A prompt file, or `None` (logged) when it cannot be read: callers then hear silence
/// there, which is worse but never a reason to refuse a 112 call.
fn load_prompt(key: &str, path: &std::path::Path) -> Option<Arc<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) if !bytes.is_empty() => Some(Arc::new(bytes)),
        Ok(_) => {
            tracing::error!(key, path = %path.display(), "prompt file is empty");
            None
        }
        Err(err) => {
            tracing::error!(key, path = %path.display(), %err, "prompt file cannot be read");
            None
        }
    }
}

fn load_prompts(config: &Config) -> std::collections::HashMap<Prompt, Option<Arc<Vec<u8>>>> {
    let s = &config.screening;
    [
        (
            Prompt::Queue,
            "routing.queue_prompt",
            &config.routing.queue_prompt,
        ),
        (
            Prompt::Greeting,
            "screening.greeting_prompt",
            &s.greeting_prompt,
        ),
        (Prompt::Press5, "screening.press5_prompt", &s.press5_prompt),
    ]
    .into_iter()
    .map(|(prompt, key, path)| (prompt, load_prompt(key, path)))
    .collect()
}

/// Reads a caller's past dispositions from the store when a screened call starts. It runs
/// inside the SIP driver, so the read is wrapped in `block_in_place` (the runtime moves other
/// tasks off this worker meanwhile); a failed read is an empty history: screening fails open.
fn history_lookup(store: Arc<dyn CallStore>, days: u32) -> crate::sip::b2bua::HistoryLookup {
    Arc::new(move |number: &str| {
        let now = Timestamp::now();
        let since = Timestamp::from_ms(now.as_ms() - i64::from(days) * 86_400_000);
        tokio::task::block_in_place(|| store.caller_history(number, now, since)).unwrap_or_else(
            |err| {
                tracing::warn!(%err, "caller history unavailable: screening without it");
                Default::default()
            },
        )
    })
}

/// Opens the call store (creating its folder) and marks calls a previous run left in
/// progress as interrupted (a killed process loses no call record).
fn open_store(config: &Config) -> anyhow::Result<Arc<dyn CallStore>> {
    let path = &config.store.path;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("store.path: cannot create {}", dir.display()))?;
    }
    let store = SqliteStore::open(path, Duration::from_millis(config.store.busy_timeout_ms))
        .with_context(|| format!("store.path: cannot open {}", path.display()))?;
    let interrupted = store
        .interrupt_unfinished(Timestamp::now())
        .context("store: marking unfinished calls")?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "calls in progress when siaga last stopped are marked interrupted"
        );
    }
    Ok(Arc::new(store))
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Signal handlers first, so a signal right after the start line is never missed.
    let signals = Signals::install()?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        signals.wait().await;
        info!("shutting down");
        stop.cancel();
    });
    serve(config, shutdown).await
}

/// Runs the gateway until `shutdown` is cancelled (the demo and embedders use this).
pub async fn serve(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let sockets = SipSockets::bind(&config).await?;
    let local = sockets.local_addrs();
    let snapshot = Arc::new(Mutex::new(Snapshot::default()));
    let store = open_store(&config)?;
    let tap = Arc::new(ScreeningTap::new(Duration::from_millis(
        config.screening.min_speech_ms,
    )));
    let screening = config.screening.enabled.then(|| ScreeningSetup {
        settings: config.screening.clone(),
        tap: tap.clone(),
        repeat: Arc::new(RepeatCallers::new()),
        history: history_lookup(store.clone(), config.screening.history_days),
    });
    let (records, writer) = RecordWriter::start(store.clone());
    let driver = DriverSettings {
        records,
        transport: TransportSettings {
            max_message_bytes: config.sip.max_message_bytes,
            tcp_idle_timeout: config.sip.tcp_idle_timeout(),
        },
        media: MediaEngine::new(&config.media, tap.clone()),
        prompts: load_prompts(&config),
        inactivity: config.media.inactivity_timeout(),
    };
    let (control_tx, control_rx) = tokio::sync::mpsc::channel::<Control>(64);
    let endpoint = endpoint(&config, local.clone(), screening)?;
    let sip = tokio::spawn(server::serve(
        endpoint,
        sockets.udp,
        sockets.tcp,
        driver,
        snapshot.clone(),
        control_rx,
        shutdown.clone(),
    ));
    let readiness = Arc::new(crate::api::ready::Readiness::new(&config));
    // The screening stage above is built before this line: loaded (a model that loads in
    // the background sets the flag itself).
    readiness.set_screening_loaded(true);
    let api = crate::api::start(
        &config,
        snapshot,
        control_tx,
        store,
        readiness,
        shutdown.clone(),
    )
    .await?;
    info!(sip = ?local, api = %config.api.listen, seats = config.seats.len(), "siaga started");
    shutdown.cancelled().await;
    sip.await.context("SIP task failed")?;
    // The driver dropped its sender: the writer drains what is left, then ends.
    writer.await.context("call-record writer failed")?;
    api.await.context("API task failed")?;
    info!("stopped");
    Ok(())
}

struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).context("install SIGTERM handler")?,
            interrupt: signal(SignalKind::interrupt()).context("install SIGINT handler")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}
