//! SIP dialogs (RFC 3261 §12): identifiers, route set, CSeq, remote target, and building
//! in-dialog requests. Pure data; the B2BUA keeps one per call leg.
//!
//! Every in-dialog request goes to the leg's [`Peer`] — the address the dialog was set up
//! with (the trunk's source address, or the seat's registration source) — whatever the
//! Contact or Route headers name: the route set is written into the request for the far
//! end's proxies, but siaga itself never dials a host taken from a message.

use super::header::{NameAddr, MAGIC_COOKIE};
use super::message::{Method, Request, Response};
use super::reply::random_token;
use super::transaction::{Peer, Transport};
use std::net::SocketAddr;

/// One dialog, from our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID of this leg.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The far end's tag (empty until a response or request gives it).
    pub remote_tag: String,
    /// Our address-of-record header value without tag (From of our requests).
    pub local_uri: String,
    /// The far end's header value without tag (To of our requests).
    pub remote_uri: String,
    /// The far end's Contact URI: the Request-URI of our in-dialog requests (§12.2.1.1).
    pub remote_target: String,
    /// Route set, in the order we write it into requests (§12.2.1.1).
    pub route_set: Vec<String>,
    /// Our last CSeq number.
    pub local_cseq: u32,
    /// The far end's last CSeq number (requests with lower numbers are out of order, §12.2.2).
    pub remote_cseq: Option<u32>,
    /// Where requests of this dialog are sent.
    pub peer: Peer,
}

/// Strips the `;tag=` parameter from a From/To value, keeping everything else as written.
fn without_tag(value: &str) -> String {
    match NameAddr::parse(value, "From") {
        Ok(addr) => {
            let mut out = match &addr.display {
                Some(d) if !d.is_empty() => format!("\"{d}\" <{}>", addr.uri_text),
                _ => format!("<{}>", addr.uri_text),
            };
            for (name, param) in &addr.params.0 {
                if name.eq_ignore_ascii_case("tag") {
                    continue;
                }
                out.push(';');
                out.push_str(name);
                if let Some(param) = param {
                    out.push('=');
                    out.push_str(param);
                }
            }
            out
        }
        Err(_) => value.to_string(),
    }
}

fn tag_of(value: Option<&str>) -> String {
    value
        .and_then(|v| NameAddr::parse(v, "To").ok())
        .and_then(|a| a.tag().map(str::to_string))
        .unwrap_or_default()
}

fn contact_uri(value: Option<&str>) -> Option<String> {
    value
        .and_then(|v| NameAddr::parse(v, "Contact").ok())
        .map(|a| a.uri_text)
}

impl Dialog {
    /// The UAS side of a dialog created by a received INVITE (§12.1.1). `local_tag` is the tag
    /// we put in our responses.
    pub fn as_uas(invite: &Request, local_tag: &str, peer: Peer) -> Dialog {
        let h = &invite.headers;
        Dialog {
            call_id: h.get("Call-ID").unwrap_or_default().to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: tag_of(h.get("From")),
            local_uri: without_tag(h.get("To").unwrap_or_default()),
            remote_uri: without_tag(h.get("From").unwrap_or_default()),
            remote_target: contact_uri(h.get("Contact")).unwrap_or_else(|| invite.uri.clone()),
            route_set: h.get_all("Record-Route").map(str::to_string).collect(),
            local_cseq: rand::random::<u16>() as u32 + 1,
            remote_cseq: super::header::CSeq::parse(h.get("CSeq").unwrap_or_default())
                .ok()
                .map(|c| c.seq),
            peer,
        }
    }

    /// The UAC side of a dialog we start with `invite` (its From carries our tag); the far
    /// end's tag, target and route set come from its 1xx/2xx with [`Dialog::update_from_response`].
    pub fn as_uac(invite: &Request, peer: Peer) -> Dialog {
        let h = &invite.headers;
        Dialog {
            call_id: h.get("Call-ID").unwrap_or_default().to_string(),
            local_tag: tag_of(h.get("From")),
            remote_tag: String::new(),
            local_uri: without_tag(h.get("From").unwrap_or_default()),
            remote_uri: without_tag(h.get("To").unwrap_or_default()),
            remote_target: invite.uri.clone(),
            route_set: Vec::new(),
            local_cseq: super::header::CSeq::parse(h.get("CSeq").unwrap_or_default())
                .map_or(1, |c| c.seq),
            remote_cseq: None,
            peer,
        }
    }

    /// Takes the far end's tag, Contact and (reversed) Record-Route from a response that
    /// establishes the dialog (§12.1.2).
    pub fn update_from_response(&mut self, response: &Response) {
        let h = &response.headers;
        let tag = tag_of(h.get("To"));
        if !tag.is_empty() {
            self.remote_tag = tag;
        }
        if let Some(target) = contact_uri(h.get("Contact")) {
            self.remote_target = target;
        }
        let routes: Vec<String> = h.get_all("Record-Route").map(str::to_string).collect();
        if !routes.is_empty() {
            self.route_set = routes.into_iter().rev().collect();
        }
    }

