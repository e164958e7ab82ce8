//! The one surface into the running gateway: typed [`Command`]s in (a tokio mpsc, each with a
//! oneshot reply) and typed [`Event`]s out (a tokio broadcast). The HTTP API, the coming
//! console (SSE/WebSocket), location intake and tests all use a cloneable [`Handle`]; only
//! the driver task touches the endpoint (STYLE.md habit 8), so every answer is taken at one
//! instant of the endpoint's state: a pause replies with the seat's state *after* the pause.
//!
//! Events are best effort per subscriber: a subscriber that falls more than
//! [`EVENT_CAPACITY`] events behind gets `RecvError::Lagged` and should re-read state with
//! [`Command::Seats`] / [`Command::Queue`]. Call records do not ride on this broadcast
//! (they must never be lost): the record writer has its own bounded channel.

use super::b2bua::{CallState, Record};
use crate::routing::{AcdError, QueuedView, SeatView};
use crate::sip::registrar::SeatStatus;
use crate::store::{AudioStats, EndReason, Party, ScreeningClass};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Commands that may wait for the driver (it answers within one loop turn).
pub const COMMAND_CAPACITY: usize = 64;

/// Events kept for a slow subscriber before it lags.
pub const EVENT_CAPACITY: usize = 1024;

/// How long a [`Handle`] waits for the driver's answer.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// One request to the running gateway, with where to send the answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Command {
    /// Pause a seat (after its current call when busy); replies with its new state.
    PauseSeat {
        /// Seat name.
        seat: String,
        /// Why (shown on dashboards, logged).
        reason: String,
        /// The seat after the command.
        reply: oneshot::Sender<Result<SeatView, AcdError>>,
    },
    /// Resume a paused seat or cancel its pending pause; replies with its new state.
    ResumeSeat {
        /// Seat name.
        seat: String,
        /// The seat after the command (it may already be ringing for a waiting call).
        reply: oneshot::Sender<Result<SeatView, AcdError>>,
    },
    /// Every seat, in configuration order.
    Seats {
        /// The views.
        reply: oneshot::Sender<Vec<SeatView>>,
    },
    /// Every waiting call, in serving order.
    Queue {
        /// The views.
        reply: oneshot::Sender<Vec<QueuedView>>,
    },
    /// Registration state of every seat (registrar view).
    Registrations {
        /// The views.
        reply: oneshot::Sender<Vec<SeatStatus>>,
    },
    /// One live call by siaga call id.
    Call {
        /// siaga's call id (`X-Siaga-Call`).
        call: String,
        /// `None` when no such call is live.
        reply: oneshot::Sender<Option<CallView>>,
    },
    /// Endpoint counters and sizes.
    Stats {
        /// The counters.
        reply: oneshot::Sender<GatewayStats>,
    },
    /// Place an outbound call (call-backs). Needs an outbound trunk, which does not exist
    /// yet: the driver answers [`CommandError::NotConfigured`].
    Originate {
        /// The number to call.
        to: String,
        /// The new call's id.
        reply: oneshot::Sender<Result<String, CommandError>>,
    },
    /// A location from intake (AML over HTTPS or SMS) for the matcher; answered once the
    /// matcher has taken it (attached, kept waiting, or counted as unmatchable).
    Location {
        /// The parsed location.
        location: crate::location::Location,
        /// Taken.
        reply: oneshot::Sender<()>,
    },
}

/// A live call as the API sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    /// siaga's call id.
    pub call: String,
    /// Where it stands.
    pub state: CallState,
    /// The caller's number, `None` when withheld.
    pub caller: Option<String>,
    /// The seat (or overflow target) being rung or talking.
    pub seat: Option<String>,
    /// Whole seconds since the INVITE.
    pub age_s: u64,
}

