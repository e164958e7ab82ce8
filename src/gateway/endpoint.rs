//! The gateway's SIP endpoint, sans-IO: bytes and time in, bytes to send out.
//!
//! ```text
//!  bytes ─► ingress ──reject──────────────────────────────► 4xx/5xx (stateless)
//!              │ ok
//!              ▼
//!        rate limit (untrusted sources only; a trusted trunk is never refused)
//!              ▼
//!        TransactionLayer ──TxEvent::Request──► OPTIONS → 200
//!              ▲                                REGISTER → Registrar
//!              │                                INVITE → trunk ACL, number plan
//!              └── qualify OPTIONS to seats ◄── Registrar::qualify_due
//! ```
//!
//! Responses go back to the address and port the request came from (RFC 3581 symmetric
//! response routing, applied to every request): the gateway never sends to a host named
//! in a message, so it cannot be used to reflect traffic (it is no open proxy).

use super::b2bua::{CallSettings, Calls, Ctx, MediaCommand, MediaEvent, SeatTargets};
use crate::routing::{Acd, AcdSettings, SeatSpec};
use crate::sip::header::{NameAddr, Via};
use crate::sip::ingress::{ingress, Ingress, ALLOWED_METHODS};
use crate::sip::message::{Message, Method, Request, Response};
use crate::sip::parse::Framing;
use crate::sip::rate_limit::RateLimiter;
use crate::sip::refusal::{HeldResponses, Refusals};
use crate::sip::registrar::{Binding, Registrar, SeatState};
use crate::sip::reply::{random_token, response_to};
use crate::sip::transaction::{Peer, TransactionLayer, Transport, TxEvent, TxKey};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tracing::{debug, info, info_span, warn};

/// Who may send calls: the trunk allow list (config `trunk.allow`).
pub type TrustFn = Box<dyn Fn(IpAddr) -> bool + Send>;

/// Endpoint settings, filled from the configuration.
pub struct EndpointSettings {
    /// Addresses the SIP sockets are bound to (sent-by of our own requests).
    pub local: Vec<SocketAddr>,
    /// Product token for User-Agent, Server and Warning.
    pub user_agent: String,
    /// The trunk allow list.
    pub trusted: TrustFn,
    /// Average messages per second accepted from one untrusted source.
    pub rate_limit_per_s: u32,
    /// Burst accepted from one untrusted source.
    pub rate_limit_burst: u32,
    /// The B2BUA's settings.
    pub calls: CallSettings,
    /// The ACD's settings.
    pub acd: AcdSettings,
    /// Every configured seat; static ones carry their target.
    pub seats: Vec<StaticSeat>,
}

/// A configured seat and, for a static seat (desk phone), its Request-URI and address.
#[derive(Debug, Clone)]
pub struct StaticSeat {
    /// Seat name.
    pub name: String,
    /// For a static seat: the URI to ring and where to send it.
    pub target: Option<(String, Peer)>,
}

/// Counters (served by `Command::Stats`, read by tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// Messages received.
    pub received: u64,
    /// Requests refused at ingress (400, 416, 420, 501 ...).
    pub rejected: u64,
    /// Messages dropped at ingress.
    pub dropped: u64,
    /// Messages dropped by the rate limiter.
    pub rate_limited: u64,
    /// INVITEs refused because the source is not a trusted trunk.
    pub untrusted_invites: u64,
}

/// The SIP endpoint state machine.
pub struct Endpoint {
    settings: EndpointSettings,
    transactions: TransactionLayer,
    registrar: Registrar,
    limiter: RateLimiter,
    /// Outstanding qualify OPTIONS: transaction → (seat, contact).
    probes: HashMap<TxKey, (String, String)>,
    /// The transport each seat registered over, by source address.
    seat_transport: HashMap<SocketAddr, Transport>,
    outbox: VecDeque<(Peer, Vec<u8>)>,
    stats: EndpointStats,
    calls: Calls,
    acd: Acd,
    static_seats: HashMap<String, (String, Peer)>,
    /// Registrations or reachability changed: the ACD needs the new seat states.
    seats_dirty: bool,
    /// Stateless refusals (issue 10) and their log budget.
    refusals: Refusals,
    /// Slowed registrar answers.
    held: HeldResponses,
    /// A REGISTER changed the bindings since they were last taken for saving.
    bindings_changed: bool,
}

