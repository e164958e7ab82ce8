//! Seat bindings: the location service of RFC 3261 §10.3, steps 6 to 8.
//!
//! A seat's address-of-record is its name (the To URI user part). Each binding keeps the
//! Contact URI text, when it lapses, its `q`, the Call-ID/CSeq of the REGISTER that set
//! it, and the transport **source** the REGISTER came from. Requests to a seat go to that
//! source, never to a host named in the Contact: the gateway is not an open proxy.

use crate::sip::header::{CSeq, NameAddr, Uri};
use crate::sip::message::Request;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// At most this many contacts per seat (a softphone or two, a desk phone).
pub(crate) const MAX_CONTACTS_PER_SEAT: usize = 8;

/// One registered contact of a seat.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The Contact URI exactly as the seat wrote it (without `<>`).
    pub contact: String,
    /// When the binding lapses unless refreshed.
    pub expires_at: Instant,
    /// The `q` preference (RFC 3261 §20.10), when given.
    pub q: Option<f32>,
    /// Call-ID of the REGISTER that last set this binding (§10.3 step 7).
    pub call_id: String,
    /// CSeq number of that REGISTER.
    pub cseq: u32,
    /// Where that REGISTER came from: requests to the seat are sent here.
    pub source: SocketAddr,
}

/// Expiry limits in seconds (RFC 3261 §10.2.1.1, §10.3 step 7, §20.23).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) min: u32,
    pub(crate) default: u32,
    pub(crate) max: u32,
}

/// Why a binding update is refused; mapped to a status in one place (`Registrar`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum BindingError {
    /// 400: a header is missing or unreadable, or `*` is misused (§10.3 step 6).
    #[error("bad {header}: {reason}")]
    BadRequest {
        header: &'static str,
        reason: &'static str,
    },
    /// 423 with `Min-Expires` (§10.3 step 7, §21.4.17).
    #[error("expires {requested}s is below the minimum {min}s")]
    IntervalTooBrief { requested: u32, min: u32 },
    /// The same Call-ID with a CSeq not above the stored one (§10.3 steps 6 and 7).
    #[error("CSeq {cseq} is not above {stored} for this Call-ID")]
    OutOfOrder { cseq: u32, stored: u32 },
    /// More than [`MAX_CONTACTS_PER_SEAT`] contacts would be bound.
    #[error("more than {limit} contacts")]
    TooManyContacts { limit: usize },
}

fn bad(header: &'static str, reason: &'static str) -> BindingError {
    BindingError::BadRequest { header, reason }
}

/// All bindings, by seat name.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    pub(super) by_seat: HashMap<String, Vec<Binding>>,
}

/// Comparison key for Contact URIs: a reduced form of §19.1.4 (scheme, user, host
/// case-insensitively, port, transport).
fn contact_key(uri: &Uri) -> String {
    format!(
        "{}:{}@{}:{}:{}",
        uri.scheme,
        uri.user.as_deref().unwrap_or(""),
        uri.host.to_ascii_lowercase(),
        uri.port.unwrap_or(0),
        uri.params
            .value("transport")
            .unwrap_or("")
            .to_ascii_lowercase()
    )
}

fn key_of(binding: &Binding) -> String {
    Uri::parse(&binding.contact, "Contact")
        .map(|u| contact_key(&u))
        .unwrap_or_else(|_| binding.contact.clone())
}

/// `delta-seconds` (§20.19): larger values than 2^32-1 are taken as 2^32-1.
fn delta_seconds(text: &str, header: &'static str) -> Result<u32, BindingError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(header, "expires is not delta-seconds"));
    }
    Ok(text
        .parse::<u64>()
        .map_or(u32::MAX, |v| v.min(u64::from(u32::MAX)) as u32))
}

/// One Contact of the request, read and checked.
struct NewContact {
    uri_text: String,
    key: String,
    expires: u32,
    q: Option<f32>,
}

fn read_contact(
    value: &str,
    header_expires: Option<u32>,
    limits: Limits,
) -> Result<NewContact, BindingError> {
    let addr = NameAddr::parse(value, "Contact").map_err(|e| bad("Contact", e.reason))?;
    if !addr.uri.is_sip() {
        return Err(bad("Contact", "contact must be a SIP or SIPS URI"));
    }
    let expires = match addr.params.value("expires") {
        Some(v) => delta_seconds(v, "Contact")?,
        None => header_expires.unwrap_or(limits.default),
    };
    if expires != 0 && expires < limits.min {
        return Err(BindingError::IntervalTooBrief {
            requested: expires,
            min: limits.min,
        });
    }
    let q = match addr.params.value("q") {
        None => None,
        Some(v) => Some(
            v.parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or(bad("Contact", "q must be between 0 and 1"))?,
        ),
    };
    Ok(NewContact {
        key: contact_key(&addr.uri),
        uri_text: addr.uri_text,
        expires: expires.min(limits.max),
        q,
    })
}

