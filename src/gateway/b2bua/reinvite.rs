//! Re-INVITEs on a connected call (RFC 3261 §14): hold and resume (RFC 3264 §8.4), address
//! changes, session refreshes. The leg that sends one is answered at once from our side of
//! the relay (we anchor the media, so nothing waits on the other leg); when the offered
//! direction changed — hold or resume — the other leg gets a re-INVITE with the same
//! direction, so a caller put on hold by the call taker is told so, and the other way round.

use super::{Calls, Ctx, MediaCommand};
use crate::media::sdp::{self, Direction, SessionDescription};
use crate::media::Leg;
use crate::sip::message::{Message, Method, Request, Response};
use crate::sip::reply::response_to;
use crate::sip::transaction::TxKey;
use tracing::{info, warn};

impl Calls {
    /// A re-INVITE from either leg.
    pub(super) fn on_reinvite(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: TxKey,
        id: &str,
        request: Request,
    ) {
        let local = self.settings.local;
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let trunk_side = request.headers.get("Call-ID") == Some(call.trunk.dialog.call_id.as_str());
        let (leg, local_rtp, tag, origin, previous) =
            match (trunk_side, call.media, call.seat.as_mut()) {
                (true, Some((caller, _)), _) => (
                    Leg::Caller,
                    caller,
                    call.trunk.dialog.local_tag.clone(),
                    &mut call.trunk.origin,
                    call.trunk.negotiated.as_ref().map(|n| n.direction),
                ),
                (false, Some((_, seat)), Some(s)) => {
                    let previous = s.negotiated.as_ref().map(|n| n.direction);
                    (
                        Leg::Seat,
                        seat,
                        s.dialog.local_tag.clone(),
                        &mut s.origin,
                        previous,
                    )
                }
                _ => {
                    ctx.respond(&key, response_to(&request, 488, None));
                    return;
                }
            };
        let answered = SessionDescription::parse(&request.body)
            .and_then(|o| sdp::answer(&o, local_rtp, origin));
        let (mut response, changed) = match answered {
            Ok((body, negotiated)) => {
                let changed = previous.is_some_and(|d| d != negotiated.direction);
                let ours = negotiated.direction;
                match leg {
                    Leg::Caller => call.trunk.negotiated = Some(negotiated.clone()),
                    Leg::Seat => {
                        if let Some(s) = call.seat.as_mut() {
                            s.negotiated = Some(negotiated.clone());
                        }
                    }
                }
                self.media.push_back(MediaCommand::SetRemote {
                    call: id.to_string(),
                    leg,
                    negotiated,
                });
                let mut ok = response_to(&request, 200, Some(&tag));
                ok.headers.push("Content-Type", "application/sdp");
                ok.body = body;
                // What the far end offered is the reverse of what we answered.
                (ok, changed.then_some(ours.reversed()))
            }
            Err(_) => (response_to(&request, 488, Some(&tag)), None),
        };
        response
            .headers
            .push("Contact", format!("<sip:siaga@{local}>"));
        // A trunk re-INVITE is also a session refresh (RFC 4028 §10).
        let refreshed = leg == Leg::Caller && response.status == 200;
        if refreshed {
            if let Some(interval) = self.calls.get(id).and_then(|c| c.session_interval) {
                super::session_timer::stamp(&mut response, interval);
            }
        }
        ctx.respond(&key, response);
        if refreshed {
            self.session_refreshed(id, ctx.now);
        }
        if let Some(direction) = changed {
            self.relay_direction(ctx, id, leg, direction);
        }
    }

    /// Offers the leg opposite `from` the direction `from` just offered us.
    fn relay_direction(&mut self, ctx: &mut Ctx<'_>, id: &str, from: Leg, direction: Direction) {
        let local = self.settings.local;
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let Some((caller_rtp, seat_rtp)) = call.media else {
            return;
        };
        let (other, rtp, dialog, negotiated, origin) = match (from, call.seat.as_mut()) {
            (Leg::Seat, _) => (
                Leg::Caller,
                caller_rtp,
                &mut call.trunk.dialog,
                call.trunk.negotiated.clone(),
                &mut call.trunk.origin,
            ),
            (Leg::Caller, Some(s)) if s.answered() => (
                Leg::Seat,
                seat_rtp,
                &mut s.dialog,
                s.negotiated.clone(),
                &mut s.origin,
            ),
            _ => return,
        };
        let Some(negotiated) = negotiated else { return };
        let body = sdp::offer_directed(
            rtp,
            &[negotiated.codec],
            negotiated.dtmf_payload_type,
            direction,
            origin,
        );
        let mut invite = dialog.request(Method::Invite, local, None);
        invite
            .headers
            .push("Contact", format!("<sip:siaga@{local}>"));
        invite.headers.push("Content-Type", "application/sdp");
        invite.body = body;
        let seq = dialog.local_cseq;
        match ctx.txns.send_request(ctx.now, dialog.peer, invite) {
            Ok(key) => {
                info!(call = %id, leg = ?other, direction = direction.as_str(), "relaying hold/resume");
                self.reinvites.insert(key, (id.to_string(), other, seq));
            }
            Err(err) => warn!(call = %id, %err, "re-INVITE not sent"),
        }
    }

    /// The answer to a relayed re-INVITE. Returns false when `key` is not one.
    pub(super) fn reinvite_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &TxKey,
        response: &Response,
    ) -> bool {
        let Some((id, leg, seq)) = self.reinvites.get(key).cloned() else {
            return false;
        };
        if response.status < 200 {
            return true;
        }
        self.reinvites.remove(key);
        let local = self.settings.local;
        let Some(call) = self.calls.get_mut(&id) else {
            return true;
        };
        let dialog = match (leg, call.seat.as_mut()) {
            (Leg::Caller, _) => &mut call.trunk.dialog,
            (Leg::Seat, Some(s)) => &mut s.dialog,
            (Leg::Seat, None) => return true,
        };
        if response.status >= 300 {
            warn!(call = %id, status = response.status, "relayed re-INVITE refused");
            return true;
        }
        let ack = dialog.request(Method::Ack, local, Some(seq));
        ctx.txns.send_stateless(dialog.peer, Message::Request(ack));
        let answer = SessionDescription::parse(&response.body);
        let codec = call
            .trunk
            .negotiated
            .as_ref()
            .map(|n| (n.codec, n.dtmf_payload_type));
        if let (Ok(answer), Some((codec, dtmf))) = (answer, codec) {
            if let Ok(negotiated) = sdp::parse_answer(&answer, &[codec], dtmf) {
                self.media.push_back(MediaCommand::SetRemote {
                    call: id,
                    leg,
                    negotiated,
                });
            }
        }
        true
    }

    /// A relayed re-INVITE timed out.
    pub(super) fn reinvite_done(&mut self, key: &TxKey) -> bool {
        self.reinvites.remove(key).is_some()
    }
}
