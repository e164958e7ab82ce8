//! The call record and the updates that move it: pure data, shared by every backend.
//!
//! ```text
//! Received ─► Screened ─► Queued ─► Ringing(seat) ─► Answered(seat) ─► Ended(reason, by)
//!     └──────────┴───────────┴────────────┴────────────────┴──► Interrupted (start-up after a crash)
//! ```
//!
//! The state only moves forward (a late `Screened` after `Queued`, as in fail-open, fills its
//! fields without moving the state back); a terminal record takes no further call events, only
//! `Located` (an AML message may arrive after the caller hung up).
use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::StoreError;

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// INVITE accepted from the trunk.
    Received,
    /// Screening gave its class.
    Screened,
    /// Waiting for a seat.
    Queued,
    /// A seat is ringing.
    Ringing,
    /// A call taker answered.
    Answered,
    /// Finished normally (either side hung up, or screening ended it).
    Ended,
    /// Was in progress when the gateway stopped without finishing it (crash, kill -9).
    Interrupted,
}

impl CallState {
    /// Ended or interrupted: no further call events.
    pub fn is_terminal(self) -> bool {
        matches!(self, CallState::Ended | CallState::Interrupted)
    }
}

/// The category of a call that screening ended as ghost.
pub(crate) const SCREENING_GHOST_CATEGORY: &str = "ghost";
/// The `by` of dispositions that screening makes.
pub(crate) const SCREENING_ACCOUNT: &str = "screening";

/// The class screening gave the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningClass {
    /// Speech heard.
    Speaking,
    /// Pressed 5: needs help but cannot speak (highest class).
    SilentNeedsHelp,
    /// Nothing heard, no key: a ghost call.
    Ghost,
    /// No decided speech, but faint speech-like sound: queued at the lowest class (issue 8).
    FaintSpeech,
    /// Screening failed or was skipped: queued as is (fail open).
    Unscreened,
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The caller (trunk side) hung up.
    Caller,
    /// The call taker hung up.
    Seat,
    /// siaga ended it (screening, timeout, shutdown, error).
    Gateway,
}

/// Why the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// BYE after a conversation.
    Normal,
    /// The caller gave up before a seat answered (CANCEL or BYE while queued).
    Abandoned,
    /// Screening heard nothing and ended the call politely.
    Ghost,
    /// Sent to the overflow PSAP.
    Overflow,
    /// No RTP for the inactivity timeout.
    MediaTimeout,
    /// The gateway shut down with the call up.
    Shutdown,
    /// Any other failure.
    Error,
}

/// Audio statistics of the caller's leg, from screening.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioStats {
    /// Milliseconds of detected speech.
    pub speech_ms: u32,
    /// Milliseconds of silence (or noise below the speech threshold).
    pub silence_ms: u32,
    /// Mean level in dBFS.
    pub mean_dbfs: Option<f32>,
    /// Peak level in dBFS.
    pub peak_dbfs: Option<f32>,
    /// DTMF digits pressed, in order (`"5"`, `"15"`).
    pub dtmf: String,
}

/// A position with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Radius of uncertainty in metres, when given.
    pub accuracy_m: Option<f32>,
    /// `aml`, `panic_button`, `pidf_lo`, ...
    pub source: String,
}

/// What a disposition or a correction adds to the caller's history (from the taxonomy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryMark {
    /// An emergency or service report.
    Genuine,
    /// A prank call.
    Prank,
    /// A ghost (silent) call.
    Ghost,
    /// Neither (test call, wrong number).
    Neutral,
}

/// A call taker's (or supervisor's, or screening's) classification of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disposition {
    /// Category id from the taxonomy.
    pub category: String,
    /// What the category means for the caller's history.
    pub mark: HistoryMark,
    /// Kecamatan, or `outside Kota Cirebon`; `None` when unknown.
    pub kecamatan: Option<String>,
    /// Kelurahan within the kecamatan.
    pub kelurahan: Option<String>,
    /// Free text.
    pub notes: String,
    /// Account name (or `screening` for an automatic one).
    pub by: String,
    /// When it was recorded.
    pub at: Timestamp,
}

