//! Building a response to a request (RFC 3261 §8.2.6.2).

use super::message::{Request, Response};

/// A response that copies Via, From, To, Call-ID and CSeq from `request` (§8.2.6.2).
/// `to_tag` is added to To when the request's To has no tag yet (§8.2.6.2: a UAS adds
/// a tag to every response except 100 Trying).
pub fn response_to(request: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut response = Response::new(status);
    for header in request.headers.iter() {
        let copied = ["Via", "From", "To", "Call-ID", "CSeq"]
            .iter()
            .any(|n| header.name.eq_ignore_ascii_case(n));
        if !copied {
            continue;
        }
        let mut value = header.value.clone();
        if header.name.eq_ignore_ascii_case("To") && status != 100 {
            if let Some(tag) = to_tag {
                let has_tag = super::header::NameAddr::parse(&value, "To")
                    .map(|to| to.tag().is_some())
                    .unwrap_or(true);
                if !has_tag {
                    value.push_str(";tag=");
                    value.push_str(tag);
                }
            }
        }
        response.headers.push(header.name.clone(), value);
    }
    response
}

/// A random token for tags and branches: 16 hex digits.
pub fn random_token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::Method;

    #[test]
    fn copies_dialog_headers_and_adds_tag() {
        let mut req = Request::new(Method::Options, "sip:siaga.local");
        req.headers
            .push("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1");
        req.headers.push("Max-Forwards", "70");
        req.headers.push("From", "<sip:a@b>;tag=1");
        req.headers.push("To", "<sip:siaga.local>");
        req.headers.push("Call-ID", "x");
        req.headers.push("CSeq", "1 OPTIONS");
        let resp = response_to(&req, 200, Some("t9"));
        assert_eq!(resp.headers.get("To"), Some("<sip:siaga.local>;tag=t9"));
        assert_eq!(resp.headers.get("Max-Forwards"), None);
        assert_eq!(resp.headers.count("Via"), 1);
    }
}
