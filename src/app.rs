//! Wiring: binds sockets, builds the subsystems, runs until SIGINT/SIGTERM.
//!
//! For now it only waits for a signal; the real wiring replaces the body of [`run`].
use tokio::signal::unix::{signal, SignalKind};

use crate::config::Config;

/// Runs the gateway with `config` until SIGINT or SIGTERM, then returns.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Install the SIGTERM handler before announcing readiness so no signal is missed.
    let mut term = signal(SignalKind::terminate())?;
    tracing::info!(
        sip = %config.sip.listen,
        api = %config.api.listen,
        seats = config.seats.len(),
        "siaga started"
    );
    tokio::select! {
        res = tokio::signal::ctrl_c() => res?,
        _ = term.recv() => {}
    }
    tracing::info!("shutdown requested");
    Ok(())
}
