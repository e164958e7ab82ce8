//! Wiring: binds the sockets named in the configuration, builds the subsystems, runs them
//! until SIGINT/SIGTERM, then drains (STYLE.md habit 9).

use crate::config::Config;
use crate::gateway::b2bua::{CallSettings, Prompt, ScreeningSetup};
use crate::gateway::driver::{self, DriverSettings};
use crate::gateway::endpoint::{Endpoint, EndpointSettings, StaticSeat};
use crate::gateway::history::{HistoryReader, HISTORY_DEADLINE};
use crate::gateway::record_writer::RecordWriter;
use crate::gateway::verdict_tap::VerdictTap;
use crate::gateway::Handle;
use crate::media::MediaEngine;
use crate::routing::AcdSettings;
use crate::screening::{RepeatCallers, ScreeningTap};
use crate::sip::header::Uri;
use crate::sip::registrar::{Registrar, RegistrarSettings};
use crate::sip::transaction::{Peer, Transport};
use crate::sip::transaction::{Timers, TransactionLayer};
use crate::sip::transport::TransportSettings;
use crate::store::{CallStore, Timestamp};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
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
    RegistrarSettings::from_config(config)
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
            location: config.location.window(),
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

/// A prompt file; when it cannot be read (or is empty) the built-in recording of the same
/// prompt (logged): a 112 caller must hear something, and a bad path is never a reason to
/// refuse the call.
fn load_prompt(prompt: Prompt, key: &str, path: &std::path::Path) -> Arc<Vec<u8>> {
    let builtin = || Arc::new(crate::gateway::prompts::builtin(prompt).to_vec());
    match std::fs::read(path) {
        Ok(bytes) if !bytes.is_empty() => Arc::new(bytes),
        Ok(_) => {
            tracing::error!(key, path = %path.display(), "prompt file is empty: the built-in prompt plays");
            builtin()
        }
        Err(err) => {
            tracing::warn!(key, path = %path.display(), %err, "prompt file cannot be read: the built-in prompt plays");
            builtin()
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
    .map(|(prompt, key, path)| (prompt, Some(load_prompt(prompt, key, path))))
    .collect()
}

/// Opens the call store (creating its folder) and marks calls a previous run left in
/// progress as interrupted (a killed process loses no call record).
fn open_store(config: &Config) -> anyhow::Result<Arc<dyn CallStore>> {
    let store = crate::store::open(&config.store).with_context(|| {
        format!(
            "store ({:?} at {}): cannot open",
            config.store.backend,
            config.store.path.display()
        )
    })?;
    let interrupted = store
        .interrupt_unfinished(Timestamp::now())
        .context("store: marking unfinished calls")?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "calls in progress when siaga last stopped are marked interrupted"
        );
    }
    Ok(store)
}

/// Puts back the seat registrations the previous run saved (a store that keeps none, or a
/// failed read, only means seats register again: logged).
fn restore_registrations(endpoint: &mut Endpoint, store: &dyn CallStore) {
    match store.load_bindings() {
        Ok(stored) => {
            let now = std::time::Instant::now();
            let live = crate::gateway::registrations::from_stored(stored, now, Timestamp::now());
            if !live.is_empty() {
                info!(
                    bindings = live.len(),
                    "seat registrations restored from the store"
                );
            }
            endpoint.restore_bindings(now, live);
        }
        Err(err) => tracing::warn!(%err, "seat registrations not restored: seats register again"),
    }
}

/// Deletes screening audio past its retention (issue 8) at start and then hourly, off the
/// runtime's workers.
fn sweep_screening_audio(audio: crate::screening::audio::AudioStore, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.cancelled() => return,
            }
            let a = audio.clone();
            match tokio::task::spawn_blocking(move || a.sweep(std::time::SystemTime::now())).await {
                Ok(Ok(0)) | Err(_) => {}
                Ok(Ok(n)) => info!(deleted = n, "screening audio past its retention deleted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "screening audio sweep failed"),
            }
        }
    });
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
    start(config, shutdown).await?.wait().await
}

/// A started gateway: its [`Handle`] (commands and events) and the bound addresses.
pub struct Running {
    /// Commands in, events out.
    pub handle: Handle,
    /// The SIP addresses bound (port 0 resolved).
    pub sip: Vec<SocketAddr>,
    sip_task: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
    api: tokio::task::JoinHandle<()>,
    shutdown: CancellationToken,
}

