//! `multipart/mixed` bodies (RFC 2046 §5.1): an INVITE carrying SDP and a PIDF-LO
//! (RFC 6442 §3.1, RFC 5621).
//!
//! ```text
//! multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
//!                   *encapsulation close-delimiter transport-padding [CRLF epilogue]
//! encapsulation  := delimiter transport-padding CRLF body-part
//! delimiter      := CRLF dash-boundary        ; dash-boundary := "--" boundary
//! ```
//!
//! Bare LF line ends are accepted too (some SIP stacks write them). A missing close
//! delimiter keeps the parts found so far: the location is worth more than the framing.

/// Parts read from one body at most.
const MAX_PARTS: usize = 16;
/// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
const MAX_BOUNDARY: usize = 70;

/// One body part, borrowing from the message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// `Content-Type` media type, lower-cased, without parameters (`application/pidf+xml`).
    pub content_type: Option<String>,
    /// `Content-ID` without the angle brackets.
    pub content_id: Option<String>,
    /// The part's body (after the blank line).
    pub body: &'a [u8],
}

/// Why a body cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultipartError {
    /// The Content-Type is not `multipart/*`.
    #[error("Content-Type is not multipart")]
    NotMultipart,
    /// No usable `boundary` parameter.
    #[error("multipart Content-Type without a valid boundary")]
    NoBoundary,
    /// The boundary never occurs in the body.
    #[error("the boundary does not occur in the body")]
    NoParts,
}

/// The `boundary` parameter of a `multipart/...` Content-Type value.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = content_type.split(';');
    let media = params.next().unwrap_or("").trim();
    if !media.to_ascii_lowercase().starts_with("multipart/") {
        return Err(MultipartError::NotMultipart);
    }
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("boundary") {
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let ok = !value.is_empty()
            && value.len() <= MAX_BOUNDARY
            && value.bytes().all(|b| (0x20..0x7f).contains(&b));
        return if ok {
            Ok(value.to_owned())
        } else {
            Err(MultipartError::NoBoundary)
        };
    }
    Err(MultipartError::NoBoundary)
}

/// Splits `body` into its parts (at most 16).
pub fn split<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let dash = format!("--{boundary}");
    let dash = dash.as_bytes();
    // The first dash-boundary: at the start or after a line end (preamble before it).
    let mut pos = find_delimiter(body, dash, 0, true).ok_or(MultipartError::NoParts)?;
    let mut parts = Vec::new();
    while parts.len() < MAX_PARTS {
        let after = pos + dash.len();
        if body[after..].starts_with(b"--") {
            break; // close-delimiter
        }
        // transport-padding then the line end.
        let Some(start) = line_end(body, after) else {
            break;
        };
        let next = find_delimiter(body, dash, start, false);
        let end = match next {
            Some(n) => strip_line_end_before(body, n),
            None => body.len(),
        };
        parts.push(part(&body[start.min(end)..end]));
        match next {
            Some(n) => pos = n,
            None => break,
        }
    }
    if parts.is_empty() {
        return Err(MultipartError::NoParts);
    }
    Ok(parts)
}

/// The index of the next `dash` that starts a line, from `from`. When `first`, it may be at
/// `from` itself without a preceding line end.
fn find_delimiter(body: &[u8], dash: &[u8], from: usize, first: bool) -> Option<usize> {
    let mut i = from;
    while i + dash.len() <= body.len() {
        let found = body[i..]
            .windows(dash.len())
            .position(|w| w == dash)
            .map(|p| p + i)?;
        let at_line_start = (first && found == 0) || (found > 0 && body[found - 1] == b'\n');
        if at_line_start {
            return Some(found);
        }
        i = found + 1;
    }
    None
}

/// After a boundary: skip spaces/tabs, then expect CRLF or LF; returns the next line's start.
fn line_end(body: &[u8], mut i: usize) -> Option<usize> {
    while i < body.len() && (body[i] == b' ' || body[i] == b'\t') {
        i += 1;
    }
    if body[i..].starts_with(b"\r\n") {
        Some(i + 2)
    } else if body[i..].starts_with(b"\n") {
        Some(i + 1)
    } else {
        None
    }
}

