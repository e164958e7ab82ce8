//! The SIP message model: a start line, an ordered list of headers and a raw body.
//!
//! Headers are kept as text (unfolded, compact names expanded, comma lists split into one
//! entry per value for the list headers of RFC 3261 §7.3.1), so a message can be forwarded
//! without loss; typed views over the few headers the gateway reads live in [`super::header`].
//! The body is raw bytes framed by Content-Length: binary bodies survive a round trip.

use std::fmt;

/// A request method (RFC 3261 §7.1). Extension methods are kept by name so they can be
/// answered with 501 (§8.2.1) instead of being dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE (§13).
    Invite,
    /// ACK (§17.1.1.3).
    Ack,
    /// BYE (§15).
    Bye,
    /// CANCEL (§9).
    Cancel,
    /// OPTIONS (§11).
    Options,
    /// REGISTER (§10).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// INFO (RFC 6086).
    Info,
    /// UPDATE (RFC 3311).
    Update,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// MESSAGE (RFC 3428).
    Message,
    /// REFER (RFC 3515).
    Refer,
    /// PUBLISH (RFC 3903).
    Publish,
    /// Any other token (case-sensitive, RFC 3261 §7.1).
    Extension(String),
}

impl Method {
    /// Parses a method token; any valid token that is not a known method is an extension.
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "MESSAGE" => Method::Message,
            "REFER" => Method::Refer,
            "PUBLISH" => Method::Publish,
            other => Method::Extension(other.to_string()),
        }
    }

    /// The method as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Message => "MESSAGE",
            Method::Refer => "REFER",
            Method::Publish => "PUBLISH",
            Method::Extension(name) => name,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field: its canonical name (compact forms expanded) and its unfolded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Canonical spelling, e.g. `Via`, `Call-ID`, `Content-Length`; unknown names as received.
    pub name: String,
    /// The value with folding replaced by a single space and outer whitespace trimmed.
    pub value: String,
}

/// The ordered header list of a message. Names compare case-insensitively (RFC 3261 §7.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// How many values `name` has.
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Appends a header at the end.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push(Header {
            name: name.into(),
            value: value.into(),
        });
    }

    /// Inserts a header before all others (e.g. a new top Via).
    pub fn push_front(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(
            0,
            Header {
                name: name.into(),
                value: value.into(),
            },
        );
    }

    /// Replaces every value of `name` with one value (appended when absent).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .0
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
        {
            Some(first) => {
                self.0[first].value = value;
                let mut index = 0;
                self.0.retain(|h| {
                    let keep = index <= first || !h.name.eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
            }
            None => self.push(name, value),
        }
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    /// Iterates all headers in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }
}

/// A SIP request (RFC 3261 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method of the Request-Line.
    pub method: Method,
    /// The Request-URI exactly as received (validated by ingress).
    pub uri: String,
    /// Headers in order.
    pub headers: Headers,
    /// The body, framed by Content-Length.
    pub body: Vec<u8>,
}

/// A SIP response (RFC 3261 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code 100..=699.
    pub status: u16,
    /// The reason phrase (may be empty, may be UTF-8).
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// The body, framed by Content-Length.
    pub body: Vec<u8>,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The body of either kind.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// Prints the message to wire bytes (see [`Request::to_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn write_head_and_body(mut out: Vec<u8>, headers: &Headers, body: &[u8]) -> Vec<u8> {
    for header in headers.iter() {
        if header.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(header.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // Content-Length is always written from the body actually carried (RFC 3261 §18.3:
    // mandatory on stream transports, and harmless on UDP).
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request {
            method,
            uri: uri.into(),
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// Prints the request: one header per line, Content-Length computed from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(format!("{} {} SIP/2.0\r\n", self.method, self.uri).as_bytes());
        write_head_and_body(out, &self.headers, &self.body)
    }
}

impl Response {
    /// A response with the standard reason phrase and no headers.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason_phrase(status).to_string(),
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// Prints the response: one header per line, Content-Length computed from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", self.status, self.reason).as_bytes());
        write_head_and_body(out, &self.headers, &self.body)
    }
}

/// The default reason phrase for a status code (RFC 3261 §21 and extensions).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => match status / 100 {
            1 => "Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}
