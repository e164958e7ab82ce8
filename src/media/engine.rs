//! The thin tokio shell: binds each call's four UDP sockets (RTP + RTCP for leg A and leg B)
//! and runs one task per call that moves datagrams between them and the pure [`Relay`].
//!
//! Shared state is one `std::sync::Mutex<Relay>` per call, locked for the length of one
//! `on_packet`/`poll_playback` call and never across an `.await` (STYLE.md habit 8); the
//! handle reads statistics through it and sends wake-ups and `Close` over an mpsc.
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use super::playback::RtpIdentity;
use super::ports::{PortAllocator, PortError};
use super::relay::{Channel, Leg, Relay};
use super::sdp::Negotiated;
use super::stats::CallMediaStats;
use super::tap::CallerAudioTap;
use crate::config::MediaConfig;

/// Largest datagram read; G.711 20 ms packets are 172 bytes.
const RECV_BUFFER: usize = 2048;

/// Why media for a call could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The port pool is empty or exhausted.
    #[error(transparent)]
    Ports(#[from] PortError),
    /// No free pair could be bound: every port tried is taken by another process, or the
    /// error is not about the port (e.g. no file descriptor left) and no other port would do.
    #[error("cannot bind RTP/RTCP on {ip} after {tried} port pairs: {source}")]
    Bind {
        /// The media address.
        ip: IpAddr,
        /// Pairs tried.
        tried: usize,
        /// The last bind error.
        #[source]
        source: io::Error,
    },
}

/// Opens media for calls. Cheap to clone.
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    ip: IpAddr,
    ports: Mutex<Result<PortAllocator, PortError>>,
    tap: Arc<dyn CallerAudioTap>,
    active: AtomicUsize,
    /// `trunk.allow`: where the caller leg may be sent to before its first RTP.
    trunk_networks: Arc<[crate::config::Cidr]>,
}

impl std::fmt::Debug for MediaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaEngine")
            .field("ip", &self.inner.ip)
            .field("active", &self.active_calls())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MediaEngine {
    /// An engine over `[media]`'s address and port range; `tap` sees the caller's audio.
    pub fn new(cfg: &MediaConfig, tap: Arc<dyn CallerAudioTap>) -> MediaEngine {
        Self::with_trunk_networks(cfg, tap, Vec::new())
    }

    /// Like [`MediaEngine::new`]; the caller leg sends to its SDP address before the
    /// caller's first RTP only when that address is inside `trunk_networks` (the trunk's
    /// signalling networks, `trunk.allow`); elsewhere it waits for RTP to latch.
    pub fn with_trunk_networks(
        cfg: &MediaConfig,
        tap: Arc<dyn CallerAudioTap>,
        trunk_networks: Vec<crate::config::Cidr>,
    ) -> MediaEngine {
        let ports = PortAllocator::new(cfg.rtp_port_min, cfg.rtp_port_max);
        MediaEngine {
            inner: Arc::new(EngineInner {
                ip: cfg.ip,
                ports: Mutex::new(ports),
                tap,
                active: AtomicUsize::new(0),
                trunk_networks: Arc::from(trunk_networks),
            }),
        }
    }

    /// Allocates and binds RTP+RTCP for both legs (caller A, seat B) of one call, spawns its
    /// relay task.
    pub async fn open(&self, call_id: &str) -> Result<CallMedia, MediaError> {
        let caller = self.bind_pair().await?;
        let seat = self.bind_pair().await?;
        let local = [caller.local, seat.local];
        let ids = [random_identity(), random_identity()];
        let mut relay = Relay::new(call_id, self.inner.tap.clone(), local, ids, Instant::now());
        relay.set_trunk_networks(self.inner.trunk_networks.clone());
        let relay = Arc::new(Mutex::new(relay));
        let (cmds, rx) = mpsc::unbounded_channel();
        self.inner.active.fetch_add(1, Ordering::Relaxed);
        let active = ActiveGuard(self.inner.clone());
        let span = tracing::debug_span!("media", call_id = %call_id);
        let task = CallTask {
            relay: relay.clone(),
            legs: [caller, seat],
            cmds: rx,
            _active: active,
        };
        let task = tokio::spawn(task.run().instrument(span));
        Ok(CallMedia {
            local,
            relay,
            cmds,
            task: Some(task),
        })
    }

    /// Calls with media open now.
    pub fn active_calls(&self) -> usize {
        self.inner.active.load(Ordering::Relaxed)
    }

    /// Binds the next free even port and its RTCP port; ports another process holds are
    /// reported to the pool and skipped.
    async fn bind_pair(&self) -> Result<LegSockets, MediaError> {
        let ip = self.inner.ip;
        let capacity = lock(&self.inner.ports).as_ref().map_or(0, |p| p.capacity());
        let mut last_error = None;
        for tried in 0..capacity {
            let port = match lock(&self.inner.ports).as_mut() {
                Ok(pool) => pool.allocate()?,
                Err(err) => return Err((*err).into()),
            };
            match bind_both(ip, port).await {
                Ok((rtp, rtcp)) => {
                    let local = SocketAddr::new(ip, port);
                    let lease = PortLease(self.inner.clone(), port);
                    return Ok(LegSockets {
                        rtp,
                        rtcp,
                        local,
                        _lease: lease,
                    });
                }
                Err(err) => {
                    if let Ok(pool) = lock(&self.inner.ports).as_mut() {
                        pool.bind_failed(port);
                    }
                    tracing::debug!(port, tried, %err, "RTP port pair not bindable");
                    if !port_specific(&err) {
                        // Out of file descriptors or buffers: every other port fails the same
                        // way, and trying them all would stall the caller for thousands of
                        // system calls.
                        return Err(MediaError::Bind {
                            ip,
                            tried: tried + 1,
                            source: err,
                        });
                    }
                    last_error = Some(err);
                }
            }
        }
        Err(match last_error {
            Some(source) => MediaError::Bind {
                ip,
                tried: capacity,
                source,
            },
            None => PortError::Exhausted { pairs: capacity }.into(),
        })
    }
}

