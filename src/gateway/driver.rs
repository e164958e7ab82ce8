//! The async driver: moves bytes between the sockets and the sans-IO [`Endpoint`], runs the
//! endpoint's media commands on the [`MediaEngine`], and sleeps until the next timer. One task
//! owns the endpoint (STYLE.md habit 8).

use super::b2bua::{CallState, MediaCommand, MediaEvent, Prompt};
use super::endpoint::{Endpoint, EndpointStats};
use super::record_writer::RecordWriter;
use crate::media::{CallMedia, Leg, MediaEngine};
use crate::routing::{AcdError, QueuedView, SeatView};
use crate::sip::transport::{self, Inbound, TransportSettings};
use crate::store::CallUpdate;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// A read-only snapshot the HTTP API and tests can look at.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Endpoint counters.
    pub stats: EndpointStats,
    /// Live transactions.
    pub transactions: usize,
    /// Live calls.
    pub calls: usize,
    /// Seats and their registration state.
    pub seats: Vec<crate::sip::registrar::SeatStatus>,
    /// The ACD's seats.
    pub acd_seats: Vec<SeatView>,
    /// Calls waiting.
    pub queue: Vec<QueuedView>,
}

/// A supervisor command for the ACD, with the reply channel.
#[derive(Debug)]
pub enum Control {
    /// Pause a seat.
    Pause {
        /// Seat name.
        seat: String,
        /// Why (logged).
        reason: String,
        /// The outcome.
        reply: std::sync::mpsc::SyncSender<Result<(), AcdError>>,
    },
    /// Resume a seat.
    Resume {
        /// Seat name.
        seat: String,
        /// The outcome.
        reply: std::sync::mpsc::SyncSender<Result<(), AcdError>>,
    },
}

/// What the driver needs besides the endpoint and sockets.
pub struct DriverSettings {
    /// Socket limits.
    pub transport: TransportSettings,
    /// The RTP relay.
    pub media: MediaEngine,
    /// The prompts (µ-law), each `None` when its file could not be read.
    pub prompts: HashMap<Prompt, Option<Arc<Vec<u8>>>>,
    /// A connected call with no RTP on either leg this long is ended.
    pub inactivity: Duration,
    /// Where call records go.
    pub records: RecordWriter,
}

/// Serves SIP on the bound sockets until `shutdown` is cancelled.
pub async fn serve(
    mut endpoint: Endpoint,
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    settings: DriverSettings,
    snapshot: Arc<Mutex<Snapshot>>,
    mut control: mpsc::Receiver<Control>,
    shutdown: CancellationToken,
) {
    let mut tasks = JoinSet::new();
    let (tx, mut rx) = mpsc::channel::<Inbound>(4096);
    let outbound = transport::start(
        udp,
        tcp,
        settings.transport.clone(),
        tx,
        shutdown.clone(),
        &mut tasks,
    );
    let mut medias: HashMap<String, CallMedia> = HashMap::new();
    let mut last_snapshot = Instant::now();
    let mut last_media_check = Instant::now();
    loop {
        // Wake at the endpoint's next timer, or at least every 200 ms for housekeeping.
        let housekeeping = Instant::now() + Duration::from_millis(200);
        let wake = endpoint
            .poll_timeout()
            .map(Instant::from_std)
            .map_or(housekeeping, |t| t.min(housekeeping));
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
            Some(command) = control.recv() => on_control(&mut endpoint, command),
            () = tokio::time::sleep_until(wake) => {}
        }
        // Under steady load the inbound branch always wins: fire due timers here too.
        let now = std::time::Instant::now();
        if endpoint.poll_timeout().is_some_and(|due| due <= now) {
            endpoint.handle_timeout(now);
        }
        run_media(&mut endpoint, &settings, &mut medias).await;
        if last_media_check.elapsed() >= Duration::from_secs(1) {
            last_media_check = Instant::now();
            find_dead_calls(&mut endpoint, &medias, settings.inactivity);
            run_media(&mut endpoint, &settings, &mut medias).await;
        }
        while let Some((to, bytes)) = endpoint.poll_transmit() {
            outbound.send(to, bytes);
        }
        while let Some((call, record)) = endpoint.poll_record() {
            settings.records.record(call, record);
        }
        if last_snapshot.elapsed() >= Duration::from_millis(200) {
            last_snapshot = Instant::now();
            refresh(&endpoint, &snapshot);
        }
    }
    shutdown.cancel();
    for (_, media) in medias.drain() {
        media.close().await;
    }
    while tasks.join_next().await.is_some() {}
}

