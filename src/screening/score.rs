//! The explainable risk score (0 = surely genuine, 1 = surely not an emergency) and the class.
//!
//! Each named reason adds `weight × strength` (strength 0..1); the risk is the sum, capped at 1,
//! and each reason's share is its part of the sum. The score never refuses a call: it only
//! orders the queue. A repeat prank caller who speaks is [`CallClass::RepeatPrank`] (flagged
//! and lowered), a help-key press is always [`CallClass::SilentNeedsHelp`].
use serde::Serialize;

use super::detector::CallDetector;
use super::history::{CallerId, RepeatCounts};
use super::session::Outcome;
use crate::config::GhostAction;
use crate::routing::class::CallClass;
use crate::store::CallerHistory;

/// Weights of the reasons.
const W_SILENT: f32 = 0.30;
const W_NO_DTMF: f32 = 0.10;
const W_REPEAT_1H: f32 = 0.25;
const W_REPEAT_24H: f32 = 0.10;
const W_PAST_PRANK: f32 = 0.35;
const W_PAST_GHOST: f32 = 0.15;
const W_WITHHELD: f32 = 0.10;
/// Past prank dispositions that make a speaking caller a repeat prank caller.
const REPEAT_PRANK_MIN: u32 = 2;

/// Everything the score reads about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallFeatures {
    /// Any speech was heard.
    pub heard_speech: bool,
    /// Any key was pressed.
    pub pressed_key: bool,
    /// Calls from the number before this one (the in-memory windows).
    pub repeat: RepeatCounts,
    /// The store's view of the number (dispositions since `history_days`).
    pub history: CallerHistory,
    /// The number is withheld, anonymous or missing.
    pub withheld: bool,
}

impl CallFeatures {
    /// Gathers the features the driver has at the end of screening: the detector's audio
    /// verdict, the caller id, the in-memory repeat counts and the store's history
    /// (`CallStore::caller_history(number, now, now - history_days)`; default when withheld
    /// or when the store failed: fail open).
    pub fn gather(
        det: &CallDetector,
        caller: &CallerId,
        repeat: RepeatCounts,
        history: CallerHistory,
    ) -> CallFeatures {
        CallFeatures {
            heard_speech: det.heard_speech(),
            pressed_key: det.digits().next().is_some(),
            repeat,
            history,
            withheld: caller.number().is_none(),
        }
    }
}

/// One named reason and its part in the risk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reason {
    /// snake_case name (`repeat_1h`, `past_prank`, ...).
    pub name: &'static str,
    /// What it added to the risk.
    pub contribution: f32,
    /// Its share of all contributions, 0..1.
    pub share: f32,
}

/// The result: risk, class and reasons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    /// 0..1.
    pub risk: f32,
    /// The queue class; `None` when the call is not queued (ghost ended politely, hung up).
    pub class: Option<CallClass>,
    /// Reasons with a contribution, largest first.
    pub reasons: Vec<Reason>,
}

impl RiskScore {
    /// `X-Siaga-Risk` value, e.g. `0.73`.
    pub fn risk_header(&self) -> String {
        format!("{:.2}", self.risk)
    }

    /// `X-Siaga-Class` value, e.g. `speaking` (`none` when not queued).
    pub fn class_header(&self) -> &'static str {
        self.class.map_or("none", CallClass::as_str)
    }

    /// `X-Siaga-Reasons` value, e.g. `repeat_1h=0.40,past_prank=0.33` (shares).
    pub fn reasons_header(&self) -> String {
        let parts: Vec<String> = self
            .reasons
            .iter()
            .map(|r| format!("{}={:.2}", r.name, r.share))
            .collect();
        parts.join(",")
    }
}

fn ratio(n: u32, full: u32) -> f32 {
    (n.min(full) as f32) / full as f32
}