impl Bindings {
    /// Applies a REGISTER for `seat` (§10.3 steps 6 and 7). All or nothing: on error the
    /// seat's bindings are unchanged. With no Contact this is a query.
    pub(crate) fn update(
        &mut self,
        now: Instant,
        seat: &str,
        source: SocketAddr,
        req: &Request,
        limits: Limits,
    ) -> Result<(), BindingError> {
        let call_id = req
            .headers
            .get("Call-ID")
            .ok_or(bad("Call-ID", "missing"))?
            .to_string();
        let cseq = CSeq::parse(req.headers.get("CSeq").ok_or(bad("CSeq", "missing"))?)
            .map_err(|e| bad("CSeq", e.reason))?
            .seq;
        let header_expires = match req.headers.get("Expires") {
            Some(v) => Some(delta_seconds(v, "Expires")?),
            None => None,
        };
        let values: Vec<&str> = req.headers.get_all("Contact").collect();
        let mut list: Vec<Binding> = self
            .by_seat
            .get(seat)
            .map(|l| l.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        // The request is out of order when it reuses a binding's Call-ID without a
        // higher CSeq (§10.3 steps 6 and 7).
        let check_order = |b: &Binding| {
            if b.call_id == call_id && cseq <= b.cseq {
                Err(BindingError::OutOfOrder {
                    cseq,
                    stored: b.cseq,
                })
            } else {
                Ok(())
            }
        };
        if values.iter().any(|v| v.trim() == "*") {
            if values.len() != 1 || header_expires != Some(0) {
                return Err(bad("Contact", "'*' must be alone and with Expires: 0"));
            }
            list.iter().try_for_each(check_order)?;
            self.by_seat.remove(seat);
            return Ok(());
        }
        let contacts = values
            .iter()
            .map(|v| read_contact(v, header_expires, limits))
            .collect::<Result<Vec<_>, _>>()?;
        for new in contacts {
            let existing = list.iter().position(|b| key_of(b) == new.key);
            if let Some(i) = existing {
                check_order(&list[i])?;
                list.remove(i);
            }
            if new.expires > 0 {
                list.push(Binding {
                    contact: new.uri_text,
                    expires_at: now + Duration::from_secs(u64::from(new.expires)),
                    q: new.q,
                    call_id: call_id.clone(),
                    cseq,
                    source,
                });
            }
        }
        if list.len() > MAX_CONTACTS_PER_SEAT {
            return Err(BindingError::TooManyContacts {
                limit: MAX_CONTACTS_PER_SEAT,
            });
        }
        if list.is_empty() {
            self.by_seat.remove(seat);
        } else {
            self.by_seat.insert(seat.to_string(), list);
        }
        Ok(())
    }

    /// The seat's live bindings, highest `q` first (absent q counts as 1.0).
    pub(crate) fn current(&self, now: Instant, seat: &str) -> Vec<Binding> {
        let mut list: Vec<Binding> = self
            .by_seat
            .get(seat)
            .map(|l| l.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        list.sort_by(|a, b| b.q.unwrap_or(1.0).total_cmp(&a.q.unwrap_or(1.0)));
        list
    }

    /// Removes lapsed bindings and returns them as (seat, contact).
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<(String, String)> {
        let mut gone = Vec::new();
        self.by_seat.retain(|seat, list| {
            list.retain(|b| {
                let live = b.expires_at > now;
                if !live {
                    gone.push((seat.clone(), b.contact.clone()));
                }
                live
            });
            !list.is_empty()
        });
        gone
    }

    /// Seats with at least one binding (lapsed ones included until [`Bindings::expire`]).
    pub(crate) fn seats(&self) -> impl Iterator<Item = (&String, &Vec<Binding>)> {
        self.by_seat.iter()
    }
}

/// Contact values for a 2xx: every current binding with its remaining `expires`
/// (§10.3 step 8).
pub(crate) fn contact_values(now: Instant, bindings: &[Binding]) -> Vec<String> {
    bindings
        .iter()
        .map(|b| {
            let left = b.expires_at.saturating_duration_since(now);
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let mut v = format!("<{}>;expires={secs}", b.contact);
            if let Some(q) = b.q {
                v.push_str(&format!(";q={q}"));
            }
            v
        })
        .collect()
}
