//! Transaction identifiers and message matching (RFC 3261 §17.1.3, §17.2.3).
//!
//! §17.2.3: a request matches a server transaction when the top Via `branch` (with the
//! `z9hG4bK` cookie) and `sent-by` equal those of the request that created it, and the method
//! is the same — except ACK, which matches the INVITE. Without the cookie (an RFC 2543
//! peer) the key falls back to Request-URI, From tag, Call-ID, CSeq number and top Via
//! sent-by. §17.1.3: a response matches a client transaction by the top Via branch and the
//! CSeq method.

use std::fmt;

use super::TransactionError;
use crate::sip::header::{CSeq, NameAddr, Via};
use crate::sip::message::{Headers, Method, Request, Response};

/// Which side of a transaction the layer plays (§17: the client sends the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request (§17.1).
    Client,
    /// We received the request (§17.2).
    Server,
}

/// Identifies one transaction in a [`super::TransactionLayer`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxKey {
    role: Role,
    method: Method,
    id: TxId,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TxId {
    /// §17.2.3 first rule: branch and sent-by of the top Via. The Call-ID is added because
    /// senders do reuse branches across calls (RFC 4475 reuses `z9hG4bKkdjuw` in several
    /// messages): a true retransmission, its ACK and its CANCEL (§9.1) always carry the
    /// same Call-ID, so this never splits one transaction, and it keeps a colliding
    /// request from being swallowed as a "retransmission" of someone else's.
    Branch {
        branch: String,
        sent_by: String,
        call_id: String,
    },
    /// §17.2.3 RFC 2543 fallback (boxed: rare, and it keeps the key small).
    Legacy(Box<LegacyId>),
}

/// The RFC 2543 key. The To tag is left out: the INVITE has none and its ACK has ours.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LegacyId {
    request_uri: String,
    from_tag: String,
    call_id: String,
    cseq: u32,
    sent_by: String,
}

impl TxKey {
    /// Client or server side.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The method of the transaction (INVITE for an ACK to a non-2xx final response).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The top Via branch, when the key is an RFC 3261 one.
    pub fn branch(&self) -> Option<&str> {
        match &self.id {
            TxId::Branch { branch, .. } => Some(branch),
            TxId::Legacy(_) => None,
        }
    }

    /// The key of the server transaction a received request belongs to (§17.2.3).
    pub(crate) fn server(request: &Request) -> Result<TxKey, TransactionError> {
        let via = top_via(&request.headers)?;
        let id = if via.has_rfc3261_branch() {
            branch_id(&via, &request.headers)?
        } else {
            legacy_id(request, &via)?
        };
        let method = match &request.method {
            Method::Ack => Method::Invite,
            other => other.clone(),
        };
        Ok(TxKey {
            role: Role::Server,
            method,
            id,
        })
    }

    /// The key of the client transaction for a request we send: it must carry its own
    /// RFC 3261 branch (§8.1.1.7), built by the caller.
    pub(crate) fn client_for_request(request: &Request) -> Result<TxKey, TransactionError> {
        let via = top_via(&request.headers)?;
        if !via.has_rfc3261_branch() {
            return Err(TransactionError::NoRfc3261Branch);
        }
        Ok(TxKey {
            role: Role::Client,
            method: request.method.clone(),
            id: branch_id(&via, &request.headers)?,
        })
    }

    /// The key of the client transaction a received response belongs to (§17.1.3).
    pub(crate) fn client_for_response(response: &Response) -> Result<TxKey, TransactionError> {
        let via = top_via(&response.headers)?;
        let cseq = CSeq::parse(header(&response.headers, "CSeq")?)?;
        Ok(TxKey {
            role: Role::Client,
            method: cseq.method,
            id: branch_id(&via, &response.headers)?,
        })
    }

    /// The same transaction id with another method (CANCEL → INVITE lookup, §9.2).
    pub(crate) fn with_method(&self, method: Method) -> TxKey {
        TxKey {
            method,
            ..self.clone()
        }
    }
}

impl fmt::Display for TxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = match self.role {
            Role::Client => "client",
            Role::Server => "server",
        };
        match &self.id {
            TxId::Branch {
                branch, sent_by, ..
            } => {
                write!(f, "{role} {} {branch} {sent_by}", self.method)
            }
            TxId::Legacy(id) => {
                write!(
                    f,
                    "{role} {} rfc2543 {} {}",
                    self.method, id.call_id, id.cseq
                )
            }
        }
    }
}

/// Matches an ACK for a 2xx to the server INVITE transaction that sent the 2xx: that ACK
/// has a branch of its own (§17.1.1.3), so it is matched by dialog and CSeq number
/// (RFC 6026 §7.1 lets the Accepted state see it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckKey {
    call_id: String,
    cseq: u32,
    from_tag: String,
    to_tag: String,
}

