//! SIP Geolocation (RFC 6442): the location a trunk INVITE carries by value (a PIDF-LO body
//! part named by `Geolocation: <cid:...>`) or by reference (a URI, recorded, never fetched),
//! and the PIDF-LO siaga passes on to a seat.
pub mod header;
pub mod multipart;
pub mod pidf;
pub mod print;

#[cfg(test)]
mod tests;

pub use header::{parse_geolocation, parse_routing, GeolocationError, LocationRef, Routing};
pub use multipart::{MultipartError, Part};
pub use pidf::{parse_pidf, PidfError, PidfLocation, Shape};
pub use print::{pass_on, pidf_lo, PassOn};

/// The PIDF-LO media type (RFC 4119 §4).
pub const PIDF_TYPE: &str = "application/pidf+xml";

/// What an INVITE said about where the caller is. Reading never fails: problems are kept in
/// [`InviteGeolocation::problem`] to be logged and counted, and the call goes on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InviteGeolocation {
    /// The position carried by value, when one was readable.
    pub by_value: Option<PidfLocation>,
    /// URIs given by reference (never dereferenced).
    pub by_reference: Vec<String>,
    /// `Geolocation-Routing` (RFC 6442 §4.2).
    pub routing: Option<Routing>,
    /// The first problem met (bad header, bad multipart, bad PIDF-LO, cid not found).
    pub problem: Option<GeolocError>,
}

/// Why a location in an INVITE was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeolocError {
    /// The `Geolocation` header.
    #[error("Geolocation header: {0}")]
    Header(#[from] GeolocationError),
    /// The multipart body.
    #[error("multipart body: {0}")]
    Multipart(#[from] MultipartError),
    /// No body part has the Content-ID that `cid:` names.
    #[error("no body part with Content-ID <{content_id}>")]
    MissingPart {
        /// The Content-ID looked for.
        content_id: String,
    },
    /// The PIDF-LO itself.
    #[error("PIDF-LO: {0}")]
    Pidf(#[from] PidfError),
}

/// Reads the INVITE's Geolocation: `geolocation` holds the values of every `Geolocation`
/// header (in order), `routing` the `Geolocation-Routing` value, `content_type` and `body`
/// the message's own.
pub fn from_invite(
    geolocation: &[&str],
    routing: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> InviteGeolocation {
    let mut out = InviteGeolocation {
        routing: (!geolocation.is_empty() || routing.is_some()).then(|| parse_routing(routing)),
        ..InviteGeolocation::default()
    };
    let mut cids = Vec::new();
    for value in geolocation {
        match parse_geolocation(value) {
            Ok(refs) => {
                for r in refs {
                    match r {
                        LocationRef::ContentId(id) => cids.push(id),
                        LocationRef::Reference(uri) => out.by_reference.push(uri),
                    }
                }
            }
            Err(e) => {
                out.problem.get_or_insert(e.into());
            }
        }
    }
    for cid in &cids {
        match by_value(cid, content_type, body) {
            Ok(loc) => {
                out.by_value = Some(loc);
                break;
            }
            Err(e) => {
                out.problem.get_or_insert(e);
            }
        }
    }
    if out.by_value.is_some() {
        out.problem = None;
    }
    out
}

/// [`from_invite`] over a parsed SIP message's headers and body (every `Geolocation`
/// header, `Geolocation-Routing`, `Content-Type`; RFC 3261 §7.3.1 names compare without case).
pub fn from_headers(headers: &crate::sip::message::Headers, body: &[u8]) -> InviteGeolocation {
    let geolocation: Vec<&str> = headers.get_all("Geolocation").collect();
    from_invite(
        &geolocation,
        headers.get("Geolocation-Routing"),
        headers.get("Content-Type"),
        body,
    )
}

/// The PIDF-LO part named `cid` (RFC 6442 §3.1: the body is multipart/mixed; a lone PIDF-LO
/// body is accepted too).
fn by_value(
    cid: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<PidfLocation, GeolocError> {
    let ct = content_type.unwrap_or("").trim();
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(PIDF_TYPE) {
        return Ok(parse_pidf(body)?);
    }
    let boundary = multipart::boundary(ct)?;
    let parts = multipart::split(body, &boundary)?;
    let part = parts
        .iter()
        .find(|p| p.content_id.as_deref() == Some(cid))
        // Content-IDs are addr-specs (RFC 2045 §7); some stacks change the case of the host.
        .or_else(|| {
            parts.iter().find(|p| {
                p.content_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(cid))
            })
        })
        .ok_or_else(|| GeolocError::MissingPart {
            content_id: cid.chars().take(128).collect(),
        })?;
    Ok(parse_pidf(part.body)?)
}
