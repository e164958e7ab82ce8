//! The only socket code for SIP: UDP receive loops, TCP accept and per-connection framing.
//! Everything received becomes an [`Inbound`] for the endpoint driver; everything to send
//! goes through [`Outbound::send`], which only ever answers on the socket or connection a
//! peer used (the gateway never dials a host named in a message).

use super::conn_limit::{ConnTable, Deadline};
use super::framing::{Frame, StreamFramer};
use super::transaction::{Peer, Transport};
use dashmap::DashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Bytes that arrived from a peer.
#[derive(Debug)]
pub struct Inbound {
    /// Who sent them, over which transport.
    pub from: Peer,
    /// One datagram, or one frame cut from a stream.
    pub bytes: Vec<u8>,
}

/// Sends bytes to peers over the bound sockets and live TCP connections.
#[derive(Clone, Debug)]
pub struct Outbound {
    udp: Arc<Vec<Arc<UdpSocket>>>,
    tcp: Arc<DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    counters: Arc<TcpCounters>,
}

/// TCP admission counters (for metrics).
#[derive(Debug, Default)]
pub struct TcpCounters {
    /// Connections closed at accept: over the total cap.
    pub refused_total: AtomicU64,
    /// Connections closed at accept: over the per-source cap.
    pub refused_per_source: AtomicU64,
    /// Connections closed for sending no complete message in time.
    pub timed_out: AtomicU64,
}

impl Outbound {
    /// Sends to `to`. UDP goes out of the socket of the same address family; TCP only on a
    /// connection the peer opened. Failures are logged, never fatal.
    pub fn send(&self, to: Peer, bytes: Vec<u8>) {
        match to.transport {
            Transport::Udp => {
                let socket = self.udp.iter().find(|s| {
                    s.local_addr()
                        .is_ok_and(|a| a.is_ipv4() == to.addr.is_ipv4())
                });
                match socket {
                    Some(socket) => {
                        if let Err(err) = socket.try_send_to(&bytes, to.addr) {
                            debug!(peer = %to.addr, %err, "udp send failed");
                        }
                    }
                    None => debug!(peer = %to.addr, "no udp socket for this address family"),
                }
            }
            Transport::Tcp => match self.tcp.get(&to.addr) {
                Some(conn) => {
                    if conn.try_send(bytes).is_err() {
                        debug!(peer = %to.addr, "tcp connection queue full or closed");
                    }
                }
                None => debug!(peer = %to.addr, "no tcp connection to this peer"),
            },
        }
    }

    /// Live TCP connections.
    pub fn tcp_connections(&self) -> usize {
        self.tcp.len()
    }

    /// TCP admission counters.
    pub fn tcp_counters(&self) -> &TcpCounters {
        &self.counters
    }
}

/// Limits for the transport tasks.
#[derive(Debug, Clone)]
pub struct TransportSettings {
    /// Largest message accepted (UDP datagram or TCP frame).
    pub max_message_bytes: usize,
    /// A TCP connection quiet this long after its last complete message is closed.
    pub tcp_idle_timeout: std::time::Duration,
    /// A TCP connection without a complete message this long after opening (or with an
    /// unfinished message this long) is closed.
    pub tcp_first_message_timeout: std::time::Duration,
    /// SIP TCP connections at most (from the open-files budget).
    pub tcp_max_connections: usize,
    /// SIP TCP connections from one source IP at most.
    pub tcp_max_per_source: usize,
}

