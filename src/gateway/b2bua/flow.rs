//! The call after it is queued: ringing seats, their answers and failures.

use super::call::{LegState, RingTarget, SeatLeg};
use super::legs;
use super::Record;
use super::{CallState, Calls, Ctx, MediaCommand};
use crate::media::sdp::{self, SdpOrigin, SessionDescription};
use crate::media::Leg;
use crate::routing::{AcdEvent, RingOutcome};
use crate::sip::dialog::Dialog;
use crate::sip::message::{Message, Method, Response};
use crate::sip::transaction::{Peer, TxKey};
use tracing::{info, warn};

impl Calls {
    /// Runs the ACD: rings seats for waiting calls and acts on its events.
    pub fn drive_acd(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(event) = ctx.acd.poll_event() {
            match event {
                AcdEvent::RingTimeout { call, seat } => {
                    info!(%call, %seat, "seat did not answer in time");
                    self.give_up_seat_leg(ctx, &call);
                }
                AcdEvent::Overflow { call } => self.overflow(ctx, &call),
                other => info!(event = ?other, "acd"),
            }
        }
        while let Some(assignment) = ctx.acd.poll_assignment(ctx.now) {
            let target = ctx.seats.target(ctx.now, &assignment.seat);
            match target {
                Some((uri, peer)) => {
                    let aor = format!("sip:{}@{}", assignment.seat, self.settings.domain);
                    let target = RingTarget::Seat(assignment.seat.clone());
                    self.ring(ctx, &assignment.call, target, &uri, &aor, peer);
                }
                None => ctx.acd.ring_result(
                    ctx.now,
                    &assignment.call,
                    &assignment.seat,
                    RingOutcome::Failed,
                ),
            }
        }
    }

    fn overflow(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        match self.settings.overflow.clone() {
            Some((uri, peer)) => {
                info!(call = %id, %uri, "overflow: waited too long");
                self.ring(ctx, id, RingTarget::Overflow, &uri, &uri, peer);
            }
            None => warn!(call = %id, "overflow requested but no target configured"),
        }
    }

    /// Sends the INVITE of a seat (or overflow) leg.
    fn ring(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: &str,
        target: RingTarget,
        uri: &str,
        aor: &str,
        peer: Peer,
    ) {
        let seat = target.name().to_string();
        let location = self.location_header(ctx.now, id);
        let settings = &self.settings;
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let (Some((_, seat_rtp)), Some(negotiated)) = (call.media, call.trunk.negotiated.clone())
        else {
            return;
        };
        let mut origin = SdpOrigin::new(rand::random::<u32>().into());
        let offer = sdp::offer(
            seat_rtp,
            &[negotiated.codec],
            negotiated.dtmf_payload_type,
            &mut origin,
        );
        let mut invite = legs::seat_invite(
            call,
            uri,
            aor,
            peer,
            settings.local,
            &settings.user_agent,
            offer,
        );
        // Where the caller is, when a location arrived before the seat rang (issue 13).
        if let Some(location) = location {
            invite
                .headers
                .push(crate::location::X_SIAGA_LOCATION, location);
        }
        let dialog = Dialog::as_uac(&invite, peer);
        let Some(key) = ctx.send_request(peer, invite.clone()) else {
            if let Some(acd_seat) = target.acd_seat() {
                ctx.acd
                    .ring_result(ctx.now, id, acd_seat, RingOutcome::Failed);
            }
            return;
        };
        info!(call = %id, %seat, target = %peer.addr, "ringing seat");
        self.records
            .push_back((id.to_string(), Record::Ringing { seat }));
        self.by_txn.insert(key.clone(), id.to_string());
        self.by_call_id
            .insert(dialog.call_id.clone(), id.to_string());
        call.seat = Some(SeatLeg {
            target,
            invite,
            key,
            dialog,
            state: LegState::Trying,
            origin,
            negotiated: None,
        });
        call.state = CallState::Ringing;
    }

    /// Cancels the ringing seat leg (ring timeout, caller gone); the ACD already knows.
    fn give_up_seat_leg(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(leg) = call.seat.as_mut() else {
            return;
        };
        if leg.answered() || leg.given_up() {
            return;
        }
        leg.cancel(ctx);
        if call.state == CallState::Ringing {
            call.state = CallState::Queued;
        }
    }

    /// A response on a client transaction. Returns false when it is not a call's.
    pub fn on_response(&mut self, ctx: &mut Ctx<'_>, key: &TxKey, response: Response) -> bool {
        if self.orphan_response(ctx, key, &response) || self.reinvite_response(ctx, key, &response)
        {
            return true;
        }
        let Some(id) = self.by_txn.get(key).cloned() else {
            return false;
        };
        if *key.method() != Method::Invite {
            return true;
        }
        match response.status {
            100 => {}
            101..=199 => self.seat_provisional(ctx, &id, key),
            200..=299 => self.seat_answered(ctx, &id, key, response),
            _ => self.seat_failed(ctx, &id, key, response.status),
        }
        true
    }

