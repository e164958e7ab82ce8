//! Media relay load: N bridged calls on 127.0.0.1, each with one caller→seat stream of
//! 50 packets/s (PCMU 20 ms, 172-byte datagrams), through `MediaEngine`.
//!
//! Prints per N: packets sent/received, one-way latency p50/p99 (send timestamp in the
//! payload, so it includes the load generator and the kernel), the relay runtime's CPU
//! (its 2 worker threads only, from /proc/self/task) and RSS per call.
//! Not in CI. Run: `cargo bench --bench media_relay [-- 100 500 1000 2000]`.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use siaga::config::MediaConfig;
use siaga::media::sdp::Direction;
use siaga::media::{CallMedia, Codec, Leg, MediaEngine, Negotiated, NoTap};
use tokio::net::UdpSocket;

const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
const SLOTS: usize = 20; // one sender tick a millisecond, each stream every 20 ms

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: the load is for
    // `cargo bench` only, so a test run just checks that the target builds.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "benchmark: run with `cargo bench --bench {}`",
            env!("CARGO_CRATE_NAME")
        );
        return;
    }
    let levels: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let levels = if levels.is_empty() {
        vec![100, 500, 1000, 2000]
    } else {
        levels
    };
    let relay_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("relay")
        .enable_all()
        .build()
        .expect("relay runtime");
    let gen_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gen")
        .enable_all()
        .build()
        .expect("generator runtime");
    let cfg = MediaConfig {
        ip: "127.0.0.1".parse().expect("ip"),
        rtp_port_min: 20_000,
        rtp_port_max: 29_999,
        inactivity_timeout_s: 60,
    };
    // The trunk signals from loopback, as in config/siaga.toml.
    let trunk = vec!["127.0.0.0/8".parse().expect("cidr")];
    let engine = MediaEngine::with_trunk_networks(&cfg, Arc::new(NoTap), trunk);
    println!("| calls | pkts sent | pkts recv | loss % | p50 µs | p99 µs | max µs | relay CPU % | RSS/call KiB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in levels {
        let row = run_level(&relay_rt, &gen_rt, &engine, n);
        println!("{row}");
    }
}

struct Call {
    media: CallMedia,
    caller: Arc<UdpSocket>,
    seat: Arc<UdpSocket>,
}

fn run_level(
    relay_rt: &tokio::runtime::Runtime,
    gen_rt: &tokio::runtime::Runtime,
    engine: &MediaEngine,
    n: usize,
) -> String {
    let rss_before = rss_kib();
    let medias: Vec<CallMedia> = relay_rt.block_on(async {
        let mut medias = Vec::with_capacity(n);
        for i in 0..n {
            medias.push(engine.open(&format!("bench-{i}")).await.expect("open"));
        }
        medias
    });
    // Client sockets belong to the generator runtime's I/O driver.
    let calls: Vec<Call> = gen_rt.block_on(async {
        let mut calls = Vec::with_capacity(n);
        for media in medias {
            let caller = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
            let seat = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
            media.set_remote(Leg::Caller, &negotiated(caller.local_addr().expect("addr")));
            media.set_remote(Leg::Seat, &negotiated(seat.local_addr().expect("addr")));
            media.bridge();
            calls.push(Call {
                media,
                caller,
                seat,
            });
        }
        calls
    });
    let epoch = Instant::now();
    let stop_at = epoch + WARMUP + MEASURE;
    let receivers: Vec<_> = calls
        .iter()
        .map(|c| gen_rt.spawn(receive(c.seat.clone(), epoch, epoch + WARMUP, stop_at)))
        .collect();
    let targets: Vec<(Arc<UdpSocket>, SocketAddr)> = calls
        .iter()
        .map(|c| (c.caller.clone(), c.media.local(Leg::Caller)))
        .collect();
    let sender = gen_rt.spawn(send(targets, epoch, epoch + WARMUP, stop_at));
    std::thread::sleep(WARMUP);
    let cpu_start = relay_cpu_ticks();
    std::thread::sleep(MEASURE);
    let cpu_ticks = relay_cpu_ticks().saturating_sub(cpu_start);
    let rss_during = rss_kib();
    let sent = gen_rt.block_on(sender).expect("sender");
    let mut latencies = Vec::new();
    for r in receivers {
        latencies.extend(gen_rt.block_on(r).expect("receiver"));
    }
    let received = latencies.len() as u64;
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let cpu_pct = cpu_ticks as f64 / clk_tck() / MEASURE.as_secs_f64() * 100.0;
    let rss_per_call = rss_during.saturating_sub(rss_before) as f64 / n as f64;
    relay_rt.block_on(async {
        for c in calls {
            c.media.close().await;
        }
    });
    let loss = 100.0 * (sent.saturating_sub(received)) as f64 / sent.max(1) as f64;
    format!(
        "| {n} | {sent} | {received} | {loss:.2} | {} | {} | {} | {cpu_pct:.1} | {rss_per_call:.1} |",
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or(0)
    )
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

/// Sends one packet per stream every 20 ms, streams spread over 20 one-millisecond slots.
/// Counts only packets sent in the measurement window.
async fn send(
    targets: Vec<(Arc<UdpSocket>, SocketAddr)>,
    epoch: Instant,
    from: Instant,
    until: Instant,
) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut packet = vec![0u8; 172];
    packet[0] = 0x80;
    let (mut slot, mut seq, mut sent) = (0usize, 0u16, 0u64);
    while Instant::now() < until {
        tick.tick().await;
        for (socket, to) in targets.iter().skip(slot).step_by(SLOTS) {
            let now = Instant::now();
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            packet[12..20].copy_from_slice(&(now - epoch).as_nanos().to_le_bytes()[..8]);
            if socket.try_send_to(&packet, *to).is_ok() && now >= from && now < until {
                sent += 1;
            }
        }
        slot = (slot + 1) % SLOTS;
        if slot == 0 {
            seq = seq.wrapping_add(1);
        }
    }
    sent
}

/// One-way latency in µs of every packet sent in the measurement window.
async fn receive(
    socket: Arc<UdpSocket>,
    epoch: Instant,
    from: Instant,
    until: Instant,
) -> Vec<u32> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    let grace = until + Duration::from_millis(200);
    while let Ok(Ok((n, _))) =
        tokio::time::timeout_at(grace.into(), socket.recv_from(&mut buf)).await
    {
        if n < 20 {
            continue;
        }
        let sent_ns = u64::from_le_bytes(buf[12..20].try_into().unwrap_or_default());
        let sent_at = epoch + Duration::from_nanos(sent_ns);
        if sent_at >= from && sent_at < until {
            out.push(
                Instant::now()
                    .saturating_duration_since(sent_at)
                    .as_micros() as u32,
            );
        }
    }
    out
}

/// utime + stime of this process's threads named `relay*` (the engine's runtime).
fn relay_cpu_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("relay") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 of stat(5); `after` starts at field 3.
        let get = |i: usize| {
            fields
                .get(i - 3)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += get(14) + get(15);
    }
    total
}

fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
