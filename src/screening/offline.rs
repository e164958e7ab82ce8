//! Offline screening of recorded caller audio (`siaga score FILE`, the labelled-set test and
//! the accuracy table): drives [`CallDetector`] and [`Session`] on a simulated 20 ms clock.
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::detector::{CallDetector, DetectorCounters, TimelineEvent};
use super::input::TimedPacket;
use super::score::{score, CallFeatures, RiskScore};
use super::session::{Action, Outcome, Session};
use crate::config::ScreeningConfig;

/// The clock step of the simulation.
const TICK_MS: u64 = 20;

/// What screening made of a recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineReport {
    /// How screening ended.
    pub outcome: Outcome,
    /// When (ms after the start) the outcome was reached.
    pub finished_ms: u64,
    /// When speech was decided, if it was.
    pub speech_decided_ms: Option<u64>,
    /// When the press-5 prompt would have started, if it did.
    pub press5_prompt_ms: Option<u64>,
    /// Speech stretches and keys.
    pub timeline: Vec<TimelineEvent>,
    /// Audio counters.
    pub stats: DetectorCounters,
    /// Risk, class and reasons (no caller history offline).
    pub score: RiskScore,
}

/// Screens `packets` (arrival times in ms from the start) as one call answered at `start`.
/// After the last packet the call stays silent (missing RTP) until screening ends; packets
/// after the outcome are still analysed, so the timeline covers the whole recording.
pub fn run(packets: &[TimedPacket], settings: &ScreeningConfig, start: Instant) -> OfflineReport {
    let min_speech = Duration::from_millis(settings.min_speech_ms);
    let mut det = CallDetector::new(start, min_speech);
    let mut session = Session::new(settings, start);
    let mut press5_prompt_ms = None;
    let limit = settings.listen_window_ms + settings.press5_window_ms + 1000;
    let mut next = 0;
    let mut t = 0;
    let last_ms = packets.last().map_or(0, |p| p.at_ms);
    while (session.outcome().is_none() && t <= limit) || t <= last_ms {
        let now = start + Duration::from_millis(t);
        while let Some(p) = packets.get(next).filter(|p| p.at_ms <= t) {
            det.on_rtp(now, &p.header, &p.payload);
            next += 1;
        }
        det.on_silence_tick(now);
        session.update(now, &det);
        while let Some(action) = session.poll_action() {
            if action == Action::PlayPress5Prompt {
                press5_prompt_ms = Some(t);
            }
        }
        t += TICK_MS;
    }
    let outcome = session.outcome().unwrap_or(Outcome::Ghost);
    let finished_ms = session
        .finished_at()
        .map_or(t, |f| f.saturating_duration_since(start).as_millis() as u64);
    let features = CallFeatures {
        heard_speech: det.heard_speech(),
        pressed_key: det.digits().next().is_some(),
        ..CallFeatures::default()
    };
    OfflineReport {
        outcome,
        finished_ms,
        speech_decided_ms: det.decided_at_ms(),
        press5_prompt_ms,
        timeline: det.timeline(),
        stats: det.stats(),
        score: score(outcome, &features, settings.ghost_action),
    }
}

fn secs(ms: u64) -> String {
    format!("{:.2}s", ms as f64 / 1000.0)
}

impl OfflineReport {
    /// A human-readable report: timeline, outcome, class, risk and reasons.
    pub fn to_table(&self) -> String {
        let mut s = String::from("timeline:\n");
        for e in &self.timeline {
            let _ = match e {
                TimelineEvent::Speech { start_ms, end_ms } => {
                    writeln!(s, "  {:>7} – {:>7}  speech", secs(*start_ms), secs(*end_ms))
                }
                TimelineEvent::Digit {
                    at_ms,
                    digit,
                    source,
                } => {
                    let src = match source {
                        super::detector::DigitSource::Rfc4733 => "rfc4733",
                        super::detector::DigitSource::Inband => "in-band",
                    };
                    writeln!(s, "  {:>7}            key {digit} ({src})", secs(*at_ms))
                }
            };
        }
        if self.timeline.is_empty() {
            s.push_str("  (no speech, no key)\n");
        }
        let st = &self.stats;
        let _ = writeln!(
            s,
            "audio:    {} analysed, {} speech, {} silence ({} missing RTP), {} comfort-noise packets, peak {:.1} dBFS",
            secs(st.audio_ms),
            secs(st.speech_ms),
            secs(st.silence_ms),
            secs(st.missing_ms),
            st.comfort_noise_packets,
            st.peak_level_db
        );
        if let Some(ms) = self.press5_prompt_ms {
            let _ = writeln!(s, "prompt:   press-5 prompt at {}", secs(ms));
        }
        let decided = self.speech_decided_ms.map_or(String::from("-"), secs);
        let _ = writeln!(
            s,
            "outcome:  {} at {} (speech decided: {decided})",
            self.outcome.as_str(),
            secs(self.finished_ms)
        );
        let _ = writeln!(s, "class:    {}", self.score.class_header());
        let _ = writeln!(s, "risk:     {}", self.score.risk_header());
        let _ = writeln!(s, "reasons:  {}", self.score.reasons_header());
        s
    }
}

/// Output of `siaga score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScoreFormat {
    /// Human-readable.
    #[default]
    Table,
    /// One JSON object (a labelled-set directory: one per clip).
    Json,
}

/// `siaga score PATH`: a recording (.ul, .wav, .pcap) → timeline, class, score and reasons;
/// a directory with `labels.tsv` → the accuracy table of that labelled set.
pub fn score_path(
    path: &std::path::Path,
    settings: &ScreeningConfig,
    format: ScoreFormat,
) -> Result<String, super::input::InputError> {
    if path.is_dir() {
        let results = super::evaluate::evaluate_set(path, settings)?;
        return Ok(match format {
            ScoreFormat::Table => super::evaluate::accuracy_table(&results),
            ScoreFormat::Json => {
                let rows: Vec<serde_json::Value> = results
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "file": r.file, "genuine": r.genuine, "kind": r.kind,
                            "onset_ms": r.onset_ms, "latency_ms": r.latency_ms(), "report": r.report,
                        })
                    })
                    .collect();
                serde_json::Value::Array(rows).to_string() + "\n"
            }
        });
    }
    let packets = super::input::read_file(path)?;
    let report = run(&packets, settings, Instant::now());
    Ok(match format {
        ScoreFormat::Table => report.to_table(),
        ScoreFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
    })
}
