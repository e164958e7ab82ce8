//! Seat registrations across restarts (issue 9 item 6): the registrar's live bindings are
//! saved to the store (at most every [`SAVE_EVERY`], and once more when the gateway stops)
//! with a wall-clock expiry, and restored at start, so a softphone that registered before a
//! restart is rung without re-registering (baresip refreshes only after ~9 minutes).
//!
//! Only UDP bindings come back: a TCP registration lived on a connection the restart closed,
//! and siaga cannot open one to a softphone's ephemeral port; such a seat is reachable again
//! when it reconnects and registers.

use crate::sip::registrar::Binding;
use crate::sip::transaction::Transport;
use crate::store::{StoredBinding, Timestamp};
use std::time::{Duration, Instant};
use tracing::info;

/// Registrations are saved at most this often while they change.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// A live binding with its seat and the transport it registered over.
pub type SeatBinding = (String, Binding, Transport);

/// The stored form of live bindings; `now`/`wall` are the same instant on both clocks.
pub fn to_stored(bindings: &[SeatBinding], now: Instant, wall: Timestamp) -> Vec<StoredBinding> {
    bindings
        .iter()
        .map(|(seat, b, transport)| {
            let left = b.expires_at.saturating_duration_since(now);
            StoredBinding {
                seat: seat.clone(),
                contact: b.contact.clone(),
                expires_at: Timestamp::from_ms(
                    wall.as_ms() + i64::try_from(left.as_millis()).unwrap_or(i64::MAX / 2),
                ),
                q: b.q,
                call_id: b.call_id.clone(),
                cseq: b.cseq,
                source: b.source.to_string(),
                transport: match transport {
                    Transport::Udp => "udp".into(),
                    Transport::Tcp => "tcp".into(),
                },
            }
        })
        .collect()
}

/// The stored bindings still live at `wall`, as registrar bindings on the monotonic clock;
/// lapsed, TCP and unreadable ones are left out (logged).
pub fn from_stored(stored: Vec<StoredBinding>, now: Instant, wall: Timestamp) -> Vec<SeatBinding> {
    stored
        .into_iter()
        .filter_map(|s| {
            let left_ms = s.expires_at.as_ms() - wall.as_ms();
            if left_ms <= 0 {
                return None;
            }
            if s.transport != "udp" {
                info!(seat = %s.seat, contact = %s.contact, "TCP registration not restored: the seat re-registers when it reconnects");
                return None;
            }
            let Ok(source) = s.source.parse() else {
                tracing::warn!(seat = %s.seat, source = %s.source, "stored registration has an unreadable source: skipped");
                return None;
            };
            let binding = Binding {
                contact: s.contact,
                expires_at: now + Duration::from_millis(left_ms.unsigned_abs()),
                q: s.q,
                call_id: s.call_id,
                cseq: s.cseq,
                source,
            };
            Some((s.seat, binding, Transport::Udp))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_time_left_and_drops_lapsed_and_tcp() {
        let now = Instant::now();
        let wall = Timestamp::from_ms(1_700_000_000_000);
        let b = |contact: &str, secs: u64| Binding {
            contact: contact.into(),
            expires_at: now + Duration::from_secs(secs),
            q: Some(0.5),
            call_id: "c".into(),
            cseq: 2,
            source: "127.0.0.1:5099".parse().unwrap(),
        };
        let live = vec![
            (
                "seat1".to_string(),
                b("sip:a@127.0.0.1:5099", 300),
                Transport::Udp,
            ),
            (
                "seat2".to_string(),
                b("sip:b@127.0.0.1:5098", 300),
                Transport::Tcp,
            ),
        ];
        let stored = to_stored(&live, now, wall);
        assert_eq!(stored[0].expires_at.as_ms(), wall.as_ms() + 300_000);
        // Restarted 100 s later: 200 s left, the TCP one is not restored.
        let later = now + Duration::from_secs(100);
        let back = from_stored(
            stored.clone(),
            later,
            Timestamp::from_ms(wall.as_ms() + 100_000),
        );
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].1.expires_at, later + Duration::from_secs(200));
        assert_eq!(back[0].1.q, Some(0.5));
        // Restarted after the expiry: nothing.
        let gone = from_stored(stored, later, Timestamp::from_ms(wall.as_ms() + 301_000));
        assert!(gone.is_empty());
    }
}
