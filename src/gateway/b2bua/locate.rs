//! Where the caller is, in the B2BUA: the location matcher (issue 13) lives with the calls
//! so that one owner sees calls start and end, AML arrive and seats ring. The matcher keeps
//! wall-clock time (AML fix times are wall clock); the B2BUA knows only monotonic time, so
//! [`Calls`] converts with one anchor taken when it was built.
//!
//! Safety rule: an emergency call is never refused for its location data. Everything here
//! only logs and counts; nothing changes how a call is answered or queued.
use super::{Calls, Record};
use crate::location::geoloc::{self, multipart};
use crate::location::{Attach, Channel, Location, Outcome};
use crate::sip::message::Request;
use crate::store::Timestamp;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// Location counters (served by `Command::Stats`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LocationStats {
    /// Trunk INVITEs whose PIDF-LO was read by value.
    pub pidf_read: u64,
    /// Trunk INVITEs with a Geolocation that could not be used (malformed header, body, PIDF-LO).
    pub pidf_malformed: u64,
    /// Geolocation URIs given by reference (recorded, never fetched: RFC 6442 §4.1 allows it,
    /// and siaga sends no request to a host named in a message).
    pub by_reference: u64,
    /// Locations handed to the matcher from intake (AML).
    pub intake: u64,
    /// Locations attached to a call as its primary location.
    pub attached_primary: u64,
    /// Locations that could never match (no number, no IMEI).
    pub unmatchable: u64,
}

impl Calls {
    /// The wall clock at monotonic `now` (from the anchor taken in [`Calls::new`]).
    pub(super) fn wall(&self, now: Instant) -> Timestamp {
        let (at, wall) = self.clock;
        match now.checked_duration_since(at) {
            Some(ahead) => wall.plus_ms(ms(ahead)),
            None => wall.plus_ms(-ms(at.saturating_duration_since(now))),
        }
    }

    /// The monotonic instant of wall-clock `t` (for the matcher's timer).
    fn instant_of(&self, t: Timestamp) -> Instant {
        let (at, wall) = self.clock;
        let delta = t.as_ms() - wall.as_ms();
        let d = Duration::from_millis(delta.unsigned_abs());
        if delta >= 0 {
            at + d
        } else {
            at.checked_sub(d).unwrap_or(at)
        }
    }

    /// A trunk call started: tell the matcher (waiting AML may attach now) and read the
    /// INVITE's SIP Geolocation (RFC 6442).
    pub(super) fn locate_started(&mut self, now: Instant, id: &str, caller: Option<&str>) {
        let wall = self.wall(now);
        let Some(invite) = self.calls.get(id).map(|c| c.trunk.invite.clone()) else {
            return;
        };
        let Some(matcher) = self.locator.as_mut() else {
            return;
        };
        let mut attaches = matcher.call_started(wall, id, caller, None);
        let found = geoloc::from_headers(&invite.headers, &invite.body);
        for uri in &found.by_reference {
            self.location_stats.by_reference += 1;
            // Recorded in the log, never dereferenced.
            info!(call = %id, uri = %uri.chars().take(256).collect::<String>(), "Geolocation by reference (not fetched)");
        }
        if let Some(problem) = &found.problem {
            self.location_stats.pidf_malformed += 1;
            warn!(call = %id, %problem, "Geolocation of the INVITE not usable; the call goes on without it");
        }
        if let Some(pidf) = found.by_value {
            self.location_stats.pidf_read += 1;
            let mut location = pidf.location;
            location.channel = Channel::PidfLo;
            // The PIDF-LO is about this call's caller, whatever its entity says.
            location.caller = caller.map(str::to_string);
            location.imei = None;
            if location.caller.is_some() {
                if let Outcome::Attached(a) = matcher.location(wall, location) {
                    attaches.push(a);
                }
            } else {
                debug!(call = %id, "PIDF-LO of a withheld caller: not matched");
            }
        }
        for a in attaches {
            self.attached(a);
        }
    }