/// Starts receive tasks for the bound sockets. Returns the sender side for the driver.
pub fn start(
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    settings: TransportSettings,
    inbound: mpsc::Sender<Inbound>,
    shutdown: CancellationToken,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Outbound {
    let udp: Vec<Arc<UdpSocket>> = udp.into_iter().map(Arc::new).collect();
    let outbound = Outbound {
        udp: Arc::new(udp.clone()),
        tcp: Arc::new(DashMap::new()),
        counters: Arc::new(TcpCounters::default()),
    };
    for socket in udp {
        let (inbound, shutdown, max) = (
            inbound.clone(),
            shutdown.clone(),
            settings.max_message_bytes,
        );
        tasks.spawn(async move {
            tokio::select! {
                () = udp_loop(socket, max, inbound) => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
    for listener in tcp {
        let (inbound, shutdown, settings) = (inbound.clone(), shutdown.clone(), settings.clone());
        let connections = outbound.tcp.clone();
        let counters = outbound.counters.clone();
        tasks.spawn(async move {
            tokio::select! {
                () = accept_loop(listener, settings, inbound, connections, counters, shutdown.clone()) => {}
                () = shutdown.cancelled() => {}
            }
        });
    }
    outbound
}

async fn udp_loop(socket: Arc<UdpSocket>, max: usize, inbound: mpsc::Sender<Inbound>) {
    // One byte more than the cap tells an oversized datagram from one that fits exactly.
    let mut buffer = vec![0u8; max + 1];
    loop {
        let (len, addr) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(err) => {
                // ICMP port-unreachable surfaces here on some systems; keep serving.
                debug!(%err, "udp receive error");
                continue;
            }
        };
        if len > max {
            warn!(peer = %addr, len, "oversized datagram dropped");
            continue;
        }
        let from = Peer {
            transport: Transport::Udp,
            addr,
        };
        if inbound
            .send(Inbound {
                from,
                bytes: buffer[..len].to_vec(),
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    settings: TransportSettings,
    inbound: mpsc::Sender<Inbound>,
    connections: Arc<DashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    counters: Arc<TcpCounters>,
    shutdown: CancellationToken,
) {
    let table = Arc::new(Mutex::new(ConnTable::new(
        settings.tcp_max_connections,
        settings.tcp_max_per_source,
    )));
    let mut refusals = super::rate_limit::LogGate::new(10, std::time::Duration::from_secs(60));
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(%err, "tcp accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let admitted = table.lock().map_or(Ok(()), |mut t| t.admit(addr.ip()));
        if let Err(why) = admitted {
            let counter = match why {
                super::conn_limit::Refused::PerSource { .. } => &counters.refused_per_source,
                _ => &counters.refused_total,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            // Closed before anything is read: the descriptor is back at once.
            if let Some(suppressed) = refusals.allow(std::time::Instant::now()) {
                warn!(peer = %addr, %why, suppressed, "tcp connection refused");
            }
            drop(stream);
            continue;
        }
        let (tx, rx) = mpsc::channel(256);
        connections.insert(addr, tx);
        let (inbound, settings, connections, shutdown, table, counters) = (
            inbound.clone(),
            settings.clone(),
            connections.clone(),
            shutdown.clone(),
            table.clone(),
            counters.clone(),
        );
        tokio::spawn(async move {
            debug!(peer = %addr, "tcp connection opened");
            tokio::select! {
                timed_out = serve_connection(stream, addr, rx, settings, inbound) => {
                    if timed_out {
                        counters.timed_out.fetch_add(1, Ordering::Relaxed);
                    }
                }
                () = shutdown.cancelled() => {}
            }
            connections.remove(&addr);
            if let Ok(mut t) = table.lock() {
                t.release(addr.ip());
            }
            debug!(peer = %addr, "tcp connection closed");
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    settings: TransportSettings,
    inbound: mpsc::Sender<Inbound>,
) -> bool {
    let (mut reader, mut writer) = stream.into_split();
    let mut framer = StreamFramer::new(settings.max_message_bytes);
    let mut buffer = vec![0u8; 16 * 1024];
    let from = Peer {
        transport: Transport::Tcp,
        addr,
    };
    let mut deadline = Deadline::new(
        std::time::Instant::now(),
        settings.tcp_first_message_timeout,
        settings.tcp_idle_timeout,
    );
    loop {
        let due = tokio::time::Instant::from_std(deadline.due());
        tokio::select! {
            () = tokio::time::sleep_until(due) => {
                debug!(peer = %addr, "tcp connection closed: no complete message in time");
                return true;
            }
            read = reader.read(&mut buffer) => {
                let len = match read {
                    Ok(0) | Err(_) => return false,
                    Ok(len) => len,
                };
                let now = std::time::Instant::now();
                framer.push(&buffer[..len]);
                loop {
                    match framer.next_frame() {
                        Ok(None) => break,
                        Ok(Some(Frame::KeepAlive)) => {
                            deadline.on_keep_alive(now);
                            // RFC 5626 §3.5.1: answer a CRLFCRLF ping with a CRLF pong.
                            if writer.write_all(b"\r\n").await.is_err() {
                                return false;
                            }
                        }
                        Ok(Some(Frame::Message(bytes))) => {
                            deadline.on_message(now);
                            if inbound.send(Inbound { from, bytes }).await.is_err() {
                                return false;
                            }
                        }
                        Err(err) => {
                            warn!(peer = %addr, %err, "tcp framing error, closing");
                            return false;
                        }
                    }
                }
                deadline.on_bytes(now, framer.buffered() > 0);
            }
            out = outgoing.recv() => {
                let Some(bytes) = out else { return false };
                if writer.write_all(&bytes).await.is_err() {
                    return false;
                }
            }
        }
    }
}
