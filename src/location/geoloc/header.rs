//! The `Geolocation` and `Geolocation-Routing` header fields of RFC 6442 §4.1 and §4.2.
//!
//! ```text
//! Geolocation        = "Geolocation" HCOLON locationValue *( COMMA locationValue )
//! locationValue      = LAQUOT locationURI RAQUOT *(SEMI geoloc-param)
//! locationURI        = sip-URI / sips-URI / pres-URI / cid-url / absoluteURI
//! Geolocation-Routing = "Geolocation-Routing" HCOLON ( "yes" / "no" / generic-value )
//! ```
//!
//! A `cid:` URI names a body part of this message (location by value, RFC 2392); any other
//! URI is a location by reference, which siaga records and shows but never dereferences
//! (it sends no request to a host named in a message).

/// Most location values read from one message (RFC 6442 §4.1 allows several; real ones
/// carry one or two).
const MAX_VALUES: usize = 8;
/// Longest URI kept.
const MAX_URI: usize = 512;

/// One `locationValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocationRef {
    /// `cid:` — the Content-ID of a body part (angle brackets removed, percent-decoded).
    ContentId(String),
    /// Any other URI (`https:`, `sip:`, `pres:`): recorded, never fetched.
    Reference(String),
}

/// Why a header value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeolocationError {
    /// No `<...>` URI where one is required.
    #[error("Geolocation value without <URI>")]
    NoUri,
    /// An empty or over-long URI, or one with control characters.
    #[error("Geolocation URI is empty, too long or not printable")]
    BadUri,
}

/// Parses one `Geolocation` header value (which may hold several comma-separated values).
/// Header parameters after `;` are ignored (RFC 6442 defines none).
pub fn parse_geolocation(value: &str) -> Result<Vec<LocationRef>, GeolocationError> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() && out.len() < MAX_VALUES {
        let start = rest.strip_prefix('<').ok_or(GeolocationError::NoUri)?;
        let end = start.find('>').ok_or(GeolocationError::NoUri)?;
        out.push(location_ref(start[..end].trim())?);
        // Skip parameters up to the next comma outside the URI.
        rest = &start[end + 1..];
        rest = match rest.find(',') {
            Some(i) => rest[i + 1..].trim_start(),
            None => "",
        };
    }
    if out.is_empty() {
        return Err(GeolocationError::NoUri);
    }
    Ok(out)
}

fn location_ref(uri: &str) -> Result<LocationRef, GeolocationError> {
    if uri.is_empty() || uri.len() > MAX_URI || uri.chars().any(|c| c.is_control() || c == ' ') {
        return Err(GeolocationError::BadUri);
    }
    // `get`: a multi-byte character may sit inside the first four bytes (found by fuzzing).
    let cid = uri
        .get(..4)
        .filter(|s| s.eq_ignore_ascii_case("cid:"))
        .map(|_| &uri[4..])
        .filter(|id| !id.is_empty());
    if let Some(id) = cid {
        // RFC 2392 §2: cid-url = "cid" ":" content-id, with %hh escapes.
        let decoded = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
        Ok(LocationRef::ContentId(decoded.into_owned()))
    } else {
        Ok(LocationRef::Reference(uri.to_owned()))
    }
}

/// RFC 6442 §4.2: may the location be used to route the call?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Routing {
    /// `yes`.
    Allowed,
    /// `no`, the default when the header is absent (§4.2).
    NotAllowed,
    /// A future value: treated as `no`.
    Other,
}

/// Parses a `Geolocation-Routing` value; `None` (no header) means [`Routing::NotAllowed`].
pub fn parse_routing(value: Option<&str>) -> Routing {
    match value.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("yes") => Routing::Allowed,
        Some(v) if v.eq_ignore_ascii_case("no") => Routing::NotAllowed,
        None => Routing::NotAllowed,
        Some(_) => Routing::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6442_examples() {
        // RFC 6442 §3.1 (by value) and §3.2 (by reference).
        assert_eq!(
            parse_geolocation("<cid:target123@atlanta.example.com>"),
            Ok(vec![LocationRef::ContentId(
                "target123@atlanta.example.com".into()
            )])
        );
        assert_eq!(
            parse_geolocation("<sips:3sdefrhy2jj7@lis.atlanta.example.com>"),
            Ok(vec![LocationRef::Reference(
                "sips:3sdefrhy2jj7@lis.atlanta.example.com".into()
            )])
        );
    }

    #[test]
    fn several_values_params_and_escapes() {
        let v = parse_geolocation(
            " <CID:a%40b> ;inserted-by=proxy, <https://lis.example/loc?id=1,2>;x=y ",
        )
        .expect("parses");
        assert_eq!(
            v,
            [
                LocationRef::ContentId("a@b".into()),
                LocationRef::Reference("https://lis.example/loc?id=1,2".into())
            ]
        );
    }

    #[test]
    fn bad_values() {
        assert_eq!(parse_geolocation(""), Err(GeolocationError::NoUri));
        assert_eq!(parse_geolocation("cid:x"), Err(GeolocationError::NoUri));
        assert_eq!(parse_geolocation("<cid:x"), Err(GeolocationError::NoUri));
        assert_eq!(parse_geolocation("<>"), Err(GeolocationError::BadUri));
        assert_eq!(parse_geolocation("<a b>"), Err(GeolocationError::BadUri));
        // Fuzz finding: a multi-byte character within the first four bytes.
        assert_eq!(
            parse_geolocation("<,cf\u{fffd}x>"),
            Ok(vec![LocationRef::Reference(",cf\u{fffd}x".into())])
        );
        let many = "<cid:a>,".repeat(100);
        assert_eq!(parse_geolocation(&many).map(|v| v.len()), Ok(8));
    }

    #[test]
    fn routing() {
        assert_eq!(parse_routing(Some(" yes")), Routing::Allowed);
        assert_eq!(parse_routing(Some("NO")), Routing::NotAllowed);
        assert_eq!(parse_routing(None), Routing::NotAllowed);
        assert_eq!(parse_routing(Some("maybe")), Routing::Other);
    }
}
