//! Building the messages of the seat leg: INVITE, CANCEL (RFC 3261 §9.1) and the responses
//! to the trunk that carry our SDP.

use super::call::{Call, LegState};
use crate::sip::dialog::via_value;
use crate::sip::message::{Method, Request, Response};
use crate::sip::reply::{random_token, response_to};
use crate::sip::transaction::Peer;
use std::net::SocketAddr;

/// The INVITE to a seat: the caller's identity in From (so any softphone shows the number),
/// siaga's call id in `X-Siaga-Call`, our SDP offer for the seat side of the relay.
pub(crate) fn seat_invite(
    call: &Call,
    target_uri: &str,
    seat_aor: &str,
    to: Peer,
    local: SocketAddr,
    user_agent: &str,
    sdp: Vec<u8>,
) -> Request {
    let mut invite = Request::new(Method::Invite, target_uri.to_string());
    let h = &mut invite.headers;
    h.push("Via", via_value(to.transport, local));
    h.push("Max-Forwards", "70");
    h.push("From", format!("{};tag={}", call.caller, random_token()));
    h.push("To", format!("<{seat_aor}>"));
    h.push("Call-ID", format!("{}@{local}", random_token()));
    h.push("CSeq", "1 INVITE");
    h.push("Contact", format!("<sip:siaga@{local}>"));
    h.push("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS");
    h.push("User-Agent", user_agent.to_string());
    h.push("X-Siaga-Call", call.id.clone());
    // The screening verdict, so any softphone shows it (DESIGN.md step 5).
    if let Some(risk) = &call.risk {
        h.push("X-Siaga-Risk", risk.risk_header());
        h.push("X-Siaga-Class", risk.class_header());
        h.push("X-Siaga-Reasons", risk.reasons_header());
    }
    h.push("Content-Type", "application/sdp");
    invite.body = sdp;
    invite
}

/// CANCEL for an INVITE we sent (§9.1): same Request-URI, Call-ID, From, To, CSeq number,
/// Route and top Via (so it matches the INVITE's transaction at the seat).
pub(crate) fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
        if let Some(value) = invite.headers.get(name) {
            cancel.headers.push(name, value.to_string());
        }
    }
    for route in invite.headers.get_all("Route") {
        cancel.headers.push("Route", route.to_string());
    }
    let seq = invite
        .headers
        .get("CSeq")
        .and_then(|c| c.split_whitespace().next())
        .unwrap_or("1");
    cancel.headers.push("CSeq", format!("{seq} CANCEL"));
    cancel
}

/// A response to the trunk INVITE carrying our SDP answer (183 early media, or 200).
pub(crate) fn trunk_response_with_sdp(
    call: &Call,
    status: u16,
    local: SocketAddr,
    user_agent: &str,
) -> Response {
    let mut response = response_to(
        &call.trunk.invite,
        status,
        Some(&call.trunk.dialog.local_tag),
    );
    let h = &mut response.headers;
    h.push("Contact", format!("<sip:siaga@{local}>"));
    h.push("Server", user_agent.to_string());
    h.push("X-Siaga-Call", call.id.clone());
    if let Some(answer) = &call.trunk.answer {
        h.push("Content-Type", "application/sdp");
        response.body = answer.clone();
    }
    response
}

impl super::call::SeatLeg {
    /// Gives up on a leg not yet answered (§9.1): CANCEL now when a provisional response
    /// has arrived, else as soon as one does — a CANCEL sent earlier could overtake the
    /// INVITE. A leg already answered or given up is left alone.
    pub(crate) fn cancel(&mut self, ctx: &mut super::Ctx<'_>) {
        match self.state {
            LegState::Proceeding => {
                self.state = LegState::Cancelled;
                ctx.send_request(self.dialog.peer, cancel_for(&self.invite));
            }
            LegState::Trying => self.state = LegState::CancelPending,
            LegState::CancelPending | LegState::Cancelled | LegState::Answered => {}
        }
    }

    /// A provisional response arrived: a CANCEL that waited for it goes now.
    pub(crate) fn on_provisional(&mut self, ctx: &mut super::Ctx<'_>) {
        match self.state {
            LegState::Trying => self.state = LegState::Proceeding,
            LegState::CancelPending => {
                self.state = LegState::Cancelled;
                ctx.send_request(self.dialog.peer, cancel_for(&self.invite));
            }
            LegState::Proceeding | LegState::Cancelled | LegState::Answered => {}
        }
    }
}
