//! The ingress gate: what no parser crate checks (notes/sip-crates.md §6). Every message
//! from the network passes here before it reaches a transaction.
//!
//! Order of checks follows RFC 3261 §8.2: syntax (400, 505), then method (405/501),
//! Request-URI scheme (416), extensions (420), content (415, 406), and hop count (483).
//! Faults are named in the reason phrase and in a Warning (RFC 3261 §20.43, code 399).

use super::header::{CSeq, NameAddr, Uri, Via};
use super::message::{Message, Method, Request, Response};
use super::parse::{parse, Framing, ParseErrorKind};
use super::reply::response_to;

/// Methods the gateway serves; other known methods get 405 with Allow (§8.2.1).
pub const ALLOWED_METHODS: &[Method] = &[
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Cancel,
    Method::Options,
    Method::Register,
];

/// Option tags the gateway supports (RFC 3261 §8.2.2.3); a Require outside this set → 420.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["timer"];

/// What to do with one incoming datagram or stream frame.
#[derive(Debug)]
pub enum Ingress {
    /// An acceptable request for the transaction layer.
    Request(Request),
    /// A well-formed response for the transaction layer.
    Response(Response),
    /// Answer statelessly with this response (400, 405, 415, 416, 420, 483, 501, 505 ...).
    Reject(Response),
    /// Nothing to answer: a bad response, an ACK, or a request too broken to address.
    Drop(String),
}

/// A refusal: status and the fault in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fault {
    status: u16,
    reason: String,
    extra: Vec<(&'static str, String)>,
}

impl Fault {
    fn new(status: u16, reason: impl Into<String>) -> Fault {
        Fault {
            status,
            reason: reason.into(),
            extra: Vec::new(),
        }
    }
}

/// Parses and checks one message. `warn_agent` names the gateway in Warning headers.
pub fn ingress(bytes: &[u8], framing: Framing, warn_agent: &str) -> Ingress {
    match parse(bytes, framing) {
        Ok(Message::Request(request)) => match check_request(&request) {
            Ok(()) => Ingress::Request(request),
            Err(_) if request.method == Method::Ack => Ingress::Drop("bad ACK".into()),
            Err(fault) => Ingress::Reject(refusal(&request, fault, warn_agent)),
        },
        Ok(Message::Response(response)) => match check_response(&response) {
            Ok(()) => Ingress::Response(response),
            Err(fault) => Ingress::Drop(format!("bad response: {}", fault.reason)),
        },
        Err(error) => {
            let status = match error.kind {
                ParseErrorKind::BadVersion(_) => 505,
                _ => 400,
            };
            let Some(headers) = error.request_headers else {
                return Ingress::Drop(error.kind.to_string());
            };
            let method = headers
                .get("CSeq")
                .and_then(|v| CSeq::parse(v).ok())
                .map_or(Method::Options, |c| c.method);
            if headers.get("Via").is_none() || method == Method::Ack {
                return Ingress::Drop(error.kind.to_string());
            }
            let request = Request {
                method,
                uri: String::new(),
                headers: *headers,
                body: Vec::new(),
            };
            let fault = Fault::new(status, error.kind.to_string());
            Ingress::Reject(refusal(&request, fault, warn_agent))
        }
    }
}

fn refusal(request: &Request, fault: Fault, warn_agent: &str) -> Response {
    let mut response = response_to(request, fault.status, Some(&super::reply::random_token()));
    let reason = fault.reason.replace(['\r', '\n'], " ");
    response.reason = reason.clone();
    for (name, value) in fault.extra {
        response.headers.push(name, value);
    }
    if fault.status == 400 || fault.status == 505 {
        let text = reason.replace(['"', '\\'], "'");
        response
            .headers
            .push("Warning", format!("399 {warn_agent} \"{text}\""));
    }
    response
}

fn check_response(response: &Response) -> Result<(), Fault> {
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if response.headers.get(name).is_none() {
            return Err(Fault::new(400, format!("missing {name} header")));
        }
    }
    for via in response.headers.get_all("Via") {
        Via::parse(via).map_err(|e| Fault::new(400, e.to_string()))?;
    }
    CSeq::parse(response.headers.get("CSeq").unwrap_or_default())
        .map_err(|e| Fault::new(400, e.to_string()))?;
    Ok(())
}

/// All checks on a parsed request, in RFC 3261 §8.2 order.
fn check_request(request: &Request) -> Result<(), Fault> {
    check_syntax(request)?;
    check_method(request)?;
    let uri =
        Uri::parse(&request.uri, "Request-URI").map_err(|e| Fault::new(400, e.to_string()))?;
    check_request_uri(&uri)?;
    check_require(request)?;
    check_content(request)?;
    check_hops(request)
}