fn on_control(endpoint: &mut Endpoint, command: Control) {
    let now = std::time::Instant::now();
    match command {
        Control::Pause {
            seat,
            reason,
            reply,
        } => {
            let _ = reply.try_send(endpoint.acd_mut().pause(now, &seat, &reason));
        }
        Control::Resume { seat, reply } => {
            let _ = reply.try_send(endpoint.acd_mut().resume(now, &seat));
        }
    }
    endpoint.handle_timeout(now);
}

/// Runs every pending media command; opening feeds its result straight back.
async fn run_media(
    endpoint: &mut Endpoint,
    settings: &DriverSettings,
    medias: &mut HashMap<String, CallMedia>,
) {
    loop {
        // Records first, so a call's `Received` is queued before its media statistics.
        while let Some((call, record)) = endpoint.poll_record() {
            settings.records.record(call, record);
        }
        let Some(command) = endpoint.poll_media() else {
            break;
        };
        match command {
            MediaCommand::Open { call } => {
                let event = match settings.media.open(&call).await {
                    Ok(media) => {
                        let event = MediaEvent::Opened {
                            call: call.clone(),
                            caller: media.local(Leg::Caller),
                            seat: media.local(Leg::Seat),
                        };
                        medias.insert(call, media);
                        event
                    }
                    Err(err) => MediaEvent::Failed {
                        call,
                        reason: err.to_string(),
                    },
                };
                endpoint.handle_media_event(std::time::Instant::now(), event);
            }
            MediaCommand::SetRemote {
                call,
                leg,
                negotiated,
            } => {
                if let Some(media) = medias.get(&call) {
                    media.set_remote(leg, &negotiated);
                }
            }
            MediaCommand::Play { call, prompt } => {
                let audio = settings.prompts.get(&prompt).cloned().flatten();
                if let (Some(media), Some(audio)) = (medias.get(&call), audio) {
                    media.play(Leg::Caller, audio, prompt == Prompt::Queue);
                }
            }
            MediaCommand::Bridge { call } => {
                if let Some(media) = medias.get(&call) {
                    media.bridge();
                }
            }
            MediaCommand::Unbridge { call } => {
                if let Some(media) = medias.get(&call) {
                    media.unbridge();
                }
            }
            MediaCommand::Close { call } => {
                if let Some(media) = medias.remove(&call) {
                    // The record gets the RTP statistics before its `Ended` (queued after).
                    match serde_json::to_value(media.stats()) {
                        Ok(stats) => settings.records.update(call, CallUpdate::Media { stats }),
                        Err(err) => warn!(%call, %err, "media statistics not recorded"),
                    }
                    tokio::spawn(media.close());
                }
            }
        }
    }
}

/// Connected calls whose media went quiet on both legs are dead (a vanished phone).
fn find_dead_calls(endpoint: &mut Endpoint, medias: &HashMap<String, CallMedia>, limit: Duration) {
    let now = std::time::Instant::now();
    let dead: Vec<String> = medias
        .iter()
        .filter(|(call, media)| {
            endpoint.calls().state(call) == Some(CallState::Connected)
                && media.idle_for(now) > limit
        })
        .map(|(call, _)| call.clone())
        .collect();
    for call in dead {
        warn!(%call, "no RTP: call considered dead");
        endpoint.handle_media_event(now, MediaEvent::Dead { call });
    }
}

fn refresh(endpoint: &Endpoint, snapshot: &Mutex<Snapshot>) {
    let now = std::time::Instant::now();
    if let Ok(mut snap) = snapshot.lock() {
        snap.stats = endpoint.stats().clone();
        snap.transactions = endpoint.transactions();
        snap.calls = endpoint.calls().len();
        snap.seats = endpoint.registrar().seats(now);
        snap.acd_seats = endpoint.acd().seats_view(now);
        snap.queue = endpoint.acd().queue_view(now);
    }
}
