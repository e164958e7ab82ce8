//! Real sockets on 127.0.0.1: caller UDP socket ↔ siaga media relay ↔ seat UDP socket.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use siaga::config::MediaConfig;
use siaga::media::sdp::Direction;
use siaga::media::{Codec, CountingTap, Leg, MediaEngine, Negotiated};
use tokio::net::UdpSocket;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(2);

/// A block of 40 ports per engine, away from the ephemeral range; ports another process holds
/// are skipped by the allocator.
fn engine(tap: Arc<CountingTap>) -> MediaEngine {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let block = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = 20_000 + (std::process::id() % 50) as u16 * 200 + (block % 5) * 40;
    let cfg = MediaConfig {
        ip: "127.0.0.1".parse().unwrap(),
        rtp_port_min: base,
        rtp_port_max: base + 39,
        inactivity_timeout_s: 60,
    };
    // The trunk signals from loopback (as `trunk.allow` in config/siaga.toml), so the caller
    // leg may hear prompts before its first RTP.
    MediaEngine::with_trunk_networks(&cfg, tap, vec!["127.0.0.0/8".parse().unwrap()])
}

fn negotiated(remote: SocketAddr) -> Negotiated {
    Negotiated {
        codec: Codec::Pcmu,
        payload_type: 0,
        dtmf_payload_type: None,
        remote_rtp: Some(remote),
        direction: Direction::SendRecv,
    }
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..160).map(|i| (i as u16 + seq) as u8));
    p
}

async fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

async fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr, Instant)> {
    let mut buf = [0u8; 2048];
    let (n, from) = timeout(WAIT, sock.recv_from(&mut buf)).await.ok()?.ok()?;
    Some((buf[..n].to_vec(), from, Instant::now()))
}

async fn pump(from: &UdpSocket, to: SocketAddr, rx: &UdpSocket, ssrc: u32) -> usize {
    let mut got = 0;
    for seq in 0..50u16 {
        let packet = rtp(seq, ssrc);
        from.send_to(&packet, to).await.unwrap();
        let (bytes, _, _) = recv(rx).await.expect("relayed packet");
        assert_eq!(bytes, packet, "payload byte-identical");
        got += 1;
    }
    got
}

#[tokio::test]
async fn relays_50_packets_each_way_byte_identical() {
    let tap = Arc::new(CountingTap::default());
    let media = engine(tap.clone()).open("call-relay").await.unwrap();
    let (caller, seat) = (socket().await, socket().await);
    media.set_remote(Leg::Caller, &negotiated(caller.local_addr().unwrap()));
    media.set_remote(Leg::Seat, &negotiated(seat.local_addr().unwrap()));
    media.bridge();
    assert_eq!(pump(&caller, media.local(Leg::Caller), &seat, 1).await, 50);
    assert_eq!(pump(&seat, media.local(Leg::Seat), &caller, 2).await, 50);
    let stats = media.stats();
    assert_eq!((stats.caller.rx.packets, stats.seat.tx.packets), (50, 50));
    assert_eq!((stats.seat.rx.packets, stats.caller.tx.packets), (50, 50));
    assert_eq!((stats.caller.rx.lost, stats.seat.rx.lost), (0, 0));
    assert_eq!(tap.packets(), 50, "only the caller's packets are tapped");
    assert!(media.idle_for(Instant::now()) < WAIT);
    media.close().await;
}

#[tokio::test]
async fn latches_to_the_real_source_port() {
    let tap = Arc::new(CountingTap::default());
    let media = engine(tap).open("call-latch").await.unwrap();
    let (sdp_port, real, seat) = (socket().await, socket().await, socket().await);
    media.set_remote(Leg::Caller, &negotiated(sdp_port.local_addr().unwrap()));
    media.set_remote(Leg::Seat, &negotiated(seat.local_addr().unwrap()));
    media.bridge();
    real.send_to(&rtp(1, 7), media.local(Leg::Caller))
        .await
        .unwrap();
    recv(&seat).await.expect("caller audio reaches the seat");
    seat.send_to(&rtp(1, 8), media.local(Leg::Seat))
        .await
        .unwrap();
    let (_, from, _) = recv(&real)
        .await
        .expect("seat audio goes to the latched port");
    assert_eq!(
        from,
        media.local(Leg::Caller),
        "symmetric: sent from the caller leg's socket"
    );
    let stats = media.stats();
    assert!(stats.caller.latched);
    assert_eq!(stats.caller.remote_rtp, Some(real.local_addr().unwrap()));
    // Another IP may not latch (127.0.0.2 is loopback too on Linux).
    if let Ok(stranger) = UdpSocket::bind("127.0.0.2:0").await {
        stranger
            .send_to(&rtp(2, 9), media.local(Leg::Caller))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(media.stats().caller.rejected_packets, 1);
    }
    media.close().await;
}