fn check_syntax(request: &Request) -> Result<(), Fault> {
    let h = &request.headers;
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        match h.count(name) {
            0 => return Err(Fault::new(400, format!("missing {name} header"))),
            1 => {}
            _ if name == "Via" => {}
            _ => return Err(Fault::new(400, format!("multiple {name} headers"))),
        }
    }
    for name in ["Max-Forwards", "Content-Type", "Expires", "Date"] {
        if h.count(name) > 1 {
            return Err(Fault::new(400, format!("multiple {name} headers")));
        }
    }
    let bad = |e: super::header::HeaderError| Fault::new(400, e.to_string());
    for via in h.get_all("Via") {
        Via::parse(via).map_err(bad)?;
    }
    NameAddr::parse(h.get("From").unwrap_or_default(), "From").map_err(bad)?;
    NameAddr::parse(h.get("To").unwrap_or_default(), "To").map_err(bad)?;
    for contact in h.get_all("Contact") {
        if contact != "*" {
            NameAddr::parse(contact, "Contact").map_err(bad)?;
        }
    }
    let call_id = h.get("Call-ID").unwrap_or_default();
    if call_id.is_empty() || call_id.contains([' ', '\t']) {
        return Err(Fault::new(400, "bad Call-ID header"));
    }
    let cseq = CSeq::parse(h.get("CSeq").unwrap_or_default()).map_err(bad)?;
    // §8.1.1.5: the CSeq method must match the Request-Line (RFC 4475 §3.1.2.17/18).
    if cseq.method != request.method {
        return Err(Fault::new(
            400,
            "CSeq method does not match the Request-Line",
        ));
    }
    if let Some(mf) = h.get("Max-Forwards") {
        if max_forwards(mf).is_none() {
            return Err(Fault::new(
                400,
                "bad Max-Forwards header: not an integer 0-255",
            ));
        }
    }
    if let Some(expires) = h.get("Expires") {
        if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Fault::new(400, "bad Expires header: not an integer"));
        }
    }
    // §20.17: Date is an RFC 1123 date and always in GMT (RFC 4475 §3.1.2.12).
    if let Some(date) = h.get("Date") {
        if !date.ends_with(" GMT") {
            return Err(Fault::new(400, "bad Date header: time zone must be GMT"));
        }
    }
    Ok(())
}

fn max_forwards(value: &str) -> Option<u8> {
    if value.is_empty() || value.len() > 3 + 7 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u32>().ok().and_then(|v| u8::try_from(v).ok())
}

fn check_method(request: &Request) -> Result<(), Fault> {
    if ALLOWED_METHODS.contains(&request.method) {
        return Ok(());
    }
    let allow = ALLOWED_METHODS
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let status = match request.method {
        Method::Extension(_) => 501,
        _ => 405,
    };
    let mut fault = Fault::new(status, super::message::reason_phrase(status));
    fault.extra.push(("Allow", allow));
    Err(fault)
}

fn check_request_uri(uri: &Uri) -> Result<(), Fault> {
    match uri.scheme.as_str() {
        "sip" | "sips" => {
            // §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
            if uri.headers.is_some() {
                return Err(Fault::new(400, "header part not allowed in Request-URI"));
            }
            Ok(())
        }
        "tel" | "urn" => Ok(()),
        other => Err(Fault::new(416, format!("Unsupported URI Scheme {other}"))),
    }
}

fn check_require(request: &Request) -> Result<(), Fault> {
    let unsupported: Vec<&str> = request
        .headers
        .get_all("Require")
        .filter(|tag| {
            !SUPPORTED_EXTENSIONS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(tag))
        })
        .collect();
    // §8.2.2.3: ACK and CANCEL never get 420.
    if unsupported.is_empty() || matches!(request.method, Method::Ack | Method::Cancel) {
        return Ok(());
    }
    let mut fault = Fault::new(420, "Bad Extension");
    fault.extra.push(("Unsupported", unsupported.join(", ")));
    Err(fault)
}

/// §8.2.3: an INVITE body must be SDP we can read, or a `multipart/mixed` body (RFC 5621)
/// carrying SDP and a PIDF-LO (RFC 6442 §3.1: SIP Geolocation by value; an emergency call
/// is never refused for its location data, and the B2BUA finds the SDP part or answers 488);
/// the Accept list must allow SDP back.
fn check_content(request: &Request) -> Result<(), Fault> {
    if request.method != Method::Invite {
        return Ok(());
    }
    let media_of = |t: &str| t.split(';').next().unwrap_or_default().trim().to_string();
    let is_sdp = |t: &str| media_of(t).eq_ignore_ascii_case("application/sdp");
    if !request.body.is_empty() {
        let content_type = request.headers.get("Content-Type").unwrap_or_default();
        let multipart = media_of(content_type).eq_ignore_ascii_case("multipart/mixed");
        if !is_sdp(content_type) && !multipart {
            let mut fault = Fault::new(415, "Unsupported Media Type");
            fault.extra.push(("Accept", "application/sdp".into()));
            return Err(fault);
        }
    }
    let accepts: Vec<&str> = request.headers.get_all("Accept").collect();
    let sdp_accepted = accepts.is_empty()
        || accepts.iter().any(|a| {
            let media = a.split(';').next().unwrap_or_default().trim();
            is_sdp(media) || media == "*/*" || media.eq_ignore_ascii_case("application/*")
        });
    if !sdp_accepted {
        let mut fault = Fault::new(406, "Not Acceptable");
        fault.extra.push(("Accept", "application/sdp".into()));
        return Err(fault);
    }
    Ok(())
}

/// A B2BUA forwards INVITEs, so Max-Forwards 0 on an INVITE means a loop (§16.3 step 2);
/// OPTIONS and REGISTER addressed to the gateway itself are answered (RFC 4475 §3.3.11).
fn check_hops(request: &Request) -> Result<(), Fault> {
    let exhausted = request
        .headers
        .get("Max-Forwards")
        .and_then(max_forwards)
        .is_some_and(|mf| mf == 0);
    if exhausted && request.method == Method::Invite {
        return Err(Fault::new(483, "Too Many Hops"));
    }
    Ok(())
}