/// Whether a bind error is about that port (taken, or not ours to use), so another port may
/// still bind.
fn port_specific(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
    )
}

async fn bind_both(ip: IpAddr, port: u16) -> io::Result<(UdpSocket, UdpSocket)> {
    let rtp = UdpSocket::bind((ip, port)).await?;
    let rtcp = UdpSocket::bind((ip, port.wrapping_add(1))).await?;
    Ok((rtp, rtcp))
}

/// RFC 3550 §5.1: SSRC, sequence number and timestamp start random.
fn random_identity() -> RtpIdentity {
    RtpIdentity {
        ssrc: rand::random(),
        sequence: rand::random(),
        timestamp: rand::random(),
    }
}

/// Gives the port pair back to the pool when the leg's sockets are gone.
struct PortLease(Arc<EngineInner>, u16);

impl Drop for PortLease {
    fn drop(&mut self) {
        if let Ok(pool) = lock(&self.0.ports).as_mut() {
            pool.release(self.1);
        }
    }
}

struct ActiveGuard(Arc<EngineInner>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One leg's sockets; fields drop in order, so the sockets close before the lease returns.
struct LegSockets {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    local: SocketAddr,
    _lease: PortLease,
}

impl LegSockets {
    fn socket(&self, channel: Channel) -> &UdpSocket {
        match channel {
            Channel::Rtp => &self.rtp,
            Channel::Rtcp => &self.rtcp,
        }
    }
}

#[derive(Debug)]
enum Command {
    /// Relay state changed (prompt started): recompute the playback deadline.
    Wake,
    Close,
}

struct CallTask {
    relay: Arc<Mutex<Relay>>,
    legs: [LegSockets; 2],
    cmds: mpsc::UnboundedReceiver<Command>,
    _active: ActiveGuard,
}

impl CallTask {
    async fn run(mut self) {
        let mut bufs = vec![[0u8; RECV_BUFFER]; 4];
        let [a_rtp, a_rtcp, b_rtp, b_rtcp] = bufs.as_mut_slice() else {
            return;
        };
        loop {
            let deadline = lock(&self.relay).poll_timeout();
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(
                deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
            ));
            let [caller, seat] = &self.legs;
            let (leg, channel, result, buf) = tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(Command::Wake) => continue,
                    Some(Command::Close) | None => break,
                },
                r = caller.rtp.recv_from(a_rtp) => (Leg::Caller, Channel::Rtp, r, &*a_rtp),
                r = caller.rtcp.recv_from(a_rtcp) => (Leg::Caller, Channel::Rtcp, r, &*a_rtcp),
                r = seat.rtp.recv_from(b_rtp) => (Leg::Seat, Channel::Rtp, r, &*b_rtp),
                r = seat.rtcp.recv_from(b_rtcp) => (Leg::Seat, Channel::Rtcp, r, &*b_rtcp),
                () = sleep, if deadline.is_some() => {
                    self.play_due();
                    continue;
                }
            };
            if let Ok((len, from)) = result {
                self.relay_datagram(leg, channel, from, buf.get(..len).unwrap_or_default());
            }
        }
        tracing::debug!("media task ends");
    }

    fn relay_datagram(&self, leg: Leg, channel: Channel, from: SocketAddr, bytes: &[u8]) {
        let forwards = lock(&self.relay).on_packet(Instant::now(), leg, channel, from, bytes);
        for f in forwards {
            let socket = self.legs[f.leg as usize].socket(f.channel);
            if let Err(err) = socket.try_send_to(bytes, f.to) {
                tracing::trace!(%err, to = %f.to, "RTP send failed");
            }
        }
    }

    fn play_due(&self) {
        let packets = lock(&self.relay).poll_playback(Instant::now());
        for t in packets {
            let socket = &self.legs[t.leg as usize].rtp;
            if let Err(err) = socket.try_send_to(&t.bytes, t.to) {
                tracing::trace!(%err, to = %t.to, "prompt send failed");
            }
        }
    }
}