/// One state change of a call, as the B2BUA reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CallUpdate {
    /// The INVITE was accepted from the trunk; creates the record.
    Received {
        /// When.
        at: Timestamp,
        /// Caller number; `None` when withheld or missing.
        caller: Option<String>,
        /// Display name from `From`/`P-Asserted-Identity`.
        display_name: Option<String>,
        /// Name (or address) of the trunk it came from.
        trunk: String,
        /// The trunk leg's SIP Call-ID.
        sip_call_id: String,
    },
    /// Screening finished.
    Screened {
        /// When.
        at: Timestamp,
        /// Class.
        class: ScreeningClass,
        /// Risk score (0 to 100).
        score: u8,
        /// Explainable reasons for the score.
        reasons: Vec<String>,
        /// Audio statistics.
        audio: AudioStats,
    },
    /// Put in the queue.
    Queued {
        /// When.
        at: Timestamp,
    },
    /// A seat started ringing (again for each seat tried).
    Ringing {
        /// When.
        at: Timestamp,
        /// Seat name.
        seat: String,
    },
    /// A call taker answered.
    Answered {
        /// When.
        at: Timestamp,
        /// Seat name.
        seat: String,
    },
    /// A location arrived (AML, panic button, PIDF-LO), already resolved to a place.
    Located {
        /// The position.
        location: Location,
        /// Kecamatan it falls in, or `outside Kota Cirebon`.
        kecamatan: Option<String>,
        /// Kelurahan it falls in.
        kelurahan: Option<String>,
    },
    /// RTP statistics of the call's legs (from the media relay), before `Ended`.
    Media {
        /// The statistics as JSON (media::CallMediaStats).
        stats: serde_json::Value,
    },
    /// The call is over.
    Ended {
        /// When.
        at: Timestamp,
        /// Why.
        reason: EndReason,
        /// Who hung up.
        by: Party,
    },
}

impl CallUpdate {
    /// The state this update moves a call to (`None` for `Located`).
    pub fn state(&self) -> Option<CallState> {
        Some(match self {
            CallUpdate::Received { .. } => CallState::Received,
            CallUpdate::Screened { .. } => CallState::Screened,
            CallUpdate::Queued { .. } => CallState::Queued,
            CallUpdate::Ringing { .. } => CallState::Ringing,
            CallUpdate::Answered { .. } => CallState::Answered,
            CallUpdate::Ended { .. } => CallState::Ended,
            CallUpdate::Located { .. } | CallUpdate::Media { .. } => return None,
        })
    }
}

/// Everything known about one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// siaga's id of the call.
    pub id: String,
    /// SIP Call-ID of the trunk leg.
    pub sip_call_id: String,
    /// Caller number (`None`: withheld).
    pub caller: Option<String>,
    /// Caller display name.
    pub display_name: Option<String>,
    /// Trunk it came from.
    pub trunk: String,
    /// Current state.
    pub state: CallState,
    /// INVITE accepted.
    pub received_at: Timestamp,
    /// Screening finished.
    pub screened_at: Option<Timestamp>,
    /// Entered the queue.
    pub queued_at: Option<Timestamp>,
    /// Last seat started ringing.
    pub ringing_at: Option<Timestamp>,
    /// Answered by a seat.
    pub answered_at: Option<Timestamp>,
    /// Ended (or marked interrupted).
    pub ended_at: Option<Timestamp>,
    /// Screening class.
    pub class: Option<ScreeningClass>,
    /// Risk score.
    pub score: Option<u8>,
    /// Reasons for the score.
    pub reasons: Vec<String>,
    /// Audio statistics.
    pub audio: Option<AudioStats>,
    /// Seat that rang last or answered.
    pub seat: Option<String>,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
    /// Who hung up.
    pub ended_by: Option<Party>,
    /// Position, when one arrived.
    pub location: Option<Location>,
    /// Kecamatan: the disposition's when there is one, else the location's.
    pub kecamatan: Option<String>,
    /// Kelurahan, same rule.
    pub kelurahan: Option<String>,
    /// Current disposition (the latest; earlier ones are in the correction history).
    pub disposition: Option<Disposition>,
    /// RTP statistics of both legs (packets, bytes, loss, jitter per direction) as JSON,
    /// written when the media is released.
    pub media: Option<serde_json::Value>,
}

impl CallRecord {
    /// A new record from a `Received` update (for imports and tests; the store creates
    /// records itself in `record_event`).
    pub fn new(id: &str, update: CallUpdate) -> Result<CallRecord, StoreError> {
        Self::create(id, update)
    }

    /// A new record from a `Received` update.
    pub(crate) fn create(id: &str, update: CallUpdate) -> Result<CallRecord, StoreError> {
        let CallUpdate::Received {
            at,
            caller,
            display_name,
            trunk,
            sip_call_id,
        } = update
        else {
            return Err(StoreError::UnknownCall { id: id.to_owned() });
        };
        Ok(CallRecord {
            id: id.to_owned(),
            sip_call_id,
            caller,
            display_name,
            trunk,
            state: CallState::Received,
            received_at: at,
            screened_at: None,
            queued_at: None,
            ringing_at: None,
            answered_at: None,
            ended_at: None,
            class: None,
            score: None,
            reasons: Vec::new(),
            audio: None,
            seat: None,
            end_reason: None,
            ended_by: None,
            location: None,
            kecamatan: None,
            kelurahan: None,
            disposition: None,
            media: None,
        })
    }

