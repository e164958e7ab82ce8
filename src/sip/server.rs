//! The async driver: moves bytes between the sockets and the sans-IO [`Endpoint`], and
//! sleeps until the endpoint's next timer. One task owns the endpoint (STYLE.md habit 8).

use super::endpoint::{Endpoint, EndpointStats};
use super::transport::{self, Inbound, TransportSettings};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A read-only snapshot the HTTP API and tests can look at.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Endpoint counters.
    pub stats: EndpointStats,
    /// Live transactions.
    pub transactions: usize,
    /// Seats and their registration state.
    pub seats: Vec<super::registrar::SeatStatus>,
}

/// Serves SIP on the bound sockets until `shutdown` is cancelled.
pub async fn serve(
    mut endpoint: Endpoint,
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    settings: TransportSettings,
    snapshot: Arc<Mutex<Snapshot>>,
    shutdown: CancellationToken,
) {
    let mut tasks = JoinSet::new();
    let (tx, mut rx) = mpsc::channel::<Inbound>(4096);
    let outbound = transport::start(udp, tcp, settings, tx, shutdown.clone(), &mut tasks);
    let mut last_snapshot = Instant::now();
    loop {
        // Wake at the endpoint's next timer, or once a second to refresh the snapshot.
        let wake = endpoint
            .poll_timeout()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1))
            .min(Instant::now() + Duration::from_secs(1));
        tokio::select! {
            () = shutdown.cancelled() => break,
            inbound = rx.recv() => {
                let Some(first) = inbound else { break };
                let now = std::time::Instant::now();
                endpoint.handle_bytes(now, first.from, &first.bytes);
                // Drain what is already queued before sending, to batch under load.
                for _ in 0..256 {
                    match rx.try_recv() {
                        Ok(more) => endpoint.handle_bytes(now, more.from, &more.bytes),
                        Err(_) => break,
                    }
                }
            }
            () = tokio::time::sleep_until(wake) => {
                endpoint.handle_timeout(std::time::Instant::now());
            }
        }
        // Under steady load the inbound branch always wins: fire due timers here too.
        let now = std::time::Instant::now();
        if endpoint.poll_timeout().is_some_and(|due| due <= now) {
            endpoint.handle_timeout(now);
        }
        while let Some((to, bytes)) = endpoint.poll_transmit() {
            outbound.send(to, bytes);
        }
        if last_snapshot.elapsed() >= Duration::from_millis(200) {
            last_snapshot = Instant::now();
            let now = std::time::Instant::now();
            if let Ok(mut snap) = snapshot.lock() {
                snap.stats = endpoint.stats().clone();
                snap.transactions = endpoint.transactions();
                snap.seats = endpoint.registrar().seats(now);
            }
        }
    }
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
}