/// Endpoint counters and sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GatewayStats {
    /// Messages received.
    pub received: u64,
    /// Requests refused at ingress.
    pub rejected: u64,
    /// Messages dropped at ingress.
    pub dropped: u64,
    /// Messages dropped by the rate limiter.
    pub rate_limited: u64,
    /// INVITEs from outside the trunk allow list.
    pub untrusted_invites: u64,
    /// Live transactions.
    pub transactions: usize,
    /// Live calls.
    pub calls: usize,
    /// Location counters (PIDF-LO read / malformed, AML taken, attached).
    pub location: super::b2bua::LocationStats,
    /// Registrar counters: password guessing, alarms, allow lists, binding moves (issue 10).
    #[serde(skip)]
    pub registrar: crate::sip::registrar::RegistrarStats,
}

/// Something that happened in the gateway, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// An emergency call was accepted from the trunk.
    CallReceived {
        /// siaga's call id.
        call: String,
        /// Caller number, `None` when withheld.
        caller: Option<String>,
        /// Display name.
        display_name: Option<String>,
        /// Trunk source address.
        trunk: String,
    },
    /// Screening gave its verdict.
    CallScreened {
        /// siaga's call id.
        call: String,
        /// The class.
        class: ScreeningClass,
        /// Risk 0..100.
        score: u8,
        /// Reasons with their shares.
        reasons: Vec<String>,
        /// Audio statistics.
        audio: AudioStats,
    },
    /// The call entered the queue.
    CallQueued {
        /// siaga's call id.
        call: String,
    },
    /// A seat (or the overflow target) is being rung for the call.
    SeatRinging {
        /// siaga's call id.
        call: String,
        /// The seat name (`overflow` for the overflow target).
        seat: String,
    },
    /// A seat answered.
    CallAnswered {
        /// siaga's call id.
        call: String,
        /// The seat name.
        seat: String,
    },
    /// The call is over.
    CallEnded {
        /// siaga's call id.
        call: String,
        /// Why.
        reason: EndReason,
        /// Who ended it.
        by: Party,
    },
    /// A location became the call's primary one (AML, PIDF-LO).
    CallLocated {
        /// siaga's call id.
        call: String,
        /// Kecamatan, or "outside Kota Cirebon".
        kecamatan: Option<String>,
        /// Kelurahan, when inside one.
        kelurahan: Option<String>,
    },
    /// A seat's state, registration or pause changed.
    SeatChanged {
        /// The seat now.
        seat: SeatView,
    },
    /// The queue's membership or order changed.
    QueueChanged {
        /// Every waiting call, in serving order.
        queue: Vec<QueuedView>,
    },
}

impl Event {
    /// The event of a B2BUA call-record update.
    pub fn of_record(call: &str, record: &Record) -> Event {
        let call = call.to_string();
        match record.clone() {
            Record::Received {
                caller,
                display_name,
                trunk,
                ..
            } => Event::CallReceived {
                call,
                caller,
                display_name,
                trunk,
            },
            Record::Screened {
                class,
                score,
                reasons,
                audio,
            } => Event::CallScreened {
                call,
                class,
                score,
                reasons,
                audio,
            },
            Record::Queued => Event::CallQueued { call },
            Record::Ringing { seat } => Event::SeatRinging { call, seat },
            Record::Answered { seat } => Event::CallAnswered { call, seat },
            Record::Ended { reason, by } => Event::CallEnded { call, reason, by },
            Record::Located { update } => {
                let (kecamatan, kelurahan) = match update {
                    crate::store::CallUpdate::Located {
                        kecamatan,
                        kelurahan,
                        ..
                    } => (kecamatan, kelurahan),
                    _ => (None, None),
                };
                Event::CallLocated {
                    call,
                    kecamatan,
                    kelurahan,
                }
            }
        }
    }
}

/// Why a command got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The gateway is not running (stopped or never started).
    #[error("the gateway is not running")]
    Stopped,
    /// The driver did not answer within [`COMMAND_TIMEOUT`].
    #[error("the gateway did not answer in time")]
    Timeout,
    /// The ACD refused the command.
    #[error(transparent)]
    Acd(#[from] AcdError),
    /// The feature needs configuration that does not exist (named).
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
}

/// The driver's end of the surface: commands to answer, where to publish events.
#[derive(Debug)]
pub struct Inbox {
    /// Commands from every [`Handle`].
    pub commands: mpsc::Receiver<Command>,
    /// The event broadcast.
    pub events: broadcast::Sender<Event>,
}