/// The delimiter's CRLF (or LF) belongs to it, not to the part before (RFC 2046 §5.1.1).
fn strip_line_end_before(body: &[u8], n: usize) -> usize {
    if n >= 2 && &body[n - 2..n] == b"\r\n" {
        n - 2
    } else if n >= 1 && body[n - 1] == b'\n' {
        n - 1
    } else {
        n
    }
}

/// One part: MIME headers (RFC 2045), a blank line, the body. Headers we do not use are
/// skipped; a part without a blank line is all headers and an empty body.
fn part(raw: &[u8]) -> Part<'_> {
    let mut p = Part {
        content_type: None,
        content_id: None,
        body: &[],
    };
    let mut i = 0;
    while i < raw.len() {
        let line_end = raw[i..].iter().position(|&b| b == b'\n').map(|e| e + i);
        let line = &raw[i..line_end.unwrap_or(raw.len())];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let next = line_end.map_or(raw.len(), |e| e + 1);
        if line.is_empty() {
            p.body = &raw[next..];
            return p;
        }
        let header = std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.split_once(':'))
            .filter(|(name, _)| is_field_name(name));
        let Some((name, value)) = header else {
            // Not a header line: the blank line is missing (RFC 6442's own examples, erratum
            // 5027) and the body starts here.
            p.body = &raw[i..];
            return p;
        };
        {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-type") {
                let media = value.split(';').next().unwrap_or("").trim();
                p.content_type = Some(media.to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case("content-id") {
                let id = value.trim_start_matches('<').trim_end_matches('>').trim();
                p.content_id = Some(id.to_owned());
            }
        }
        i = next;
    }
    p
}

/// RFC 5322 §3.6.8 field-name: printable ASCII except `:`, no spaces.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_forms() {
        assert_eq!(
            boundary("multipart/mixed; boundary=boundary1"),
            Ok("boundary1".into())
        );
        assert_eq!(
            boundary("Multipart/Mixed;BOUNDARY=\"a b:c\";x=y"),
            Ok("a b:c".into())
        );
        assert_eq!(
            boundary("application/sdp"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(boundary("multipart/mixed"), Err(MultipartError::NoBoundary));
        assert_eq!(
            boundary("multipart/mixed; boundary=\"\""),
            Err(MultipartError::NoBoundary)
        );
        let long = format!("multipart/mixed; boundary={}", "x".repeat(71));
        assert_eq!(boundary(&long), Err(MultipartError::NoBoundary));
    }

    #[test]
    fn two_parts_with_preamble_and_epilogue() {
        let body = b"preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1 \r\nContent-Type: application/pidf+xml; charset=utf-8\r\nContent-ID: <x@y>\r\n\r\n<presence/>\r\n--b1--\r\nepilogue";
        let parts = split(body, "b1").expect("splits");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content_type.as_deref(), Some("application/sdp"));
        assert_eq!(parts[0].body, b"v=0\r\n");
        assert_eq!(
            parts[1].content_type.as_deref(),
            Some("application/pidf+xml")
        );
        assert_eq!(parts[1].content_id.as_deref(), Some("x@y"));
        assert_eq!(parts[1].body, b"<presence/>");
    }

    #[test]
    fn boundary_text_inside_a_line_is_not_a_delimiter() {
        let body = b"--b\nContent-Type: text/plain\n\nsee --b here\n--b--\n";
        let parts = split(body, "b").expect("splits");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].body, b"see --b here");
    }

    #[test]
    fn unclosed_and_empty() {
        let parts = split(b"--b\r\n\r\nabc", "b").expect("keeps what is there");
        assert_eq!(parts[0].body, b"abc");
        assert_eq!(
            split(b"no boundary here", "b"),
            Err(MultipartError::NoParts)
        );
        assert_eq!(split(b"--b--", "b"), Err(MultipartError::NoParts));
        assert_eq!(split(b"--b", "b"), Err(MultipartError::NoParts));
        assert_eq!(split(b"", "b"), Err(MultipartError::NoParts));
    }
}