impl Running {
    /// The token that stops this gateway.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until `shutdown` is cancelled, then for every task to drain.
    ///
    /// # Errors
    ///
    /// A task panicked.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.shutdown.cancelled().await;
        self.sip_task.await.context("SIP task failed")?;
        // The driver dropped its sender: the writer drains what is left, then ends.
        self.writer.await.context("call-record writer failed")?;
        self.api.await.context("API task failed")?;
        info!("stopped");
        Ok(())
    }
}

/// Binds the sockets, opens the store and starts the driver, the record writer and the API;
/// they run until `shutdown` is cancelled.
///
/// # Errors
///
/// A socket cannot be bound, the store cannot be opened, or the configuration names a
/// target that is not an IP address.
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<Running> {
    let store = open_store(&config)?;
    start_with_store(config, store, shutdown).await
}

/// [`start`] over a store the caller opened (tests use slow or failing stores).
///
/// # Errors
///
/// As [`start`], but the store is not opened here.
pub async fn start_with_store(
    config: Config,
    store: Arc<dyn CallStore>,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let budget = crate::sip::fd_budget::startup(&config);
    let sockets = SipSockets::bind(&config).await?;
    let local = sockets.local_addrs();
    let tap = Arc::new(ScreeningTap::new(Duration::from_millis(
        config.screening.min_speech_ms,
    )));
    sweep_screening_audio(config.screening.audio_store(), shutdown.clone());
    let screening = config.screening.enabled.then(|| ScreeningSetup {
        settings: config.screening.clone(),
        tap: tap.clone(),
        repeat: Arc::new(RepeatCallers::new()),
    });
    let (records, writer) = RecordWriter::start(store.clone(), config.store.record_queue);
    // The relay feeds the detectors through the verdict tap, which wakes the driver the
    // moment a screened call can be decided (no polling of the detectors).
    let (verdicts, screening_ready) = VerdictTap::new(tap.clone());
    let driver = DriverSettings {
        screening_ready: config.screening.enabled.then_some(screening_ready),
        registrations: Some(store.clone()),
        history: config.screening.enabled.then(|| {
            HistoryReader::new(
                store.clone(),
                config.screening.history_days,
                HISTORY_DEADLINE,
            )
        }),
        records,
        transport: TransportSettings {
            max_message_bytes: config.sip.max_message_bytes,
            tcp_idle_timeout: config.sip.tcp_idle_timeout(),
            tcp_first_message_timeout: config.sip.tcp_first_message_timeout(),
            tcp_max_connections: budget.sip_tcp,
            tcp_max_per_source: config.sip.tcp_max_per_source,
        },
        media: MediaEngine::with_trunk_networks(
            &config.media,
            Arc::new(verdicts),
            config.trunk.allow.clone(),
        ),
        prompts: load_prompts(&config),
        inactivity: config.media.inactivity_timeout(),
    };
    let (gateway, inbox) = Handle::channel();
    let mut endpoint = endpoint(&config, local.clone(), screening)?;
    restore_registrations(&mut endpoint, store.as_ref());
    let sip_task = tokio::spawn(driver::serve(
        endpoint,
        sockets.udp,
        sockets.tcp,
        driver,
        inbox,
        shutdown.clone(),
    ));
    let readiness = Arc::new(crate::api::ready::Readiness::new(&config));
    // The screening stage above is built before this line, the speech model's weights are
    // compiled in: loaded (a model that loads in the background sets the flag itself).
    readiness.set_screening_loaded(true);
    let metrics = Arc::new(crate::metrics::GatewayMetrics::default());
    tokio::spawn(Arc::clone(&metrics).follow(gateway.clone(), shutdown.clone()));
    let api = crate::api::start(
        &config,
        gateway.clone(),
        store,
        readiness,
        metrics,
        shutdown.clone(),
    )
    .await?;
    info!(sip = ?local, api = %config.api.listen, seats = config.seats.len(), "siaga started");
    Ok(Running {
        handle: gateway,
        sip: local,
        sip_task,
        writer,
        api,
        shutdown,
    })
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
