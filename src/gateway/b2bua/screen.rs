//! Screening inside a call (DESIGN.md call flow step 3): the trunk leg is answered at once,
//! the greeting plays, and the caller's audio goes through the screening tap. Speech → queued
//! as *speaking*; silence → the press-5 prompt; key 5 → *silent caller needs help*; nothing at
//! all → *ghost* (ended politely, or queued lowest, per config). Any fault of screening
//! queues the call unscreened (fail open): a caller who speaks or presses a key always
//! reaches the queue.

use super::{CallState, Calls, Ctx, MediaCommand, Prompt, Record};
use crate::screening::{
    score, Action, CallFeatures, CallerId, Outcome, RepeatCallers, ScreeningFault,
    ScreeningSettings, ScreeningTap, Session,
};
use crate::store::{CallerHistory, EndReason};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info, warn};

/// "Read this caller's past dispositions" (prank, ghost, genuine): the B2BUA asks, the
/// driver reads the store off the SIP task with a deadline and answers with
/// [`Calls::on_history`]. Screening starts without waiting; an answer that comes late, or
/// never, leaves the call screened without history (fail open: SIP never stalls on a read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    /// siaga's call id.
    pub call: String,
    /// The caller's number.
    pub number: String,
}

/// Screening for calls, from the configuration.
#[derive(Clone)]
pub struct ScreeningSetup {
    /// Windows, keys, prompts, ghost action.
    pub settings: ScreeningSettings,
    /// The per-call detectors, fed by the media relay.
    pub tap: Arc<ScreeningTap>,
    /// Calls per number in the last hour and day.
    pub repeat: Arc<RepeatCallers>,
}

impl std::fmt::Debug for ScreeningSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreeningSetup")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Screening state of one call.
#[derive(Debug)]
pub(crate) struct CallScreening {
    pub(crate) session: Session,
    pub(crate) caller: CallerId,
    pub(crate) features: Option<CallFeatures>,
    pub(crate) repeat: crate::screening::RepeatCounts,
    /// The number's past dispositions: empty until the store's answer arrives.
    pub(crate) history: CallerHistory,
    /// When the detector is looked at next: the session's window end, or at once when the
    /// media tap says the detector has decided ([`Calls::on_screening_ready`]).
    pub(crate) next_look: Instant,
}

impl Calls {
    /// Starts screening a call whose trunk leg was just answered.
    pub(super) fn start_screening(&mut self, id: &str, now: Instant) {
        let Some(setup) = self.settings.screening.clone() else {
            return;
        };
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let caller = call.caller_id.clone();
        let repeat = match &caller {
            CallerId::Number(number) => {
                self.history_requests.push_back(HistoryRequest {
                    call: id.to_string(),
                    number: number.clone(),
                });
                setup.repeat.record(number, now)
            }
            CallerId::Withheld => Default::default(),
        };
        setup.tap.start(id, now);
        let session = Session::new(&setup.settings, now);
        let next_look = session.poll_timeout().unwrap_or(now);
        call.screening = Some(CallScreening {
            session,
            caller,
            features: None,
            repeat,
            history: CallerHistory::default(),
            next_look,
        });
        call.state = CallState::Screening;
        self.media.push_back(MediaCommand::Play {
            call: id.to_string(),
            prompt: Prompt::Greeting,
        });
        info!(call = %id, "screening");
    }

    /// The store's answer to a [`HistoryRequest`]; a call already decided (or gone) does not
    /// need it any more.
    pub fn on_history(&mut self, id: &str, history: CallerHistory) {
        if let Some(screening) = self
            .calls
            .get_mut(id)
            .filter(|c| c.state == CallState::Screening)
            .and_then(|c| c.screening.as_mut())
        {
            screening.history = history;
        } else {
            tracing::debug!(call = %id, "caller history arrived after screening: not used");
        }
    }

    /// The next caller-history read the driver should run.
    pub fn poll_history(&mut self) -> Option<HistoryRequest> {
        self.history_requests.pop_front()
    }

    /// The media tap says the call's detector has decided (speech, a key, a fault): look now.
    /// A call no longer screening (already decided) ignores it.
    pub fn on_screening_ready(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        let Some(screening) = self
            .calls
            .get_mut(id)
            .filter(|c| c.state == CallState::Screening)
            .and_then(|c| c.screening.as_mut())
        else {
            return;
        };
        screening.next_look = ctx.now;
        self.screening_tick(ctx);
    }