#[tokio::test]
async fn prompt_is_paced_before_the_bridge_and_stops_after() {
    let tap = Arc::new(CountingTap::default());
    let media = engine(tap).open("call-prompt").await.unwrap();
    let (caller, seat) = (socket().await, socket().await);
    media.set_remote(Leg::Caller, &negotiated(caller.local_addr().unwrap()));
    media.set_remote(Leg::Seat, &negotiated(seat.local_addr().unwrap()));
    media.play(Leg::Caller, Arc::new(vec![0xFF; 8000]), true);
    let mut got = Vec::new();
    for _ in 0..25 {
        got.push(recv(&caller).await.expect("prompt packet"));
    }
    for pair in got.windows(2) {
        let (a, b) = (&pair[0].0, &pair[1].0);
        let seq = |p: &[u8]| u16::from_be_bytes([p[2], p[3]]);
        let ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        assert_eq!(seq(b), seq(a).wrapping_add(1));
        assert_eq!(ts(b), ts(a).wrapping_add(160));
        assert_eq!(b.len(), 172);
    }
    let span = got[24].2 - got[0].2;
    assert!(
        span >= Duration::from_millis(440) && span <= Duration::from_millis(560),
        "{span:?}"
    );
    media.bridge();
    // Drain what was in flight, then nothing more arrives.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut buf = [0u8; 2048];
    while caller.try_recv_from(&mut buf).is_ok() {}
    let quiet = timeout(Duration::from_millis(200), caller.recv_from(&mut buf)).await;
    assert!(quiet.is_err(), "no prompt after the bridge");
    media.close().await;
}

#[tokio::test]
async fn skipped_sequence_numbers_are_reported_as_loss() {
    let tap = Arc::new(CountingTap::default());
    let media = engine(tap.clone()).open("call-loss").await.unwrap();
    let caller = socket().await;
    media.set_remote(Leg::Caller, &negotiated(caller.local_addr().unwrap()));
    for seq in (0..50u16).filter(|s| s % 10 != 3) {
        caller
            .send_to(&rtp(seq, 5), media.local(Leg::Caller))
            .await
            .unwrap();
    }
    let deadline = Instant::now() + WAIT;
    while tap.packets() < 45 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = media.stats();
    assert_eq!(
        (stats.caller.rx.packets, stats.caller.rx.expected),
        (45, 50)
    );
    assert_eq!(stats.caller.rx.lost, 5);
    assert_eq!(stats.seat.tx.packets, 0, "not bridged: analysed only");
    media.close().await;
}

#[tokio::test]
async fn close_and_drop_free_the_ports() {
    let tap = Arc::new(CountingTap::default());
    let engine = engine(tap);
    let first = engine.open("a").await.unwrap();
    let second = engine.open("b").await.unwrap();
    assert_eq!(engine.active_calls(), 2);
    let port = first.local(Leg::Caller);
    first.close().await;
    assert_eq!(engine.active_calls(), 1);
    drop(second);
    let deadline = Instant::now() + WAIT;
    while engine.active_calls() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(engine.active_calls(), 0);
    // The port is free again: a plain socket can take it.
    std::net::UdpSocket::bind(port).expect("port released");
}

#[tokio::test]
async fn no_prompt_to_an_sdp_address_off_the_trunk_networks_before_its_rtp() {
    // Issue 10: the trunk is 127.0.0.1 only; the INVITE's SDP names 127.0.0.2.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 25_000
        + (std::process::id() % 50) as u16 * 100
        + NEXT.fetch_add(1, Ordering::Relaxed) % 2 * 40;
    let cfg = MediaConfig {
        ip: "127.0.0.1".parse().unwrap(),
        rtp_port_min: base,
        rtp_port_max: base + 39,
        inactivity_timeout_s: 60,
    };
    let trunk = vec!["127.0.0.1/32".parse().unwrap()];
    let media = MediaEngine::with_trunk_networks(&cfg, Arc::new(CountingTap::default()), trunk)
        .open("call-spray")
        .await
        .unwrap();
    let named = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    media.set_remote(Leg::Caller, &negotiated(named.local_addr().unwrap()));
    media.play(Leg::Caller, Arc::new(vec![0xFF; 8000]), true);
    let mut buf = [0u8; 2048];
    let quiet = timeout(Duration::from_millis(500), named.recv_from(&mut buf)).await;
    assert!(quiet.is_err(), "nothing before the caller's RTP");
    // Its first RTP latches; the prompt follows.
    named
        .send_to(&rtp(1, 7), media.local(Leg::Caller))
        .await
        .unwrap();
    assert!(recv(&named).await.is_some(), "prompt after latching");
    media.close().await;
}
