//! Wiring: binds the sockets named in the configuration, builds the subsystems, runs them
//! until SIGINT/SIGTERM, then drains (STYLE.md habit 9).

use crate::config::{Config, DigestAlgorithm};
use crate::sip::endpoint::{Endpoint, EndpointSettings};
use crate::sip::registrar::{Algorithm, Registrar, RegistrarSettings, SeatCredential};
use crate::sip::server::{self, Snapshot};
use crate::sip::transaction::{Timers, TransactionLayer};
use crate::sip::transport::TransportSettings;
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

/// Builds the SIP endpoint for the bound addresses.
pub fn endpoint(config: &Config, local: Vec<SocketAddr>) -> Endpoint {
    let trunk = config.trunk.clone();
    let settings = EndpointSettings {
        local,
        user_agent: config.sip.user_agent.clone(),
        trusted: Box::new(move |ip| trunk.is_trunk(ip)),
        rate_limit_per_s: config.sip.rate_limit_per_s,
        rate_limit_burst: config.sip.rate_limit_burst,
    };
    let timers = Timers {
        t1: config.sip.t1(),
        t2: config.sip.t2(),
        t4: config.sip.t4(),
    };
    Endpoint::new(
        settings,
        TransactionLayer::new(timers),
        Registrar::new(registrar_settings(config)),
    )
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Signal handlers first, so a signal right after the start line is never missed.
    let signals = Signals::install()?;
    let sockets = SipSockets::bind(&config).await?;
    let local = sockets.local_addrs();
    let shutdown = CancellationToken::new();
    let snapshot = Arc::new(Mutex::new(Snapshot::default()));
    let transport = TransportSettings {
        max_message_bytes: config.sip.max_message_bytes,
        tcp_idle_timeout: config.sip.tcp_idle_timeout(),
    };
    let sip = tokio::spawn(server::serve(
        endpoint(&config, local.clone()),
        sockets.udp,
        sockets.tcp,
        transport,
        snapshot,
        shutdown.clone(),
    ));
    info!(sip = ?local, api = %config.api.listen, seats = config.seats.len(), "siaga started");
    signals.wait().await;
    info!("shutting down");
    shutdown.cancel();
    sip.await.context("SIP task failed")?;
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
