//! Typed views over the header values the gateway reads (RFC 3261 §20 and §25.1 grammar).
//!
//! Values stay text in [`super::message::Headers`]; these parsers read one value at a time
//! and never rewrite it, so forwarding keeps the sender's bytes (see notes/sip-crates.md §6
//! on why rebuilding URIs from typed parts is lossy).

mod cseq;
mod name_addr;
mod params;
mod uri;
mod via;

pub use cseq::CSeq;
pub use name_addr::NameAddr;
pub use params::{split_list, Params};
pub use uri::Uri;
pub use via::{Via, MAGIC_COOKIE};

/// Why a header value could not be read. `header` names the field so a 400 can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad {header} header: {reason}")]
#[non_exhaustive]
pub struct HeaderError {
    /// The header's canonical name.
    pub header: &'static str,
    /// What is wrong, in a few words.
    pub reason: &'static str,
}

impl HeaderError {
    pub(crate) fn new(header: &'static str, reason: &'static str) -> HeaderError {
        HeaderError { header, reason }
    }
}

/// RFC 3261 §25.1 `token` characters.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// True when `s` is a non-empty token.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}