/// A cloneable handle on the running gateway.
#[derive(Debug, Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<Event>,
}

impl Handle {
    /// A handle and the driver's inbox that answers it.
    pub fn channel() -> (Handle, Inbox) {
        let (commands, rx) = mpsc::channel(COMMAND_CAPACITY);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        (
            Handle {
                commands,
                events: events.clone(),
            },
            Inbox {
                commands: rx,
                events,
            },
        )
    }

    /// Whether the driver still takes commands (it owns the receiving end: closed when it
    /// has ended).
    pub fn is_alive(&self) -> bool {
        !self.commands.is_closed()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Hands a location to the matcher (AML intake).
    ///
    /// # Errors
    ///
    /// [`CommandError::Stopped`], [`CommandError::Timeout`].
    pub async fn locate(&self, location: crate::location::Location) -> Result<(), CommandError> {
        self.ask(|reply| Command::Location { location, reply })
            .await
    }

    /// Sends a command built around a reply channel and waits for the answer.
    ///
    /// # Errors
    ///
    /// [`CommandError::Stopped`] when the driver is gone, [`CommandError::Timeout`].
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, CommandError> {
        let (reply, answer) = oneshot::channel();
        let send = self.commands.send(make(reply));
        tokio::time::timeout(COMMAND_TIMEOUT, async {
            send.await.map_err(|_| CommandError::Stopped)?;
            answer.await.map_err(|_| CommandError::Stopped)
        })
        .await
        .map_err(|_| CommandError::Timeout)?
    }

    /// Pauses a seat; its state after the pause.
    ///
    /// # Errors
    ///
    /// [`CommandError::Acd`] (unknown seat, refused transition), or no answer.
    pub async fn pause(&self, seat: &str, reason: &str) -> Result<SeatView, CommandError> {
        let (seat, reason) = (seat.to_string(), reason.to_string());
        Ok(self
            .ask(|reply| Command::PauseSeat {
                seat,
                reason,
                reply,
            })
            .await??)
    }

    /// Resumes a seat; its state after the resume.
    ///
    /// # Errors
    ///
    /// [`CommandError::Acd`] (unknown seat, refused transition), or no answer.
    pub async fn resume(&self, seat: &str) -> Result<SeatView, CommandError> {
        let seat = seat.to_string();
        Ok(self
            .ask(|reply| Command::ResumeSeat { seat, reply })
            .await??)
    }

    /// Every seat.
    ///
    /// # Errors
    ///
    /// No answer from the driver.
    pub async fn seats(&self) -> Result<Vec<SeatView>, CommandError> {
        self.ask(|reply| Command::Seats { reply }).await
    }

    /// Every waiting call.
    ///
    /// # Errors
    ///
    /// No answer from the driver.
    pub async fn queue(&self) -> Result<Vec<QueuedView>, CommandError> {
        self.ask(|reply| Command::Queue { reply }).await
    }

    /// Registration state of every seat.
    ///
    /// # Errors
    ///
    /// No answer from the driver.
    pub async fn registrations(&self) -> Result<Vec<SeatStatus>, CommandError> {
        self.ask(|reply| Command::Registrations { reply }).await
    }

    /// One live call.
    ///
    /// # Errors
    ///
    /// No answer from the driver.
    pub async fn call(&self, call: &str) -> Result<Option<CallView>, CommandError> {
        let call = call.to_string();
        self.ask(|reply| Command::Call { call, reply }).await
    }

    /// Counters.
    ///
    /// # Errors
    ///
    /// No answer from the driver.
    pub async fn stats(&self) -> Result<GatewayStats, CommandError> {
        self.ask(|reply| Command::Stats { reply }).await
    }

    /// Places an outbound call.
    ///
    /// # Errors
    ///
    /// [`CommandError::NotConfigured`] until an outbound trunk exists, or no answer.
    pub async fn originate(&self, to: &str) -> Result<String, CommandError> {
        let to = to.to_string();
        self.ask(|reply| Command::Originate { to, reply }).await?
    }
}