/// Seat targets: a static seat's configured contact, else the newest registration, sent to
/// the address the seat registered from (never to the host its Contact names).
struct Targets<'a> {
    registrar: &'a Registrar,
    transports: &'a HashMap<SocketAddr, Transport>,
    statics: &'a HashMap<String, (String, Peer)>,
}

impl SeatTargets for Targets<'_> {
    fn target(&self, now: Instant, seat: &str) -> Option<(String, Peer)> {
        if let Some(target) = self.statics.get(seat) {
            return Some(target.clone());
        }
        let bindings: Vec<Binding> = self.registrar.contacts_for(now, seat);
        let binding = bindings.first()?;
        let uri = NameAddr::parse(&format!("<{}>", binding.contact), "Contact")
            .map(|a| a.uri_text)
            .unwrap_or_else(|_| binding.contact.clone());
        let transport = self
            .transports
            .get(&binding.source)
            .copied()
            .unwrap_or(Transport::Udp);
        Some((
            uri,
            Peer {
                transport,
                addr: binding.source,
            },
        ))
    }
}

impl Endpoint {
    /// An endpoint with the given layers.
    pub fn new(
        now: Instant,
        settings: EndpointSettings,
        transactions: TransactionLayer,
        registrar: Registrar,
    ) -> Endpoint {
        let limiter = RateLimiter::new(settings.rate_limit_per_s, settings.rate_limit_burst);
        let specs = settings
            .seats
            .iter()
            .map(|s| SeatSpec {
                name: s.name.clone(),
                static_contact: s.target.as_ref().map(|(uri, _)| uri.clone()),
            })
            .collect();
        let static_seats = settings
            .seats
            .iter()
            .filter_map(|s| s.target.clone().map(|t| (s.name.clone(), t)))
            .collect();
        let acd = Acd::new(now, settings.acd, specs);
        let calls = Calls::new(settings.calls.clone());
        let refusals = Refusals::new(&settings.user_agent);
        Endpoint {
            refusals,
            held: HeldResponses::default(),
            calls,
            acd,
            static_seats,
            seats_dirty: true,
            bindings_changed: false,
            settings,
            transactions,
            registrar,
            limiter,
            probes: HashMap::new(),
            seat_transport: HashMap::new(),
            outbox: VecDeque::new(),
            stats: EndpointStats::default(),
        }
    }

    /// One datagram (UDP) or frame (TCP) from `from`.
    pub fn handle_bytes(&mut self, now: Instant, from: Peer, bytes: &[u8]) {
        self.stats.received += 1;
        let framing = match from.transport {
            Transport::Udp => Framing::Datagram,
            Transport::Tcp => Framing::Stream,
        };
        let trusted = (self.settings.trusted)(from.addr.ip());
        if !trusted && !self.limiter.allow(now, from.addr.ip()) {
            self.stats.rate_limited += 1;
            return;
        }
        match ingress(bytes, framing, &self.settings.calls.domain) {
            Ingress::Request(mut request) => {
                stamp_top_via(&mut request.headers, from.addr);
                let known = request
                    .headers
                    .get("Call-ID")
                    .is_some_and(|c| self.calls.knows_call_id(c));
                if let Some(refusal) = self.refusals.untrusted_invite(now, from, &request, trusted)
                {
                    self.stats.untrusted_invites += 1;
                    self.outbox.push_back((from, refusal.to_bytes()));
                } else if let Some(refusal) = self
                    .refusals
                    .unknown_dialog_invite(now, from, &request, trusted, known)
                {
                    self.stats.rejected += 1;
                    self.outbox.push_back((from, refusal.to_bytes()));
                } else if request.method == Method::Register
                    && !self.registrar.admits(now, from.addr, &request)
                {
                    self.stats.dropped += 1;
                } else {
                    self.transactions
                        .handle_message(now, from, Message::Request(request));
                }
            }
            Ingress::Response(response) => {
                self.transactions
                    .handle_message(now, from, Message::Response(response));
            }
            Ingress::Reject(mut response) => {
                self.stats.rejected += 1;
                if let Some(suppressed) = self.refusals.log_ingress(now) {
                    info!(peer = %from.addr, status = response.status, reason = %response.reason, suppressed, "request refused at ingress");
                }
                stamp_top_via(&mut response.headers, from.addr);
                self.outbox.push_back((from, response.to_bytes()));
            }
            Ingress::Drop(why) => {
                self.stats.dropped += 1;
                debug!(peer = %from.addr, %why, "message dropped at ingress");
            }
        }
        self.process_events(now);
    }