impl AckKey {
    /// Reads the key from a 2xx response or from an ACK; `None` when a part is missing.
    pub(crate) fn of(headers: &Headers) -> Option<AckKey> {
        Some(AckKey {
            call_id: headers.get("Call-ID")?.trim().to_string(),
            cseq: CSeq::parse(headers.get("CSeq")?).ok()?.seq,
            from_tag: tag_of(headers, "From")?,
            to_tag: tag_of(headers, "To")?,
        })
    }
}

fn tag_of(headers: &Headers, name: &'static str) -> Option<String> {
    let value = headers.get(name)?;
    NameAddr::parse(value, name).ok()?.tag().map(str::to_string)
}

fn header<'a>(headers: &'a Headers, name: &'static str) -> Result<&'a str, TransactionError> {
    headers
        .get(name)
        .ok_or(TransactionError::MissingHeader { header: name })
}

fn top_via(headers: &Headers) -> Result<Via, TransactionError> {
    Ok(Via::parse(header(headers, "Via")?)?)
}

/// `host:port` with the host lower-cased and the default port written out (§18.2.2).
fn sent_by(via: &Via) -> String {
    let default = if via.transport == "TLS" { 5061 } else { 5060 };
    format!(
        "{}:{}",
        via.host.to_ascii_lowercase(),
        via.port.unwrap_or(default)
    )
}

fn branch_id(via: &Via, headers: &Headers) -> Result<TxId, TransactionError> {
    Ok(TxId::Branch {
        branch: via.branch().unwrap_or_default().to_string(),
        sent_by: sent_by(via),
        call_id: header(headers, "Call-ID")?.trim().to_string(),
    })
}

fn legacy_id(request: &Request, via: &Via) -> Result<TxId, TransactionError> {
    let from = header(&request.headers, "From")?;
    let from_tag = NameAddr::parse(from, "From")?
        .tag()
        .unwrap_or_default()
        .to_string();
    Ok(TxId::Legacy(Box::new(LegacyId {
        request_uri: request.uri.trim().to_string(),
        from_tag,
        call_id: header(&request.headers, "Call-ID")?.trim().to_string(),
        cseq: CSeq::parse(header(&request.headers, "CSeq")?)?.seq,
        sent_by: sent_by(via),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, branch: &str) -> Request {
        let mut r = Request::new(method.clone(), "sip:112@siaga.example");
        r.headers.push(
            "Via",
            format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
        );
        r.headers.push("From", "<sip:caller@192.0.2.10>;tag=f1");
        r.headers.push("To", "<sip:112@siaga.example>");
        r.headers.push("Call-ID", "c1");
        r.headers.push("CSeq", format!("7 {method}"));
        r
    }

    #[test]
    fn ack_matches_invite_and_cancel_does_not() {
        let invite = TxKey::server(&request(Method::Invite, "z9hG4bKa1")).unwrap();
        let ack = TxKey::server(&request(Method::Ack, "z9hG4bKa1")).unwrap();
        let cancel = TxKey::server(&request(Method::Cancel, "z9hG4bKa1")).unwrap();
        assert_eq!(invite, ack);
        assert_ne!(invite, cancel);
        assert_eq!(cancel.with_method(Method::Invite), invite);
        assert_eq!(invite.branch(), Some("z9hG4bKa1"));
    }

    #[test]
    fn sent_by_default_port_and_case() {
        let mut a = request(Method::Invite, "z9hG4bKa1");
        a.headers
            .set("Via", "SIP/2.0/UDP HOST.example;branch=z9hG4bKa1");
        let mut b = a.clone();
        b.headers
            .set("Via", "SIP/2.0/UDP host.example:5060;branch=z9hG4bKa1");
        assert_eq!(TxKey::server(&a).unwrap(), TxKey::server(&b).unwrap());
    }

    #[test]
    fn rfc2543_fallback_uses_dialog_fields() {
        let a = request(Method::Invite, "1234");
        let key = TxKey::server(&a).unwrap();
        assert_eq!(key.branch(), None);
        let mut other_call = a.clone();
        other_call.headers.set("Call-ID", "c2");
        assert_ne!(key, TxKey::server(&other_call).unwrap());
        let mut ack = a.clone();
        ack.method = Method::Ack;
        ack.headers.set("To", "<sip:112@siaga.example>;tag=srv");
        assert_eq!(key, TxKey::server(&ack).unwrap());
    }

    #[test]
    fn client_request_needs_cookie() {
        let err = TxKey::client_for_request(&request(Method::Options, "abc")).unwrap_err();
        assert!(matches!(err, TransactionError::NoRfc3261Branch));
    }

    #[test]
    fn reused_branch_with_another_call_id_is_another_transaction() {
        let first = request(Method::Register, "z9hG4bKkdjuw");
        let mut second = first.clone();
        second.headers.set("Call-ID", "c2");
        assert_ne!(
            TxKey::server(&first).unwrap(),
            TxKey::server(&second).unwrap()
        );
    }
}
