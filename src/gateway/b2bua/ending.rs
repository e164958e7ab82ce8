//! How a call ends: CANCEL and BYE from either leg, dead calls, and forgetting a call
//! (the ACD, the media relay and the call record are told).

use super::Record;
use super::{CallState, Calls, Ctx, MediaCommand};
use crate::sip::message::{Method, Request};
use crate::sip::reply::response_to;
use crate::sip::transaction::TxKey;
use crate::store::{EndReason, Party};
use tracing::info;

impl Calls {
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
        ctx.respond(&key, response_to(&request, status, None));
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
        ctx.respond(&invite_key, terminated);
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
            ctx.respond(&key, response_to(&request, 481, None));
            return;
        };
        match request.method {
            Method::Bye => {
                ctx.respond(&key, response_to(&request, 200, None));
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
                ctx.respond(&key, response_to(&request, 200, None));
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
                ctx.respond(&call.trunk.key.clone(), terminated);
            }
            if let Some(leg) = call.seat.as_mut() {
                if leg.answered() {
                    let bye = leg.dialog.request(Method::Bye, local, None);
                    ctx.send_request(leg.dialog.peer, bye);
                } else {
                    leg.cancel(ctx);
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
                ctx.send_request(call.trunk.peer, bye);
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
                ctx.send_request(call.trunk.peer, bye);
            } else {
                let gone = response_to(&call.trunk.invite, 480, Some(&call.trunk.dialog.local_tag));
                ctx.respond(&call.trunk.key.clone(), gone);
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
        if let Some(leg) = call.seat.filter(|l| l.given_up()) {
            self.orphans_insert(leg);
        }
        // Media first: the driver writes the RTP statistics before the record is closed.
        self.media.push_back(MediaCommand::Close {
            call: id.to_string(),
        });
        self.locate_ended(ctx.now, id);
        self.records
            .push_back((id.to_string(), Record::Ended { reason, by }));
    }
}