    /// A location from intake (AML over HTTPS or SMS).
    pub fn on_location(&mut self, now: Instant, location: Location) {
        let wall = self.wall(now);
        let Some(matcher) = self.locator.as_mut() else {
            return;
        };
        self.location_stats.intake += 1;
        match matcher.location(wall, location) {
            Outcome::Attached(a) => self.attached(a),
            Outcome::Pending => debug!("location kept until its call starts"),
            Outcome::Unmatchable => {
                self.location_stats.unmatchable += 1;
                info!("location without a number or IMEI: it cannot match a call");
            }
        }
    }

    /// The call ended: its locations still attach to the record for the window.
    pub(super) fn locate_ended(&mut self, now: Instant, id: &str) {
        let wall = self.wall(now);
        if let Some(m) = self.locator.as_mut() {
            m.call_ended(wall, id);
        }
    }

    /// The primary location's `X-Siaga-Location` value, for a seat INVITE sent at `now`.
    pub(super) fn location_header(&self, now: Instant, id: &str) -> Option<String> {
        let wall = self.wall(now);
        self.locator
            .as_ref()?
            .primary(id)
            .map(|r| r.header_value(wall))
    }

    /// When the matcher next forgets something.
    pub(super) fn locate_poll_timeout(&self) -> Option<Instant> {
        let t = self.locator.as_ref()?.poll_timeout()?;
        Some(self.instant_of(t))
    }

    /// Forgets what is out of the match window.
    pub(super) fn locate_timeout(&mut self, now: Instant) {
        let wall = self.wall(now);
        if let Some(m) = self.locator.as_mut() {
            m.handle_timeout(wall);
        }
    }

    /// Location counters.
    pub fn location_stats(&self) -> LocationStats {
        self.location_stats
    }

    fn attached(&mut self, a: Attach) {
        let (kecamatan, _) = a.resolved.place.names();
        info!(call = %a.call, %kecamatan, primary = a.primary, after_end = a.after_end, source = %a.resolved.location.source_label(), "location attached");
        if !a.primary {
            return;
        }
        self.location_stats.attached_primary += 1;
        self.records.push_back((
            a.call,
            Record::Located {
                update: a.resolved.record_update(),
            },
        ));
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The SDP offer of a trunk INVITE: the body itself, or its `application/sdp` part when the
/// body is `multipart/mixed` (RFC 6442 §3.1: SDP and PIDF-LO together). A multipart body
/// without one gives the whole body (the offer check then refuses it as before).
pub(super) fn sdp_offer(invite: &Request) -> Vec<u8> {
    let ct = invite.headers.get("Content-Type").unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if !media.to_ascii_lowercase().starts_with("multipart/") {
        return invite.body.clone();
    }
    let Ok(boundary) = multipart::boundary(ct) else {
        return invite.body.clone();
    };
    let Ok(parts) = multipart::split(&invite.body, &boundary) else {
        return invite.body.clone();
    };
    parts
        .iter()
        .find(|p| p.content_type.as_deref() == Some("application/sdp"))
        .map(|p| p.body.to_vec())
        .unwrap_or_else(|| invite.body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::Method;

    #[test]
    fn the_sdp_part_of_a_multipart_invite_is_the_offer() {
        let body = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/geoloc/circle-kejaksan.body"),
        )
        .expect("fixture");
        let mut invite = Request::new(Method::Invite, "sip:112@gw");
        invite
            .headers
            .push("Content-Type", "multipart/mixed; boundary=siaga1");
        invite.body = body;
        let offer = sdp_offer(&invite);
        assert!(
            offer.starts_with(b"v=0"),
            "{}",
            String::from_utf8_lossy(&offer)
        );
        assert!(!offer.windows(8).any(|w| w == b"presence"));

        invite.headers.0.clear();
        invite.headers.push("Content-Type", "application/sdp");
        invite.body = b"v=0\r\n".to_vec();
        assert_eq!(sdp_offer(&invite), b"v=0\r\n");
    }
}