    /// Fires due timers (transactions, registrar expiry and qualify probes).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transactions.handle_timeout(now);
        for (key, response) in self.held.due(now) {
            if let Err(err) = self.transactions.respond(now, &key, response) {
                debug!(%err, "held REGISTER answer not sent");
            }
        }
        for probe in self.registrar.qualify_due(now) {
            self.send_probe(now, probe);
        }
        self.acd.handle_timeout(now);
        self.with_calls(now, |calls, ctx| calls.handle_timeout(ctx));
        self.process_events(now);
    }

    /// The next command for the media engine.
    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.calls.poll_media()
    }

    /// The next call-record update.
    pub fn poll_record(&mut self) -> Option<(String, super::b2bua::Record)> {
        self.calls.poll_record()
    }

    /// A result from the media engine.
    pub fn handle_media_event(&mut self, now: Instant, event: MediaEvent) {
        self.with_calls(now, |calls, ctx| calls.on_media_event(ctx, event));
        self.process_events(now);
    }

    /// The next caller-history read to run (off the SIP task, with a deadline).
    pub fn poll_history(&mut self) -> Option<super::b2bua::HistoryRequest> {
        self.calls.poll_history()
    }

    /// A caller-history answer (an empty history after a timeout or a store error).
    pub fn handle_history(&mut self, call: &str, history: crate::store::CallerHistory) {
        self.calls.on_history(call, history);
    }

    /// Puts back registrations saved before a restart (see [`super::registrations`]).
    pub fn restore_bindings(
        &mut self,
        now: Instant,
        bindings: Vec<super::registrations::SeatBinding>,
    ) {
        for (seat, binding, transport) in bindings {
            let source = binding.source;
            if self.registrar.restore_binding(now, &seat, binding) {
                self.seat_transport.insert(source, transport);
                info!(%seat, %source, "registration restored");
            }
        }
        self.seats_dirty = true;
        self.process_events(now);
    }

    /// The live bindings when a REGISTER changed them since the last call, for saving.
    pub fn take_changed_bindings(
        &mut self,
        now: Instant,
    ) -> Option<Vec<super::registrations::SeatBinding>> {
        if !std::mem::take(&mut self.bindings_changed) {
            return None;
        }
        Some(self.bindings(now))
    }

    /// Every live binding with the transport it registered over.
    pub fn bindings(&self, now: Instant) -> Vec<super::registrations::SeatBinding> {
        self.registrar
            .export_bindings(now)
            .into_iter()
            .map(|(seat, b)| {
                let transport = self
                    .seat_transport
                    .get(&b.source)
                    .copied()
                    .unwrap_or(Transport::Udp);
                (seat, b, transport)
            })
            .collect()
    }

    /// The media tap says a screened call's detector has decided (see
    /// [`VerdictTap`](super::verdict_tap::VerdictTap)).
    pub fn handle_screening_ready(&mut self, now: Instant, call: &str) {
        self.with_calls(now, |calls, ctx| calls.on_screening_ready(ctx, call));
        self.process_events(now);
    }

    /// A location from intake (AML) for the matcher; a primary attach is recorded.
    pub fn handle_location(&mut self, now: Instant, location: crate::location::Location) {
        self.calls.on_location(now, location);
        self.process_events(now);
    }

    /// The B2BUA (call states for the driver and the API).
    pub fn calls(&self) -> &Calls {
        &self.calls
    }

    /// The ACD (seat and queue views for the API).
    pub fn acd(&self) -> &Acd {
        &self.acd
    }

    /// The ACD, for supervisor commands (pause/resume).
    pub fn acd_mut(&mut self) -> &mut Acd {
        self.seats_dirty = true;
        &mut self.acd
    }

    /// When [`Endpoint::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.transactions.poll_timeout(),
            self.held.poll_timeout(),
            self.registrar.poll_timeout(),
            self.acd.poll_timeout(),
            self.calls.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next bytes to send.
    pub fn poll_transmit(&mut self) -> Option<(Peer, Vec<u8>)> {
        if let Some(out) = self.outbox.pop_front() {
            return Some(out);
        }
        self.transactions
            .poll_transmit()
            .map(|t| (t.to, t.message.to_bytes()))
    }

    /// Counters.
    pub fn stats(&self) -> &EndpointStats {
        &self.stats
    }

    /// The registrar (seat states for the API).
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// Live transactions.
    pub fn transactions(&self) -> usize {
        self.transactions.len()
    }

    fn process_events(&mut self, now: Instant) {
        while let Some(event) = self.transactions.poll_event() {
            match event {
                TxEvent::Request { key, from, request } => self.on_request(now, key, from, request),
                TxEvent::Response { key, response } => {
                    if let Some((seat, contact)) = self.probes.get(&key).cloned() {
                        if response.status >= 200 {
                            self.probes.remove(&key);
                            self.registrar.on_qualify_result(&seat, &contact, now, true);
                            self.seats_dirty = true;
                        }
                    } else {
                        self.with_calls(now, |calls, ctx| calls.on_response(ctx, &key, response));
                    }
                }
                TxEvent::Timeout { key } => {
                    if let Some((seat, contact)) = self.probes.remove(&key) {
                        self.registrar
                            .on_qualify_result(&seat, &contact, now, false);
                        self.seats_dirty = true;
                    } else {
                        self.with_calls(now, |calls, ctx| calls.on_timeout(ctx, &key));
                    }
                }
                TxEvent::Terminated { key } => {
                    self.probes.remove(&key);
                    self.calls.on_terminated(&key);
                }
                TxEvent::Ack { .. } | TxEvent::StrayResponse { .. } => {}
            }
        }
        if self.seats_dirty {
            self.seats_dirty = false;
            // A static seat (desk phone) does not register; its state is not the registrar's.
            let registering = self.registrar.seats(now);
            for seat in registering
                .iter()
                .filter(|s| !self.static_seats.contains_key(&s.name))
            {
                let registered = seat.state != SeatState::Offline;
                let reachable = seat.state == SeatState::Registered;
                self.acd
                    .set_registration(now, &seat.name, registered, reachable);
            }
        }
        self.with_calls(now, |calls, ctx| calls.drive_acd(ctx));
    }

    /// Runs `f` on the B2BUA with a context borrowing the other layers.
    fn with_calls<R>(&mut self, now: Instant, f: impl FnOnce(&mut Calls, &mut Ctx<'_>) -> R) -> R {
        let targets = Targets {
            registrar: &self.registrar,
            transports: &self.seat_transport,
            statics: &self.static_seats,
        };
        let mut ctx = Ctx {
            now,
            txns: &mut self.transactions,
            acd: &mut self.acd,
            seats: &targets,
        };
        f(&mut self.calls, &mut ctx)
    }

    fn on_request(&mut self, now: Instant, key: TxKey, from: Peer, request: Request) {
        let span = info_span!("request", method = %request.method, peer = %from.addr);
        let _enter = span.enter();
        let tag = random_token();
        let in_dialog = has_to_tag(&request);
        let response = match request.method {
            Method::Options if !in_dialog => {
                let mut ok = response_to(&request, 200, Some(&tag));
                let allow: Vec<&str> = ALLOWED_METHODS.iter().map(Method::as_str).collect();
                ok.headers.push("Allow", allow.join(", "));
                ok.headers.push("Accept", "application/sdp");
                ok
            }
            Method::Register => {
                let reply = self.registrar.handle_register(now, from.addr, &request);
                if reply.response.status == 200 {
                    self.seat_transport.insert(from.addr, from.transport);
                    self.bindings_changed = true;
                }
                self.seats_dirty = true;
                if !reply.delay.is_zero() {
                    let mut response = reply.response;
                    response
                        .headers
                        .push("Server", self.settings.user_agent.clone());
                    if let Some((key, response)) = self.held.hold(now + reply.delay, key, response)
                    {
                        if let Err(err) = self.transactions.respond(now, &key, response) {
                            warn!(%err, "could not answer request");
                        }
                    }
                    return;
                }
                reply.response
            }
            Method::Cancel => {
                self.with_calls(now, |calls, ctx| calls.on_cancel(ctx, key, request));
                return;
            }
            _ if in_dialog => {
                self.with_calls(now, |calls, ctx| calls.on_in_dialog(ctx, key, request));
                return;
            }
            Method::Invite => match self.screen_invite(from, &request, &tag) {
                Some(refusal) => refusal,
                None => {
                    self.with_calls(now, |calls, ctx| {
                        calls.on_new_invite(ctx, key, from, request)
                    });
                    return;
                }
            },
            // No dialog exists for a BYE without To tag (§15.1.2): 481.
            _ => response_to(&request, 481, Some(&tag)),
        };
        let mut response = response;
        response
            .headers
            .push("Server", self.settings.user_agent.clone());
        debug!(status = response.status, "answered");
        if let Err(err) = self.transactions.respond(now, &key, response) {
            warn!(%err, "could not answer request");
        }
    }

    /// Who may call and what: 403 outside the trunk allow list (counted), 404 for numbers
    /// that are not emergency numbers; `None` lets the call in.
    fn screen_invite(&mut self, from: Peer, request: &Request, tag: &str) -> Option<Response> {
        if !(self.settings.trusted)(from.addr.ip()) {
            self.stats.untrusted_invites += 1;
            warn!(peer = %from.addr, "INVITE from an address outside the trunk allow list");
            return Some(response_to(request, 403, Some(tag)));
        }
        if !self.calls.is_emergency(&request.uri) {
            info!(uri = %request.uri, "INVITE for a number that is not an emergency number");
            return Some(response_to(request, 404, Some(tag)));
        }
        None
    }

    fn send_probe(&mut self, now: Instant, probe: crate::sip::registrar::QualifyProbe) {
        let transport = self
            .seat_transport
            .get(&probe.to)
            .copied()
            .unwrap_or(Transport::Udp);
        let Some(local) = self
            .settings
            .local
            .iter()
            .find(|a| a.is_ipv4() == probe.to.is_ipv4())
            .copied()
        else {
            return;
        };
        let mut options = Request::new(Method::Options, probe.contact.clone());
        let proto = match transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        };
        let branch = format!("{}{}", crate::sip::header::MAGIC_COOKIE, random_token());
        options.headers.push(
            "Via",
            format!("SIP/2.0/{proto} {local};branch={branch};rport"),
        );
        options.headers.push("Max-Forwards", "70");
        options.headers.push(
            "From",
            format!("<sip:qualify@{local}>;tag={}", random_token()),
        );
        options.headers.push("To", format!("<{}>", probe.contact));
        options
            .headers
            .push("Call-ID", format!("{}@{local}", random_token()));
        options.headers.push("CSeq", "1 OPTIONS");
        options
            .headers
            .push("User-Agent", self.settings.user_agent.clone());
        let peer = Peer {
            transport,
            addr: probe.to,
        };
        match self.transactions.send_request(now, peer, options) {
            Ok(key) => {
                self.probes.insert(key, (probe.seat, probe.contact));
            }
            Err(err) => warn!(%err, seat = %probe.seat, "qualify OPTIONS not sent"),
        }
    }
}

