//! The async driver: moves bytes between the sockets and the sans-IO [`Endpoint`], runs the
//! endpoint's media commands on the [`MediaEngine`], answers [`Command`]s from the gateway
//! [`Handle`](super::Handle), publishes [`Event`]s, and sleeps until the next timer. One task
//! owns the endpoint (STYLE.md habit 8).

use super::b2bua::{CallState, MediaCommand, MediaEvent, Prompt};
use super::commands::{self, AcdWatch};
use super::endpoint::Endpoint;
use super::record_writer::RecordWriter;
use super::surface::{Command, Event, Inbox};
use crate::media::{CallMedia, Leg, MediaEngine};
use crate::sip::transport::{self, Inbound, TransportSettings};
use crate::store::CallUpdate;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

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
    /// Screened calls whose detector has decided, from the [`VerdictTap`] (`None` without
    /// screening).
    ///
    /// [`VerdictTap`]: super::verdict_tap::VerdictTap
    pub screening_ready: Option<mpsc::UnboundedReceiver<super::verdict_tap::Ready>>,
    /// Where seat registrations are saved across restarts (`None`: not saved).
    pub registrations: Option<Arc<dyn crate::store::CallStore>>,
    /// Caller-history reads for screening, and their answers (`None` without screening).
    pub history: Option<(
        super::history::HistoryReader,
        mpsc::UnboundedReceiver<super::history::HistoryAnswer>,
    )>,
}

/// Serves SIP on the bound sockets until `shutdown` is cancelled.
pub async fn serve(
    mut endpoint: Endpoint,
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    mut settings: DriverSettings,
    inbox: Inbox,
    shutdown: CancellationToken,
) {
    let Inbox {
        commands: mut control,
        events,
    } = inbox;
    let mut watch = AcdWatch::default();
    let mut ready = settings.screening_ready.take();
    let (history, mut history_answers) = match settings.history.take() {
        Some((reader, answers)) => (Some(reader), Some(answers)),
        None => (None, None),
    };
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
    let mut last_media_check = Instant::now();
    let mut saving: Option<tokio::task::JoinHandle<()>> = None;
    let mut last_save = Instant::now();
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
            Some(command) = control.recv() => on_command(&mut endpoint, command),
            Some(call) = next(&mut ready) => {
                endpoint.handle_screening_ready(std::time::Instant::now(), &call);
            }
            Some((call, found)) = next(&mut history_answers) => endpoint.handle_history(&call, found),
            () = tokio::time::sleep_until(wake) => {}
        }
        // Under steady load the inbound branch always wins: fire due timers here too.
        let now = std::time::Instant::now();
        if endpoint.poll_timeout().is_some_and(|due| due <= now) {
            endpoint.handle_timeout(now);
        }
        run_media(&mut endpoint, &settings, &mut medias, &events).await;
        if last_media_check.elapsed() >= Duration::from_secs(1) {
            last_media_check = Instant::now();
            find_dead_calls(&mut endpoint, &medias, settings.inactivity);
            run_media(&mut endpoint, &settings, &mut medias, &events).await;
        }
        while let Some((to, bytes)) = endpoint.poll_transmit() {
            outbound.send(to, bytes);
        }
        while let Some(request) = endpoint.poll_history() {
            match &history {
                Some(reader) => reader.read(request),
                None => {
                    tracing::debug!(call = %request.call, "no history reader: screening without")
                }
            }
        }
        drain_records(&mut endpoint, &settings, &events);
        if let Some(store) = &settings.registrations {
            let idle = saving.as_ref().is_none_or(|s| s.is_finished());
            if idle && last_save.elapsed() >= super::registrations::SAVE_EVERY {
                if let Some(changed) = endpoint.take_changed_bindings(std::time::Instant::now()) {
                    last_save = Instant::now();
                    saving = Some(save_bindings(store.clone(), changed));
                }
            }
        }
        // Seat and queue views cost O(seats + queue): only computed for a listener.
        if events.receiver_count() > 0 {
            for event in watch.changes(endpoint.acd(), std::time::Instant::now()) {
                publish(&events, event);
            }
        }
    }
    shutdown.cancel();
    // The registrations as they are now, so a restart finds every seat registered.
    if let Some(store) = &settings.registrations {
        if let Some(previous) = saving.take() {
            let _finished = previous.await;
        }
        let now = std::time::Instant::now();
        let _finished = save_bindings(store.clone(), endpoint.bindings(now)).await;
    }
    for (_, media) in medias.drain() {
        media.close().await;
    }
    while tasks.join_next().await.is_some() {}
}

/// The next message of an optional channel; pending forever without one (no screening).
async fn next<T>(ready: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match ready {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn on_command(endpoint: &mut Endpoint, command: Command) {
    commands::answer(endpoint, std::time::Instant::now(), command);
}

/// Saves the live bindings off the SIP task; a failure is logged (the seats then register
/// again after a restart, as before).
fn save_bindings(
    store: Arc<dyn crate::store::CallStore>,
    bindings: Vec<super::registrations::SeatBinding>,
) -> tokio::task::JoinHandle<()> {
    let stored = super::registrations::to_stored(
        &bindings,
        std::time::Instant::now(),
        crate::store::Timestamp::now(),
    );
    tokio::task::spawn_blocking(move || {
        if let Err(err) = store.save_bindings(&stored) {
            warn!(%err, "seat registrations not saved");
        }
    })
}

/// Hands every call-record update to the writer and publishes it as an [`Event`], in order.
fn drain_records(
    endpoint: &mut Endpoint,
    settings: &DriverSettings,
    events: &tokio::sync::broadcast::Sender<Event>,
) {
    // One look at the subscriber count per drain (it takes the broadcast's lock).
    let listening = events.receiver_count() > 0;
    while let Some((call, record)) = endpoint.poll_record() {
        if listening {
            publish(events, Event::of_record(&call, &record));
        }
        settings.records.record(call, record);
    }
}

/// Sends an event to every subscriber; with none listening there is nobody to tell.
fn publish(events: &tokio::sync::broadcast::Sender<Event>, event: Event) {
    let _nobody_listens = events.send(event);
}

/// Runs every pending media command; opening feeds its result straight back.
async fn run_media(
    endpoint: &mut Endpoint,
    settings: &DriverSettings,
    medias: &mut HashMap<String, CallMedia>,
    events: &tokio::sync::broadcast::Sender<Event>,
) {
    loop {
        // Records first, so a call's `Received` is queued before its media statistics.
        drain_records(endpoint, settings, events);
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