    /// Applies one update to an existing record (the store's own transition rules).
    pub fn apply(&mut self, update: CallUpdate) -> Result<(), StoreError> {
        let next = update.state();
        if let Some(next) = next {
            if next == CallState::Received {
                return Err(StoreError::Duplicate {
                    id: self.id.clone(),
                });
            }
            if self.state.is_terminal() {
                return Err(StoreError::Transition {
                    id: self.id.clone(),
                    from: self.state,
                    to: next,
                });
            }
            self.state = self.state.max(next);
        }
        self.fill(update);
        Ok(())
    }

    fn fill(&mut self, update: CallUpdate) {
        match update {
            CallUpdate::Received { .. } => {}
            CallUpdate::Screened {
                at,
                class,
                score,
                reasons,
                audio,
            } => {
                self.screened_at = Some(at);
                self.class = Some(class);
                self.score = Some(score);
                self.reasons = reasons;
                self.audio = Some(audio);
            }
            CallUpdate::Queued { at } => self.queued_at = Some(at),
            CallUpdate::Media { stats } => self.media = Some(stats),
            CallUpdate::Ringing { at, seat } => {
                self.ringing_at = Some(at);
                self.seat = Some(seat);
            }
            CallUpdate::Answered { at, seat } => {
                self.answered_at = Some(at);
                self.seat = Some(seat);
            }
            CallUpdate::Located {
                location,
                kecamatan,
                kelurahan,
            } => self.locate(location, kecamatan, kelurahan),
            CallUpdate::Ended { at, reason, by } => {
                self.ended_at = Some(at);
                self.end_reason = Some(reason);
                self.ended_by = Some(by);
            }
        }
    }

    fn locate(&mut self, location: Location, kec: Option<String>, kel: Option<String>) {
        self.location = Some(location);
        // A call taker's kecamatan wins over a resolved position.
        if self.disposition.is_none() {
            self.kecamatan = kec;
            self.kelurahan = kel;
        }
    }

    /// Sets the current disposition and the effective place (for imports and tests).
    pub fn set_disposition(&mut self, d: Disposition) {
        self.dispose(d);
    }

    /// Sets the current disposition and the effective place.
    /// The disposition screening gives a call it ends as ghost (issue 8: a ghost is data, so
    /// that the report, analytics and the caller's history count it), when `update` is that
    /// end and no one disposed the call yet. Category `ghost` of the default taxonomy.
    pub(crate) fn screening_disposition(&self, update: &CallUpdate) -> Option<Disposition> {
        match update {
            CallUpdate::Ended {
                at,
                reason: EndReason::Ghost,
                ..
            } if self.disposition.is_none() => Some(Disposition {
                category: SCREENING_GHOST_CATEGORY.to_owned(),
                mark: HistoryMark::Ghost,
                kecamatan: None,
                kelurahan: None,
                notes: String::new(),
                by: SCREENING_ACCOUNT.to_owned(),
                at: *at,
            }),
            _ => None,
        }
    }

    pub(crate) fn dispose(&mut self, d: Disposition) {
        if d.kecamatan.is_some() {
            self.kecamatan = d.kecamatan.clone();
            self.kelurahan = d.kelurahan.clone();
        }
        self.disposition = Some(d);
    }

    /// Marks an unfinished call interrupted at `now`.
    pub(crate) fn interrupt(&mut self, now: Timestamp) {
        self.state = CallState::Interrupted;
        self.ended_at = Some(now);
        self.end_reason = None;
        self.ended_by = None;
    }

    /// Effective category (the disposition's).
    pub fn category(&self) -> Option<&str> {
        self.disposition.as_ref().map(|d| d.category.as_str())
    }

    /// Time in the queue until a seat answered (or until the end, if none did).
    pub fn queue_wait_ms(&self) -> Option<i64> {
        let queued = self.queued_at?;
        let until = self.answered_at.or(self.ended_at)?;
        Some(until.as_ms() - queued.as_ms())
    }

    /// Talk time with the call taker.
    pub fn talk_ms(&self) -> Option<i64> {
        Some(self.ended_at?.as_ms() - self.answered_at?.as_ms())
    }

    /// The analytics bucket this record counts in: (UTC hour, kecamatan, category).
    pub(crate) fn bucket(&self) -> (i64, String, String) {
        (
            self.received_at.hour(),
            self.kecamatan.clone().unwrap_or_default(),
            self.category().unwrap_or_default().to_owned(),
        )
    }
}