    /// A new in-dialog request (§12.2.1.1) with a fresh branch. ACK reuses the INVITE's CSeq
    /// number (§13.2.2.4): pass `Some(n)`; every other method takes the next number.
    pub fn request(&mut self, method: Method, local: SocketAddr, ack_of: Option<u32>) -> Request {
        let seq = match ack_of {
            Some(n) => n,
            None => {
                self.local_cseq += 1;
                self.local_cseq
            }
        };
        let mut request = Request::new(method.clone(), self.remote_target.clone());
        let h = &mut request.headers;
        h.push("Via", via_value(self.peer.transport, local));
        h.push("Max-Forwards", "70");
        h.push("From", format!("{};tag={}", self.local_uri, self.local_tag));
        let to = if self.remote_tag.is_empty() {
            self.remote_uri.clone()
        } else {
            format!("{};tag={}", self.remote_uri, self.remote_tag)
        };
        h.push("To", to);
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{seq} {method}"));
        for route in &self.route_set {
            h.push("Route", route.clone());
        }
        request
    }
}

/// A top Via for a request we send from `local` (§8.1.1.7: a fresh z9hG4bK branch).
pub fn via_value(transport: Transport, local: SocketAddr) -> String {
    let proto = match transport {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
    };
    format!(
        "SIP/2.0/{proto} {local};branch={MAGIC_COOKIE}{};rport",
        random_token()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: "127.0.0.1:5070".parse().unwrap(),
        }
    }

    #[test]
    fn uas_dialog_from_invite_and_bye() {
        let mut invite = Request::new(Method::Invite, "sip:112@127.0.0.1");
        invite
            .headers
            .push("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1");
        invite
            .headers
            .push("From", "\"Budi\" <sip:+62812@trunk>;tag=ft");
        invite.headers.push("To", "<sip:112@gw>");
        invite.headers.push("Call-ID", "c1");
        invite.headers.push("CSeq", "5 INVITE");
        invite
            .headers
            .push("Contact", "<sip:+62812@192.0.2.1:5060>");
        invite
            .headers
            .push("Record-Route", "<sip:proxy.example;lr>");
        let mut dialog = Dialog::as_uas(&invite, "lt", peer());
        assert_eq!(dialog.remote_tag, "ft");
        assert_eq!(dialog.remote_cseq, Some(5));
        let bye = dialog.request(Method::Bye, "127.0.0.1:5060".parse().unwrap(), None);
        assert_eq!(bye.uri, "sip:+62812@192.0.2.1:5060");
        assert_eq!(bye.headers.get("From"), Some("<sip:112@gw>;tag=lt"));
        assert_eq!(
            bye.headers.get("To"),
            Some("\"Budi\" <sip:+62812@trunk>;tag=ft")
        );
        assert_eq!(bye.headers.get("Route"), Some("<sip:proxy.example;lr>"));
        assert!(bye.headers.get("CSeq").unwrap().ends_with(" BYE"));
    }

    #[test]
    fn uac_dialog_learns_tag_target_and_reversed_routes() {
        let mut invite = Request::new(Method::Invite, "sip:seat1@127.0.0.1:5070");
        invite
            .headers
            .push("From", "<sip:+62812@siaga.local>;tag=ours");
        invite.headers.push("To", "<sip:seat1@siaga.local>");
        invite.headers.push("Call-ID", "b1");
        invite.headers.push("CSeq", "1 INVITE");
        let mut dialog = Dialog::as_uac(&invite, peer());
        let mut ok = Response::new(200);
        ok.headers.push("To", "<sip:seat1@siaga.local>;tag=theirs");
        ok.headers.push("Contact", "<sip:seat1@127.0.0.1:5071>");
        ok.headers.push("Record-Route", "<sip:a;lr>");
        ok.headers.push("Record-Route", "<sip:b;lr>");
        dialog.update_from_response(&ok);
        let ack = dialog.request(Method::Ack, "127.0.0.1:5060".parse().unwrap(), Some(1));
        assert_eq!(ack.uri, "sip:seat1@127.0.0.1:5071");
        assert_eq!(ack.headers.get("CSeq"), Some("1 ACK"));
        assert_eq!(
            ack.headers.get("To"),
            Some("<sip:seat1@siaga.local>;tag=theirs")
        );
        let routes: Vec<&str> = ack.headers.get_all("Route").collect();
        assert_eq!(routes, vec!["<sip:b;lr>", "<sip:a;lr>"]);
    }
}