/// RFC 3261 §18.2.1 and RFC 3581 §4: record where the request really came from.
fn stamp_top_via(headers: &mut crate::sip::message::Headers, source: SocketAddr) {
    if let Some(top) = headers.0.iter_mut().find(|h| h.name == "Via") {
        if let Ok(mut via) = Via::parse(&top.value) {
            stamp(&mut via, source);
            top.value = print_via(&via);
        }
    }
}

fn stamp(via: &mut Via, source: SocketAddr) {
    let ip = source.ip().to_string();
    let host = via.host.trim_start_matches('[').trim_end_matches(']');
    let params = &mut via.params.0;
    if host != ip
        && !params
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("received"))
    {
        params.push(("received".into(), Some(ip)));
    }
    for (name, value) in params.iter_mut() {
        if name.eq_ignore_ascii_case("rport") && value.is_none() {
            *value = Some(source.port().to_string());
        }
    }
}

fn print_via(via: &Via) -> String {
    let mut out = format!("SIP/2.0/{} {}", via.transport, via.host);
    if let Some(port) = via.port {
        out.push_str(&format!(":{port}"));
    }
    for (name, value) in &via.params.0 {
        out.push(';');
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

fn has_to_tag(request: &Request) -> bool {
    request
        .headers
        .get("To")
        .and_then(|to| NameAddr::parse(to, "To").ok())
        .is_some_and(|to| to.tag().is_some())
}