    fn seat_leg_for<'a>(
        calls: &'a mut std::collections::HashMap<String, super::call::Call>,
        id: &str,
        key: &TxKey,
    ) -> Option<&'a mut super::call::Call> {
        calls
            .get_mut(id)
            .filter(|c| c.seat.as_ref().is_some_and(|leg| &leg.key == key))
    }

    fn seat_provisional(&mut self, ctx: &mut Ctx<'_>, id: &str, key: &TxKey) {
        let Some(call) = Self::seat_leg_for(&mut self.calls, id, key) else {
            return;
        };
        let Some(leg) = call.seat.as_mut() else {
            return;
        };
        leg.on_provisional(ctx);
    }

    fn seat_answered(&mut self, ctx: &mut Ctx<'_>, id: &str, key: &TxKey, response: Response) {
        let local = self.settings.local;
        let (user_agent, stale) = match Self::seat_leg_for(&mut self.calls, id, key) {
            Some(call) => (
                self.settings.user_agent.clone(),
                call.seat
                    .as_ref()
                    .is_some_and(|l| l.given_up() || l.answered()),
            ),
            None => (self.settings.user_agent.clone(), true),
        };
        // The 2xx is acknowledged in any case (§13.2.2.4); a stale leg is then hung up
        // (CANCEL/200 race, §9.2), and a 2xx retransmission only gets its ACK again.
        let mut dialog = match self
            .calls
            .get(id)
            .and_then(|c| c.seat.as_ref())
            .filter(|l| &l.key == key)
        {
            Some(leg) => leg.dialog.clone(),
            None => return,
        };
        dialog.update_from_response(&response);
        let seq = dialog.local_cseq;
        let ack = dialog.request(Method::Ack, local, Some(seq));
        ctx.txns.send_stateless(dialog.peer, Message::Request(ack));
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(leg) = call.seat.as_mut() else {
            return;
        };
        if leg.answered() {
            return;
        }
        leg.dialog = dialog;
        if stale {
            let bye = leg.dialog.request(Method::Bye, local, None);
            ctx.send_request(leg.dialog.peer, bye);
            info!(call = %id, seat = %leg.target.name(), "seat answered after we gave up: ACK and BYE");
            call.seat = None;
            return;
        }
        let negotiated = SessionDescription::parse(&response.body).and_then(|answer| {
            let codec = call.trunk.negotiated.as_ref().map(|n| n.codec);
            let dtmf = call
                .trunk
                .negotiated
                .as_ref()
                .and_then(|n| n.dtmf_payload_type);
            sdp::parse_answer(&answer, &codec.into_iter().collect::<Vec<_>>(), dtmf)
        });
        let Ok(negotiated) = negotiated else {
            warn!(call = %id, seat = %leg.target.name(), "seat answered with unusable SDP: BYE and requeue");
            let bye = leg.dialog.request(Method::Bye, local, None);
            ctx.send_request(leg.dialog.peer, bye);
            let target = leg.target.clone();
            call.seat = None;
            call.state = CallState::Queued;
            if let Some(seat) = target.acd_seat() {
                ctx.acd.ring_result(ctx.now, id, seat, RingOutcome::Failed);
            }
            return;
        };
        leg.state = LegState::Answered;
        leg.negotiated = Some(negotiated.clone());
        let target = leg.target.clone();
        let seat = target.name().to_string();
        self.media.push_back(MediaCommand::SetRemote {
            call: id.to_string(),
            leg: Leg::Seat,
            negotiated,
        });
        self.media.push_back(MediaCommand::Bridge {
            call: id.to_string(),
        });
        if !call.answered {
            let mut ok = legs::trunk_response_with_sdp(call, 200, local, &user_agent);
            if let Some(interval) = call.session_interval {
                super::session_timer::stamp(&mut ok, interval);
                call.session_deadline = Some(ctx.now + interval);
            }
            ctx.respond(&call.trunk.key.clone(), ok);
            call.answered = true;
        }
        call.state = CallState::Connected;
        if let Some(acd_seat) = target.acd_seat() {
            ctx.acd
                .ring_result(ctx.now, id, acd_seat, RingOutcome::Answered);
        }
        info!(call = %id, %seat, "connected");
        self.records
            .push_back((id.to_string(), Record::Answered { seat }));
    }

    fn seat_failed(&mut self, ctx: &mut Ctx<'_>, id: &str, key: &TxKey, status: u16) {
        let Some(call) = Self::seat_leg_for(&mut self.calls, id, key) else {
            return;
        };
        let Some(leg) = call.seat.take() else { return };
        if call.state == CallState::Ringing {
            call.state = CallState::Queued;
        }
        // A leg we gave up on was already reported (ring timeout, caller gone).
        let Some(seat) = leg.target.acd_seat().filter(|_| !leg.given_up()) else {
            return;
        };
        let outcome = RingOutcome::from_status(status);
        info!(call = %id, %seat, status, ?outcome, "seat did not take the call");
        ctx.acd.ring_result(ctx.now, id, seat, outcome);
    }

    /// A client transaction timed out (Timer B/F): a seat that never answered at all.
    pub fn on_timeout(&mut self, ctx: &mut Ctx<'_>, key: &TxKey) -> bool {
        if self.orphan_done(key) || self.reinvite_done(key) {
            return true;
        }
        if !self.by_txn.contains_key(key) {
            return false;
        }
        if let Some(id) = self.by_txn.get(key).cloned() {
            self.seat_failed(ctx, &id, key, 408);
        }
        true
    }
}