    /// When screening next needs a look.
    pub(super) fn screening_timeout(&self) -> Option<Instant> {
        self.calls
            .values()
            .filter_map(|c| {
                c.screening
                    .as_ref()
                    .filter(|_| c.state == CallState::Screening)
            })
            .map(|s| s.next_look)
            .min()
    }

    /// Feeds every screening session its detector's state and acts on the result.
    pub(super) fn screening_tick(&mut self, ctx: &mut Ctx<'_>) {
        let Some(setup) = self.settings.screening.clone() else {
            return;
        };
        let ids: Vec<String> = self
            .calls
            .values()
            .filter(|c| c.state == CallState::Screening)
            .filter(|c| c.screening.as_ref().is_some_and(|s| s.next_look <= ctx.now))
            .map(|c| c.id.clone())
            .collect();
        for id in ids {
            let mut actions = Vec::new();
            if let Some(screening) = self.calls.get_mut(&id).and_then(|c| c.screening.as_mut()) {
                let now = ctx.now;
                let (caller, repeat) = (screening.caller.clone(), screening.repeat);
                let history = screening.history;
                let looked = setup.tap.with(&id, now, |det| {
                    (
                        det.clone(),
                        CallFeatures::gather(det, &caller, repeat, history),
                    )
                });
                match looked {
                    Ok((det, features)) => {
                        screening.session.update(now, &det);
                        screening.features = Some(features);
                    }
                    Err(err) => {
                        warn!(call = %id, %err, "screening failed: queued unscreened");
                        screening.session.fault(now, ScreeningFault::Detector);
                    }
                }
                // The next look is the window's end (a new window after press-5), unless the
                // tap reports a decision first.
                screening.next_look = screening.session.poll_timeout().unwrap_or(now);
                while let Some(action) = screening.session.poll_action() {
                    actions.push(action);
                }
            }
            for action in actions {
                match action {
                    Action::PlayPress5Prompt => self.media.push_back(MediaCommand::Play {
                        call: id.clone(),
                        prompt: Prompt::Press5,
                    }),
                    Action::Finish(outcome) => self.finish_screening(ctx, &id, outcome, &setup),
                }
            }
        }
    }

    fn finish_screening(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: &str,
        outcome: Outcome,
        setup: &ScreeningSetup,
    ) {
        let det = setup.tap.take(id).ok();
        let audio = det.as_ref().map(|det| det.record_audio());
        // What screening heard, kept for review (one ~100 KB write; a failure only logs).
        if let Some(det) = &det {
            if let Err(e) = setup.settings.audio_store().save(id, det.screening_audio()) {
                tracing::warn!(call = %id, error = %e, "screening audio not kept");
            }
        }
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(screening) = call.screening.as_ref() else {
            return;
        };
        let features = screening.features.unwrap_or_default();
        let risk = score(outcome, &features, setup.settings.ghost_action);
        let class = outcome.record_class();
        info!(call = %id, outcome = outcome.as_str(), risk = %risk.risk_header(), reasons = %risk.reasons_header(), "screened");
        self.records.push_back((
            id.to_string(),
            Record::Screened {
                class,
                score: (risk.risk * 100.0).round().clamp(0.0, 100.0) as u8,
                reasons: risk
                    .reasons
                    .iter()
                    .map(|r| format!("{}={:.2}", r.name, r.share))
                    .collect(),
                audio: audio.unwrap_or_default(),
            },
        ));
        // Only a ghost verdict may end a call here; any other outcome without a class is
        // queued unscreened, so the safety rule holds whatever the score returns.
        let queue_class = match (risk.class, outcome) {
            (Some(class), _) => Some(class),
            (None, Outcome::Ghost) => None,
            (None, _) => Some(crate::routing::CallClass::Unscreened),
        };
        call.risk = Some(risk);
        match queue_class {
            Some(queue_class) => {
                call.state = CallState::Queued;
                let caller_text = call.caller.clone();
                ctx.acd.enqueue(ctx.now, id, queue_class, &caller_text);
                self.records.push_back((id.to_string(), Record::Queued));
                self.media.push_back(MediaCommand::Play {
                    call: id.to_string(),
                    prompt: Prompt::Queue,
                });
            }
            None => {
                info!(call = %id, "ghost call ended politely");
                self.hang_up_both(ctx, id, EndReason::Ghost);
            }
        }
    }
}