/// The media of one call, owned by the call; dropping it (or [`CallMedia::close`]) stops the
/// relay task and frees the ports.
#[derive(Debug)]
pub struct CallMedia {
    local: [SocketAddr; 2],
    relay: Arc<Mutex<Relay>>,
    cmds: mpsc::UnboundedSender<Command>,
    task: Option<JoinHandle<()>>,
}

impl CallMedia {
    /// Our RTP address for `leg`, to put in the SDP for that leg.
    pub fn local(&self, leg: Leg) -> SocketAddr {
        self.local[leg as usize]
    }

    /// Applies the offer/answer result of `leg` (again on every re-INVITE).
    pub fn set_remote(&self, leg: Leg, negotiated: &Negotiated) {
        lock(&self.relay).set_remote(leg, negotiated);
    }

    /// Relays A↔B from now on (stops playback).
    pub fn bridge(&self) {
        lock(&self.relay).bridge();
        let _ = self.cmds.send(Command::Wake);
    }

    /// Stops relaying, e.g. the seat leg failed: the caller goes back to the prompt.
    pub fn unbridge(&self) {
        lock(&self.relay).unbridge();
    }

    /// Plays µ-law `audio` to `leg` (A-law when the leg negotiated PCMA); ignored while bridged.
    pub fn play(&self, leg: Leg, audio: Arc<Vec<u8>>, looped: bool) {
        lock(&self.relay).play(leg, audio, looped, Instant::now());
        let _ = self.cmds.send(Command::Wake);
    }

    /// Stops the prompt on `leg`.
    pub fn stop_playback(&self, leg: Leg) {
        lock(&self.relay).stop_playback(leg);
    }

    /// Per leg and direction: packets, bytes, loss, jitter, time since the last packet.
    pub fn stats(&self) -> CallMediaStats {
        lock(&self.relay).stats(Instant::now())
    }

    /// Time since the last RTP on either leg (dead-call detection).
    pub fn idle_for(&self, now: Instant) -> Duration {
        lock(&self.relay).idle_for(now)
    }

    /// Stops the relay task and waits until its sockets are closed and ports freed.
    pub async fn close(mut self) {
        let _ = self.cmds.send(Command::Close);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::port_specific;
    use std::io;

    #[test]
    fn only_port_errors_move_on_to_the_next_port() {
        assert!(port_specific(&io::ErrorKind::AddrInUse.into()));
        assert!(port_specific(&io::ErrorKind::PermissionDenied.into()));
        // EMFILE, ENFILE (Linux): no descriptor for any port.
        assert!(!port_specific(&io::Error::from_raw_os_error(24)));
        assert!(!port_specific(&io::Error::from_raw_os_error(23)));
        assert!(!port_specific(&io::ErrorKind::AddrNotAvailable.into()));
    }
}
