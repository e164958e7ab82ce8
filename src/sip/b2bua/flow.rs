//! The call after it is queued: ringing seats, answers, failures, CANCEL and BYE.

use super::call::SeatLeg;
use super::legs;
use super::Record;
use super::{CallState, Calls, Ctx, MediaCommand};
use crate::media::sdp::{self, SdpOrigin, SessionDescription};
use crate::media::Leg;
use crate::routing::{AcdEvent, RingOutcome};
use crate::sip::dialog::Dialog;
use crate::sip::message::{Message, Method, Request, Response};
use crate::sip::reply::response_to;
use crate::sip::transaction::{Peer, TxKey};
use crate::store::{EndReason, Party};
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
                    self.ring(ctx, &assignment.call, &assignment.seat, &uri, &aor, peer);
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
                self.ring(ctx, id, "overflow", &uri, &uri, peer);
            }
            None => warn!(call = %id, "overflow requested but no target configured"),
        }
    }

    /// Sends the INVITE of a seat (or overflow) leg.
    fn ring(&mut self, ctx: &mut Ctx<'_>, id: &str, seat: &str, uri: &str, aor: &str, peer: Peer) {
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
        let invite = legs::seat_invite(
            call,
            uri,
            aor,
            peer,
            settings.local,
            &settings.user_agent,
            offer,
        );
        let dialog = Dialog::as_uac(&invite, peer);
        match ctx.txns.send_request(ctx.now, peer, invite.clone()) {
            Ok(key) => {
                info!(call = %id, %seat, target = %peer.addr, "ringing seat");
                self.records.push_back((
                    id.to_string(),
                    Record::Ringing {
                        seat: seat.to_string(),
                    },
                ));
                self.by_txn.insert(key.clone(), id.to_string());
                self.by_call_id
                    .insert(dialog.call_id.clone(), id.to_string());
                call.seat = Some(SeatLeg {
                    seat: seat.to_string(),
                    invite,
                    key,
                    dialog,
                    provisional: false,
                    cancelled: false,
                    cancel_pending: false,
                    answered: false,
                    origin,
                    negotiated: None,
                });
                call.state = CallState::Ringing;
            }
            Err(err) => {
                warn!(call = %id, %seat, %err, "seat INVITE not sent");
                if seat != "overflow" {
                    ctx.acd.ring_result(ctx.now, id, seat, RingOutcome::Failed);
                }
            }
        }
    }

    /// Cancels the ringing seat leg (ring timeout, caller gone); the ACD already knows.
    fn give_up_seat_leg(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some(leg) = call.seat.as_mut() else {
            return;
        };
        if leg.answered || leg.cancelled {
            return;
        }
        leg.cancelled = true;
        if leg.provisional {
            let cancel = legs::cancel_for(&leg.invite);
            let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, cancel);
        } else {
            // §9.1: a CANCEL before any provisional response could overtake the INVITE.
            leg.cancel_pending = true;
        }
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
        leg.provisional = true;
        if leg.cancel_pending {
            leg.cancel_pending = false;
            let cancel = legs::cancel_for(&leg.invite);
            let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, cancel);
        }
    }

    fn seat_answered(&mut self, ctx: &mut Ctx<'_>, id: &str, key: &TxKey, response: Response) {
        let local = self.settings.local;
        let (user_agent, stale) = match Self::seat_leg_for(&mut self.calls, id, key) {
            Some(call) => (
                self.settings.user_agent.clone(),
                call.seat
                    .as_ref()
                    .is_some_and(|l| l.cancelled || l.answered),
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
        if leg.answered {
            return;
        }
        leg.dialog = dialog;
        if stale {
            let bye = leg.dialog.request(Method::Bye, local, None);
            let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, bye);
            info!(call = %id, seat = %leg.seat, "seat answered after we gave up: ACK and BYE");
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
            warn!(call = %id, seat = %leg.seat, "seat answered with unusable SDP: BYE and requeue");
            let bye = leg.dialog.request(Method::Bye, local, None);
            let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, bye);
            let seat = leg.seat.clone();
            call.seat = None;
            call.state = CallState::Queued;
            ctx.acd.ring_result(ctx.now, id, &seat, RingOutcome::Failed);
            return;
        };
        leg.answered = true;
        leg.negotiated = Some(negotiated.clone());
        let seat = leg.seat.clone();
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
            let _ = ctx.txns.respond(ctx.now, &call.trunk.key.clone(), ok);
            call.answered = true;
        }
        call.state = CallState::Connected;
        if seat != "overflow" {
            ctx.acd
                .ring_result(ctx.now, id, &seat, RingOutcome::Answered);
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
        if leg.cancelled || leg.seat == "overflow" {
            return;
        }
        let outcome = match status {
            486 | 600 => RingOutcome::Busy,
            408 | 480 | 487 | 603 => RingOutcome::NoAnswer,
            _ => RingOutcome::Failed,
        };
        info!(call = %id, seat = %leg.seat, status, "seat did not take the call");
        ctx.acd.ring_result(ctx.now, id, &leg.seat, outcome);
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

    /// CANCEL from the trunk (§9.2): 200 for the CANCEL, 487 for the INVITE, the seat leg
    /// cancelled, the call gone. After the 200 was sent the CANCEL changes nothing.
    pub fn on_cancel(&mut self, ctx: &mut Ctx<'_>, key: TxKey, request: Request) {
        let invite_key = ctx.txns.find_invite_for_cancel(&request);
        let id = request
            .headers
            .get("Call-ID")
            .and_then(|c| self.by_call_id.get(c))
            .cloned();
        let found = invite_key.is_some() && id.is_some();
        let status = if found { 200 } else { 481 };
        let _ = ctx
            .txns
            .respond(ctx.now, &key, response_to(&request, status, None));
        let (Some(id), Some(invite_key)) = (id, invite_key) else {
            return;
        };
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.answered || call.trunk.key != invite_key {
            return;
        }
        let terminated = response_to(&call.trunk.invite, 487, Some(&call.trunk.dialog.local_tag));
        let _ = ctx.txns.respond(ctx.now, &invite_key, terminated);
        info!(call = %id, "caller cancelled");
        self.caller_left(ctx, &id);
    }

    /// BYE (or a re-INVITE, answered from our side) on an established leg.
    pub fn on_in_dialog(&mut self, ctx: &mut Ctx<'_>, key: TxKey, request: Request) {
        let Some(id) = request
            .headers
            .get("Call-ID")
            .and_then(|c| self.by_call_id.get(c))
            .cloned()
        else {
            let _ = ctx
                .txns
                .respond(ctx.now, &key, response_to(&request, 481, None));
            return;
        };
        match request.method {
            Method::Bye => {
                let _ = ctx
                    .txns
                    .respond(ctx.now, &key, response_to(&request, 200, None));
                let from_trunk = self.calls.get(&id).is_some_and(|c| {
                    request.headers.get("Call-ID") == Some(c.trunk.dialog.call_id.as_str())
                });
                info!(call = %id, by = if from_trunk { "caller" } else { "seat" }, "BYE");
                if from_trunk {
                    self.caller_left(ctx, &id);
                } else {
                    self.seat_left(ctx, &id);
                }
            }
            Method::Invite => self.on_reinvite(ctx, key, &id, request),
            _ => {
                let _ = ctx
                    .txns
                    .respond(ctx.now, &key, response_to(&request, 200, None));
            }
        }
    }

    /// The trunk leg ended (CANCEL or BYE): end the seat leg, tell the ACD, release media.
    fn caller_left(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        // Talking to a call taker and hanging up is a normal end; leaving while screened,
        // queued or ringing (even with the trunk leg answered by us) is abandoning.
        let reason = match self.calls.get(id) {
            Some(call) if call.state == CallState::Connected => EndReason::Normal,
            _ => EndReason::Abandoned,
        };
        self.end_trunk_side(ctx, id, reason, Party::Caller);
    }

    /// Ends the seat side of a call (CANCEL or BYE) and forgets the call.
    fn end_trunk_side(&mut self, ctx: &mut Ctx<'_>, id: &str, reason: EndReason, by: Party) {
        let local = self.settings.local;
        if let Some(call) = self.calls.get_mut(id) {
            if !call.answered {
                // The INVITE must still get its final response (a BYE before any 2xx, or a
                // call ended by us): 487 closes its transaction. After a CANCEL the 487 was
                // already sent and this second one is refused by the transaction layer.
                let terminated =
                    response_to(&call.trunk.invite, 487, Some(&call.trunk.dialog.local_tag));
                let _ = ctx
                    .txns
                    .respond(ctx.now, &call.trunk.key.clone(), terminated);
            }
            if let Some(leg) = call.seat.as_mut() {
                if leg.answered {
                    let bye = leg.dialog.request(Method::Bye, local, None);
                    let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, bye);
                } else if !leg.cancelled {
                    leg.cancelled = true;
                    if leg.provisional {
                        let cancel = legs::cancel_for(&leg.invite);
                        let _ = ctx.txns.send_request(ctx.now, leg.dialog.peer, cancel);
                    } else {
                        leg.cancel_pending = true;
                    }
                }
            }
        }
        self.forget(ctx, id, reason, by);
    }

    /// The seat hung up: BYE the caller.
    fn seat_left(&mut self, ctx: &mut Ctx<'_>, id: &str) {
        let local = self.settings.local;
        if let Some(call) = self.calls.get_mut(id) {
            if call.answered {
                let bye = call.trunk.dialog.request(Method::Bye, local, None);
                let _ = ctx.txns.send_request(ctx.now, call.trunk.peer, bye);
            }
            call.seat = None;
        }
        self.forget(ctx, id, EndReason::Normal, Party::Seat);
    }

    /// Both legs end (dead media, shutdown).
    pub(super) fn hang_up_both(&mut self, ctx: &mut Ctx<'_>, id: &str, reason: EndReason) {
        let local = self.settings.local;
        if let Some(call) = self.calls.get_mut(id) {
            if call.answered {
                let bye = call.trunk.dialog.request(Method::Bye, local, None);
                let _ = ctx.txns.send_request(ctx.now, call.trunk.peer, bye);
            } else {
                let gone = response_to(&call.trunk.invite, 480, Some(&call.trunk.dialog.local_tag));
                let _ = ctx.txns.respond(ctx.now, &call.trunk.key.clone(), gone);
            }
        }
        self.end_trunk_side(ctx, id, reason, Party::Gateway);
    }

    /// Removes a call: the ACD forgets it, media is released. A seat leg still ringing keeps
    /// its transaction mapping until its final response, so a late 2xx is ACKed and BYEd.
    pub(super) fn forget(&mut self, ctx: &mut Ctx<'_>, id: &str, reason: EndReason, by: Party) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        let seconds = ctx
            .now
            .saturating_duration_since(call.created)
            .as_secs_f32();
        info!(call = %id, state = ?call.state, seconds, ?reason, ?by, "call ended");
        if let Some(setup) = &self.settings.screening {
            let _ = setup.tap.take(id);
        }
        if call.state == CallState::Connected {
            ctx.acd.call_ended(ctx.now, id);
        } else {
            ctx.acd.caller_gone(ctx.now, id);
        }
        self.by_call_id.retain(|_, v| v != id);
        self.by_txn.retain(|_, v| v != id);
        if let Some(leg) = call.seat.filter(|l| !l.answered && l.cancelled) {
            self.orphans_insert(leg);
        }
        // Media first: the driver writes the RTP statistics before the record is closed.
        self.media.push_back(MediaCommand::Close {
            call: id.to_string(),
        });
        self.records
            .push_back((id.to_string(), Record::Ended { reason, by }));
    }
}
