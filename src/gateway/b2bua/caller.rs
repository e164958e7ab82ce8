//! Who is calling, read once from the trunk INVITE: the text seats see in From, the number
//! screening and the record use, and the display name. Nothing else in the gateway parses
//! From, P-Asserted-Identity or Privacy.

use crate::screening::CallerId;
use crate::sip::header::NameAddr;
use crate::sip::message::Request;

/// The caller of one trunk INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The name-addr put in the seat leg's From (the trunk's From, so every softphone shows
    /// what the network showed).
    pub(crate) shown: String,
    /// The number (PAI, else From) or withheld (RFC 3323 Privacy, anonymous).
    pub(crate) id: CallerId,
    /// Display name of P-Asserted-Identity, else From.
    pub(crate) display_name: Option<String>,
}

impl Caller {
    /// Reads the caller from `invite`'s headers.
    pub(crate) fn of(invite: &Request) -> Caller {
        let h = &invite.headers;
        let from = h.get("From").and_then(|f| NameAddr::parse(f, "From").ok());
        let shown = from
            .as_ref()
            .map(|a| match &a.display {
                Some(d) if !d.is_empty() => format!("\"{d}\" <{}>", a.uri_text),
                _ => format!("<{}>", a.uri_text),
            })
            .unwrap_or_else(|| "<sip:anonymous@anonymous.invalid>".into());
        let pai = h.get("P-Asserted-Identity");
        let display_name = pai
            .and_then(|v| NameAddr::parse(v, "P-Asserted-Identity").ok())
            .or(from)
            .and_then(|a| a.display)
            .filter(|d| !d.is_empty());
        Caller {
            shown,
            id: CallerId::from_headers(h.get("From"), pai, h.get("Privacy")),
            display_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::Method;

    fn invite(headers: &[(&str, &str)]) -> Request {
        let mut r = Request::new(Method::Invite, "sip:112@127.0.0.1");
        for (n, v) in headers {
            r.headers.push(*n, v.to_string());
        }
        r
    }

    #[test]
    fn pai_names_the_number_and_display_from_shows_the_trunk_from() {
        let c = Caller::of(&invite(&[
            ("From", "\"Warga\" <sip:0811@trunk>;tag=1"),
            ("P-Asserted-Identity", "\"Ibu Sari\" <sip:+62812345@trunk>"),
        ]));
        assert_eq!(c.shown, "\"Warga\" <sip:0811@trunk>");
        assert_eq!(c.display_name.as_deref(), Some("Ibu Sari"));
        assert!(c.id.number().is_some());
    }

    #[test]
    fn no_from_is_anonymous_and_privacy_withholds() {
        let c = Caller::of(&invite(&[]));
        assert_eq!(c.shown, "<sip:anonymous@anonymous.invalid>");
        assert_eq!(c.display_name, None);
        let c = Caller::of(&invite(&[
            ("From", "<sip:0811@trunk>;tag=1"),
            ("Privacy", "id"),
        ]));
        assert_eq!(c.id, CallerId::Withheld);
    }
}
