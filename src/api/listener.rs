//! The HTTP accept loop: hyper's HTTP/1.1 server per connection, with the limits
//! `axum::serve` does not have (an idle socket must not cost a descriptor forever: with the
//! default soft limit of 1024 open files, 1,050 silent connections once starved the RTP
//! ports of every 112 call).
//!
//! - **Caps**: at most `max_connections` open, and `max_connections_per_source` per source
//!   address. When a cap is reached the connection idle longest (within the source for the
//!   per-source cap) is closed to make room; when none is idle the new one is closed at
//!   once. So a flood of idle sockets cannot keep `/health` or a supervisor out.
//! - **Idle timeout**: a connection with no request in progress for `idle_timeout` (from
//!   accept, or since its last answer) is closed. A request is "in progress" from its
//!   complete header on, so a client that sends no complete request header in that time —
//!   slowloris included — is closed too.
//! - **Request timeout**: a request still in progress after `request_timeout` (a body
//!   trickling in) closes its connection.
//! - **TLS** (when `[api] tls_cert` is set): the handshake runs inside the idle time, so a
//!   client that opens a socket and says nothing (or stalls mid-handshake) is closed after
//!   `idle_timeout` like a silent plain-HTTP one, and it counts as idle for the caps.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::tls::Certs;
use crate::config::ApiConfig;

/// How long requests in flight may finish after shutdown.
const DRAIN: Duration = Duration::from_secs(5);

/// Connection limits (from `[api]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per source address at most.
    pub max_per_source: usize,
    /// No request in progress for this long: closed.
    pub idle_timeout: Duration,
    /// One request in progress for this long: closed.
    pub request_timeout: Duration,
}

impl Limits {
    /// The limits of `[api]`.
    pub fn from_config(c: &ApiConfig) -> Limits {
        Limits {
            max_connections: c.max_connections,
            max_per_source: c.max_connections_per_source,
            idle_timeout: Duration::from_secs(c.idle_timeout_s),
            request_timeout: Duration::from_secs(c.request_timeout_s),
        }
    }
}

/// One open connection as the table sees it. Times are ms since the table's epoch.
#[derive(Debug)]
struct Conn {
    ip: IpAddr,
    in_flight: AtomicUsize,
    /// When it last became idle (accept, or the end of a request).
    idle_since: AtomicU64,
    /// When the current request began.
    busy_since: AtomicU64,
    close: CancellationToken,
}

impl Conn {
    fn idle_since(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::SeqCst) == 0).then(|| self.idle_since.load(Ordering::SeqCst))
    }
}

/// Every open connection, for the caps.
#[derive(Debug)]
struct Table {
    epoch: Instant,
    next_id: u64,
    conns: HashMap<u64, Arc<Conn>>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Table {
    fn ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes room for a connection from `ip` under `limits` and registers it, or `None`.
    fn admit(&mut self, ip: IpAddr, limits: &Limits, now: Instant) -> Option<(u64, Arc<Conn>)> {
        if self.per_ip.get(&ip).copied().unwrap_or(0) >= limits.max_per_source
            && !self.evict_idlest(Some(ip))
        {
            return None;
        }
        if self.conns.len() >= limits.max_connections && !self.evict_idlest(None) {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let t = self.ms(now);
        let conn = Arc::new(Conn {
            ip,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(t),
            busy_since: AtomicU64::new(t),
            close: CancellationToken::new(),
        });
        self.conns.insert(id, Arc::clone(&conn));
        *self.per_ip.entry(ip).or_insert(0) += 1;
        Some((id, conn))
    }

    /// Closes the connection idle longest (of `ip`, when given); false when none is idle.
    fn evict_idlest(&mut self, ip: Option<IpAddr>) -> bool {
        let idlest = (self.conns.iter())
            .filter(|(_, c)| ip.is_none_or(|ip| c.ip == ip))
            .filter_map(|(id, c)| c.idle_since().map(|t| (t, *id)))
            .min();
        match idlest {
            Some((_, id)) => {
                if let Some(c) = self.remove(id) {
                    c.close.cancel();
                }
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Conn>> {
        let c = self.conns.remove(&id)?;
        if let Some(n) = self.per_ip.get_mut(&c.ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&c.ip);
            }
        }
        Some(c)
    }
}

type Shared = Arc<Mutex<Table>>;

fn lock(t: &Shared) -> std::sync::MutexGuard<'_, Table> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves `router` on `listener` under `limits` until `shutdown`, then lets requests in
/// flight finish (for a few seconds).
///
/// # Errors
///
/// None today: accept errors (e.g. out of descriptors) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Certs>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, scheme, ?limits, "HTTP API listening");
    }
    let table: Shared = Arc::new(Mutex::new(Table {
        epoch: Instant::now(),
        next_id: 0,
        conns: HashMap::new(),
        per_ip: HashMap::new(),
    }));
    let service = TowerToHyperService::new(router);
    let tasks = TaskTracker::new();
    let mut refused: u64 = 0;
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE/ENFILE: the backlog keeps the connection; wait for descriptors.
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let admitted = lock(&table).admit(peer.ip(), &limits, Instant::now());
        let Some((id, conn)) = admitted else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, "HTTP connection refused: caps reached, none idle");
            }
            drop(stream);
            continue;
        };
        let (table, service, shutdown) = (Arc::clone(&table), service.clone(), shutdown.clone());
        let tls = tls.clone();
        tasks.spawn(async move {
            match tls {
                None => serve_one(stream, peer, service, &conn, &table, limits, &shutdown).await,
                Some(certs) => {
                    let tls = handshake(stream, peer, &certs, &conn, limits, &shutdown).await;
                    if let Some(tls) = tls {
                        serve_one(tls, peer, service, &conn, &table, limits, &shutdown).await;
                    }
                }
            }
            lock(&table).remove(id);
        });
    }
    tasks.close();
    if tokio::time::timeout(DRAIN, tasks.wait()).await.is_err() {
        tracing::warn!("HTTP API: requests still running after shutdown; dropped");
    }
    Ok(())
}