/// Scores a call whose screening ended with `outcome`.
pub fn score(outcome: Outcome, f: &CallFeatures, ghost_action: GhostAction) -> RiskScore {
    let candidates: [(&'static str, f32); 7] = [
        ("silent_so_far", if f.heard_speech { 0.0 } else { W_SILENT }),
        ("no_dtmf", if f.pressed_key { 0.0 } else { W_NO_DTMF }),
        (
            "repeat_1h",
            W_REPEAT_1H * ratio(f.repeat.last_1h.max(f.history.calls_1h), 3),
        ),
        (
            "repeat_24h",
            W_REPEAT_24H * ratio(f.repeat.last_24h.max(f.history.calls_24h), 10),
        ),
        ("past_prank", W_PAST_PRANK * ratio(f.history.prank, 3)),
        ("past_ghost", W_PAST_GHOST * ratio(f.history.ghost, 5)),
        ("withheld_number", if f.withheld { W_WITHHELD } else { 0.0 }),
    ];
    let total: f32 = candidates.iter().map(|c| c.1).sum();
    let mut reasons: Vec<Reason> = candidates
        .iter()
        .filter(|c| c.1 > 0.0)
        .map(|&(name, contribution)| Reason {
            name,
            contribution,
            share: contribution / total,
        })
        .collect();
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let repeat_prank = f.history.prank >= REPEAT_PRANK_MIN && f.history.prank > f.history.genuine;
    let class = match outcome {
        Outcome::SilentNeedsHelp => Some(CallClass::SilentNeedsHelp),
        Outcome::Speaking if repeat_prank => Some(CallClass::RepeatPrank),
        Outcome::Speaking => Some(CallClass::Speaking),
        // Never ended: the model heard something like speech (session.rs).
        Outcome::FaintSpeech => Some(CallClass::Low),
        Outcome::Unscreened(_) => Some(CallClass::Unscreened),
        Outcome::Ghost => match ghost_action {
            GhostAction::QueueLowest => Some(CallClass::Low),
            GhostAction::EndPolitely => None,
        },
        Outcome::HungUp => None,
    };
    RiskScore {
        risk: total.min(1.0),
        class,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prankster() -> CallFeatures {
        CallFeatures {
            heard_speech: true,
            repeat: RepeatCounts {
                last_1h: 3,
                last_24h: 10,
            },
            history: CallerHistory {
                prank: 3,
                ..CallerHistory::default()
            },
            ..CallFeatures::default()
        }
    }

    #[test]
    fn repeat_prank_caller_is_lowered_never_refused() {
        let s = score(Outcome::Speaking, &prankster(), GhostAction::EndPolitely);
        assert_eq!(s.class, Some(CallClass::RepeatPrank));
        assert_eq!(s.class_header(), "repeat_prank");
        assert!(s.risk > 0.7);
        let shares: f32 = s.reasons.iter().map(|r| r.share).sum();
        assert!((shares - 1.0).abs() < 1e-4);
        assert!(
            s.reasons_header().starts_with("past_prank=0."),
            "{}",
            s.reasons_header()
        );
    }

    #[test]
    fn help_key_is_top_class_whatever_the_history() {
        let mut f = prankster();
        f.pressed_key = true;
        let s = score(Outcome::SilentNeedsHelp, &f, GhostAction::EndPolitely);
        assert_eq!(s.class, Some(CallClass::SilentNeedsHelp));
    }

    #[test]
    fn ghost_follows_the_configured_action() {
        let f = CallFeatures::default();
        assert_eq!(
            score(Outcome::Ghost, &f, GhostAction::EndPolitely).class,
            None
        );
        let s = score(Outcome::Ghost, &f, GhostAction::QueueLowest);
        assert_eq!(s.class, Some(CallClass::Low));
        assert_eq!(s.risk_header(), "0.40");
        assert_eq!(s.reasons_header(), "silent_so_far=0.75,no_dtmf=0.25");
    }

    #[test]
    fn new_speaking_caller_has_low_risk() {
        let f = CallFeatures {
            heard_speech: true,
            ..CallFeatures::default()
        };
        let s = score(Outcome::Speaking, &f, GhostAction::EndPolitely);
        assert_eq!(s.class, Some(CallClass::Speaking));
        assert_eq!(s.risk_header(), "0.10");
    }
}
