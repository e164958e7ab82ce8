//! Session timers (RFC 4028) on the trunk leg: a dead call — the far end vanished without a
//! BYE — ends when the trunk stops refreshing the session. siaga answers as UAS and leaves
//! the refreshing to the trunk (`refresher=uac`, §9), which must send a re-INVITE before
//! the interval passes; if none comes, siaga sends BYE on both legs (§10).

use super::{Calls, Ctx};
use crate::sip::message::{Request, Response};
use crate::store::EndReason;
use std::time::{Duration, Instant};
use tracing::info;

/// RFC 4028 §4: the smallest interval we accept (Min-SE default).
pub(super) const MIN_SE: u64 = 90;

/// The session interval the trunk asked for, when it can refresh (`Supported: timer`).
/// `Err(())` when the interval is below [`MIN_SE`] (answer 422, §6).
pub(super) fn requested(invite: &Request) -> Result<Option<Duration>, ()> {
    let h = &invite.headers;
    let Some(value) = h.get("Session-Expires") else {
        return Ok(None);
    };
    let seconds = value
        .split(';')
        .next()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    if seconds < MIN_SE {
        return Err(());
    }
    let refreshes = h
        .get_all("Supported")
        .chain(h.get_all("Require"))
        .any(|t| t.eq_ignore_ascii_case("timer"));
    Ok(refreshes.then(|| Duration::from_secs(seconds)))
}

/// Adds the negotiated timer to our 2xx (§9: the UAS names the refresher).
pub(super) fn stamp(response: &mut Response, interval: Duration) {
    response.headers.push(
        "Session-Expires",
        format!("{};refresher=uac", interval.as_secs()),
    );
    response.headers.push("Require", "timer");
}

impl Calls {
    /// The earliest session deadline, or the next look at a screening call.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sessions = self.calls.values().filter_map(|c| c.session_deadline).min();
        [
            sessions,
            self.screening_timeout(),
            self.locate_poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs screening and ends calls whose session was not refreshed in time.
    pub fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) {
        self.screening_tick(ctx);
        self.locate_timeout(ctx.now);
        let expired: Vec<String> = self
            .calls
            .values()
            .filter(|c| c.session_deadline.is_some_and(|d| d <= ctx.now))
            .map(|c| c.id.clone())
            .collect();
        for id in expired {
            info!(call = %id, "session expired without a refresh (RFC 4028): ending the call");
            self.hang_up_both(ctx, &id, EndReason::MediaTimeout);
        }
    }

    /// A refresh from the trunk (re-INVITE) restarts the interval.
    pub(super) fn session_refreshed(&mut self, id: &str, now: Instant) {
        if let Some(call) = self.calls.get_mut(id) {
            if let Some(interval) = call.session_interval {
                call.session_deadline = Some(now + interval);
            }
        }
    }
}