/// Counts a request in progress for as long as it lives.
struct InFlight {
    conn: Arc<Conn>,
    table: Shared,
}

impl InFlight {
    fn begin(conn: &Arc<Conn>, table: &Shared) -> InFlight {
        let t = lock(table).ms(Instant::now());
        if conn.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            conn.busy_since.store(t, Ordering::SeqCst);
        }
        InFlight {
            conn: Arc::clone(conn),
            table: Arc::clone(table),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let t = lock(&self.table).ms(Instant::now());
        self.conn.idle_since.store(t, Ordering::SeqCst);
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The TLS handshake within the idle time (the connection is idle for the caps while it
/// runs, so it can be evicted); `None` when it failed, stalled or was cut short.
async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    certs: &Certs,
    conn: &Conn,
    limits: Limits,
    shutdown: &CancellationToken,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let accept = certs.acceptor().accept(stream);
    let done = tokio::select! {
        r = tokio::time::timeout(limits.idle_timeout, accept) => r,
        () = conn.close.cancelled() => return None,
        () = shutdown.cancelled() => return None,
    };
    match done {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake not done within the idle time; closed");
            None
        }
    }
}

async fn serve_one<S>(
    stream: S,
    peer: SocketAddr,
    service: TowerToHyperService<Router>,
    conn: &Arc<Conn>,
    table: &Shared,
    limits: Limits,
    shutdown: &CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (svc_conn, svc_table) = (Arc::clone(conn), Arc::clone(table));
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let guard = InFlight::begin(&svc_conn, &svc_table);
        let fut = service.call(req);
        async move {
            let r = fut.await;
            drop(guard);
            r
        }
    });
    let http = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(http);
    let tick = (limits.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut ticker = tokio::time::interval(tick);
    let mut draining = false;
    loop {
        tokio::select! {
            r = http.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            () = conn.close.cancelled() => {
                tracing::debug!(%peer, "HTTP connection closed to make room");
                return;
            }
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                http.as_mut().graceful_shutdown();
            }
            _ = ticker.tick() => {
                let now = lock(table).ms(Instant::now());
                let overdue = |since: u64, limit: Duration| {
                    u128::from(now.saturating_sub(since)) >= limit.as_millis()
                };
                let busy = conn.in_flight.load(Ordering::SeqCst) > 0;
                if !busy && overdue(conn.idle_since.load(Ordering::SeqCst), limits.idle_timeout) {
                    tracing::debug!(%peer, "HTTP connection idle too long; closed");
                    return;
                }
                if busy && overdue(conn.busy_since.load(Ordering::SeqCst), limits.request_timeout) {
                    tracing::info!(%peer, "HTTP request took too long; connection closed");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            epoch: Instant::now(),
            next_id: 0,
            conns: HashMap::new(),
            per_ip: HashMap::new(),
        }
    }

    const LIMITS: Limits = Limits {
        max_connections: 3,
        max_per_source: 2,
        idle_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(60),
    };

    #[test]
    fn per_source_cap_evicts_the_idlest_of_that_source() {
        let mut t = table();
        let now = t.epoch;
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let (_, first) = t.admit(a, &LIMITS, now).unwrap();
        let (_, second) = t.admit(a, &LIMITS, now + Duration::from_secs(1)).unwrap();
        second.idle_since.store(1000, Ordering::SeqCst);
        let (_, other) = t.admit(b, &LIMITS, now).unwrap();
        // A third from `a`: its idlest (`first`) goes, `b`'s stays.
        assert!(t.admit(a, &LIMITS, now + Duration::from_secs(2)).is_some());
        assert!(first.close.is_cancelled());
        assert!(!other.close.is_cancelled() && !second.close.is_cancelled());
        assert_eq!(t.per_ip[&a], 2);
    }

    #[test]
    fn busy_connections_are_never_evicted() {
        let mut t = table();
        let now = t.epoch;
        let ips: Vec<IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let conns: Vec<_> = ips
            .iter()
            .map(|ip| t.admit(*ip, &LIMITS, now).unwrap().1)
            .collect();
        for c in &conns {
            c.in_flight.store(1, Ordering::SeqCst);
        }
        assert!(t
            .admit("127.0.0.5".parse().unwrap(), &LIMITS, now)
            .is_none());
        conns[1].in_flight.store(0, Ordering::SeqCst);
        assert!(t
            .admit("127.0.0.5".parse().unwrap(), &LIMITS, now)
            .is_some());
        assert!(conns[1].close.is_cancelled());
        assert_eq!(t.conns.len(), 3);
    }
}
