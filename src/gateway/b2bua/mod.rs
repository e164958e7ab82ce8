//! The back-to-back user agent: trunk calls in, seat legs out, glued by the ACD and the
//! media relay. Pure: it is driven by transaction events, ACD output and media events, and
//! it emits transaction-layer sends and [`MediaCommand`]s (STYLE.md habit 1).

mod call;
mod caller;
mod legs;
mod locate;
pub mod media_cmd;

pub use call::CallState;
pub use locate::LocationStats;
pub use media_cmd::{MediaCommand, MediaEvent, Prompt};
pub use screen::{HistoryRequest, ScreeningSetup};

use crate::media::sdp::{self, SdpOrigin, SessionDescription};
use crate::media::Leg;
use crate::routing::{Acd, CallClass};
use crate::sip::dialog::Dialog;
use crate::sip::header::Uri;
use crate::sip::message::{Request, Response};
use crate::sip::reply::{random_token, response_to};
use crate::sip::transaction::{Peer, TransactionLayer, TxKey};
use crate::store::{EndReason, Party};
use call::{Call, SeatLeg, TrunkLeg};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;
use tracing::{info, warn};

/// Where a seat is rung: Request-URI and the address to send to.
pub trait SeatTargets {
    /// The target for `seat` now, or `None` when it cannot be reached.
    fn target(&self, now: Instant, seat: &str) -> Option<(String, Peer)>;
}

/// B2BUA settings from the configuration.
#[derive(Debug, Clone)]
pub struct CallSettings {
    /// Request-URI users (or URNs) that are emergency calls.
    pub emergency_numbers: Vec<String>,
    /// Our SIP address (Contact, Via).
    pub local: SocketAddr,
    /// Product token.
    pub user_agent: String,
    /// Seat AOR domain.
    pub domain: String,
    /// Overflow target: Request-URI and where to send it.
    pub overflow: Option<(String, Peer)>,
    /// Screening of callers (`None`: calls are queued unscreened at once).
    pub screening: Option<ScreeningSetup>,
    /// How locations are matched to calls (`[location]`).
    pub location: crate::location::MatchWindow,
}

/// Everything the B2BUA touches while handling one input.
pub struct Ctx<'a> {
    /// The current time.
    pub now: Instant,
    /// The transaction layer (sends and responses).
    pub txns: &'a mut TransactionLayer,
    /// The ACD.
    pub acd: &'a mut Acd,
    /// Seat targets (registrar bindings and static seats).
    pub seats: &'a dyn SeatTargets,
}

impl Ctx<'_> {
    /// Answers a server transaction. A refusal by the transaction layer (the transaction is
    /// already gone: timed out, or answered by a CANCEL race) is logged, never dropped in
    /// silence; returns whether the response was taken.
    pub fn respond(&mut self, key: &TxKey, response: Response) -> bool {
        let status = response.status;
        match self.txns.respond(self.now, key, response) {
            Ok(()) => true,
            Err(err) => {
                warn!(%err, status, method = %key.method(), "response not sent");
                false
            }
        }
    }

    /// Sends a request statefully; a refusal (a request we built without a header the
    /// transaction layer needs) is logged and gives `None`.
    pub fn send_request(&mut self, to: Peer, request: Request) -> Option<TxKey> {
        let method = request.method.clone();
        match self.txns.send_request(self.now, to, request) {
            Ok(key) => Some(key),
            Err(err) => {
                warn!(%err, %method, peer = %to.addr, "request not sent");
                None
            }
        }
    }
}

/// All live calls.
pub struct Calls {
    settings: CallSettings,
    calls: HashMap<String, Call>,
    /// Call-ID of either leg → siaga call id.
    by_call_id: HashMap<String, String>,
    /// Seat-leg INVITE client transaction → siaga call id.
    by_txn: HashMap<TxKey, String>,
    /// Seat legs of calls that are gone but whose INVITE has no final response yet:
    /// a late 2xx still needs ACK and BYE (§9.2 CANCEL/200 race).
    orphans: HashMap<TxKey, SeatLeg>,
    /// Re-INVITEs we sent to relay a hold/resume: transaction → (call, leg, CSeq).
    reinvites: HashMap<TxKey, (String, Leg, u32)>,
    media: VecDeque<MediaCommand>,
    /// Caller-history reads for the driver.
    history_requests: VecDeque<HistoryRequest>,
    /// Call-record updates, in order, for the store writer.
    records: VecDeque<(String, Record)>,
    /// Matches AML / PIDF-LO locations to calls (`None` when the city's places did not load).
    locator: Option<crate::location::Matcher>,
    /// Monotonic ↔ wall clock anchor for the matcher.
    clock: (Instant, crate::store::Timestamp),
    location_stats: LocationStats,
}

/// A call-record update from the B2BUA; the driver stamps it with the wall clock and hands
/// it to the store (the B2BUA itself knows only monotonic time).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// The call was accepted.
    Received {
        /// Caller number, `None` when withheld.
        caller: Option<String>,
        /// Display name.
        display_name: Option<String>,
        /// Trunk source address.
        trunk: String,
        /// The trunk leg's Call-ID.
        sip_call_id: String,
    },
    /// Screening finished.
    Screened {
        /// Class.
        class: crate::store::ScreeningClass,
        /// Risk 0..100.
        score: u8,
        /// Reasons with their shares.
        reasons: Vec<String>,
        /// Audio statistics.
        audio: crate::store::AudioStats,
    },
    /// The call entered the queue.
    Queued,
    /// A seat is ringing.
    Ringing {
        /// Seat name.
        seat: String,
    },
    /// A seat answered.
    Answered {
        /// Seat name.
        seat: String,
    },
    /// A location became the call's primary one (AML, PIDF-LO).
    Located {
        /// The store update (`CallUpdate::Located`).
        update: crate::store::CallUpdate,
    },
    /// The call is over.
    Ended {
        /// Why.
        reason: EndReason,
        /// Who ended it.
        by: Party,
    },
}

impl Calls {
    /// No calls yet.
    pub fn new(settings: CallSettings) -> Calls {
        let locator = match crate::location::Places::cirebon() {
            Ok(places) => Some(crate::location::Matcher::new(settings.location, places)),
            Err(err) => {
                warn!(%err, "city boundaries not loaded: locations are not matched to calls");
                None
            }
        };
        Calls {
            locator,
            clock: (Instant::now(), crate::store::Timestamp::now()),
            location_stats: LocationStats::default(),
            settings,
            calls: HashMap::new(),
            by_call_id: HashMap::new(),
            by_txn: HashMap::new(),
            orphans: HashMap::new(),
            reinvites: HashMap::new(),
            media: VecDeque::new(),
            history_requests: VecDeque::new(),
            records: VecDeque::new(),
        }
    }

    /// Live calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call is live.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The state of a call (tests, API).
    pub fn state(&self, call: &str) -> Option<CallState> {
        self.calls.get(call).map(|c| c.state)
    }

    /// A live call as the API sees it.
    pub fn view(&self, call: &str, now: Instant) -> Option<super::CallView> {
        self.calls.get(call).map(|c| super::CallView {
            call: c.id.clone(),
            state: c.state,
            caller: c.caller_id.number().map(str::to_string),
            seat: c.seat.as_ref().map(|leg| leg.target.name().to_string()),
            age_s: now.saturating_duration_since(c.created).as_secs(),
        })
    }

    /// The next command for the media engine.
    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media.pop_front()
    }

    /// The next call-record update: (siaga call id, update).
    pub fn poll_record(&mut self) -> Option<(String, Record)> {
        self.records.pop_front()
    }

    /// True when `request` belongs to a call (in-dialog request or a CANCEL of one).
    pub fn owns(&self, request: &Request) -> bool {
        request
            .headers
            .get("Call-ID")
            .is_some_and(|id| self.by_call_id.contains_key(id))
    }

    /// True when a live call has a leg with this Call-ID (for stateless refusals).
    pub fn knows_call_id(&self, call_id: &str) -> bool {
        self.by_call_id.contains_key(call_id)
    }

    /// True when `uri` names one of the configured emergency numbers.
    pub fn is_emergency(&self, uri: &str) -> bool {
        let Ok(parsed) = Uri::parse(uri, "Request-URI") else {
            return false;
        };
        let wanted = match parsed.scheme.as_str() {
            "urn" => uri.to_ascii_lowercase(),
            _ => parsed.user.unwrap_or_default().to_ascii_lowercase(),
        };
        self.settings
            .emergency_numbers
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&wanted))
    }

    /// A new INVITE from the trunk (the caller is trusted and dials an emergency number).
    pub fn on_new_invite(&mut self, ctx: &mut Ctx<'_>, key: TxKey, from: Peer, invite: Request) {
        let tag = random_token();
        // §13.3.1: without an SDP offer we would have to offer in the 200; trunks carrying
        // 112 always offer, so a missing or unusable offer is refused with 488.
        let sdp_offer = locate::sdp_offer(&invite);
        let offer = SessionDescription::parse(&sdp_offer);
        let usable = offer.as_ref().is_ok_and(|o| {
            sdp::answer(
                o,
                SocketAddr::from(([127, 0, 0, 1], 9)),
                &mut SdpOrigin::new(0),
            )
            .is_ok()
        });
        if !usable {
            let mut refusal = response_to(&invite, 488, Some(&tag));
            // RFC 3261 §20.43 warn-agent: our domain, not the product name.
            let warning = format!(
                "304 {} \"no usable PCMU/PCMA audio offer\"",
                self.settings.domain
            );
            refusal.headers.push("Warning", warning);
            ctx.respond(&key, refusal);
            return;
        }
        let session_interval = match session_timer::requested(&invite) {
            Ok(interval) => interval,
            Err(()) => {
                // RFC 4028 §6: too short an interval gets 422 with our minimum.
                let mut refusal = response_to(&invite, 422, Some(&tag));
                refusal.reason = "Session Interval Too Small".into();
                refusal
                    .headers
                    .push("Min-SE", session_timer::MIN_SE.to_string());
                ctx.respond(&key, refusal);
                return;
            }
        };
        let id = format!("c{}", random_token());
        let caller = caller::Caller::of(&invite);
        let dialog = Dialog::as_uas(&invite, &tag, from);
        info!(call = %id, caller = %caller.shown, peer = %from.addr, "emergency call received");
        self.by_call_id.insert(dialog.call_id.clone(), id.clone());
        let call = Call {
            id: id.clone(),
            state: CallState::Opening,
            trunk: TrunkLeg {
                offer: sdp_offer,
                invite,
                key,
                peer: from,
                dialog,
                answer: None,
                negotiated: None,
                origin: SdpOrigin::new(rand::random::<u32>().into()),
            },
            seat: None,
            media: None,
            caller: caller.shown,
            created: ctx.now,
            answered: false,
            session_interval,
            session_deadline: None,
            screening: None,
            risk: None,
            caller_id: caller.id,
            display_name: caller.display_name,
        };
        self.records.push_back((id.clone(), received_record(&call)));
        let number = call.caller_id.number().map(str::to_string);
        self.calls.insert(id.clone(), call);
        self.locate_started(ctx.now, &id, number.as_deref());
        self.media.push_back(MediaCommand::Open { call: id });
    }

    /// The media engine's answer to [`MediaCommand::Open`] and dead-media reports.
    pub fn on_media_event(&mut self, ctx: &mut Ctx<'_>, event: MediaEvent) {
        match event {
            MediaEvent::Opened { call, caller, seat } => {
                self.media_opened(ctx, &call, caller, seat)
            }
            MediaEvent::Failed { call, reason } => {
                warn!(%call, %reason, "no media for the call");
                if let Some(c) = self.calls.get(&call) {
                    let refusal =
                        response_to(&c.trunk.invite, 503, Some(&c.trunk.dialog.local_tag));
                    ctx.respond(&c.trunk.key.clone(), refusal);
                }
                self.forget(ctx, &call, EndReason::Error, Party::Gateway);
            }
            MediaEvent::Dead { call } => {
                info!(%call, "no RTP on either leg: ending the call");
                self.hang_up_both(ctx, &call, EndReason::MediaTimeout);
            }
        }
    }

    fn media_opened(&mut self, ctx: &mut Ctx<'_>, id: &str, caller: SocketAddr, seat: SocketAddr) {
        let Some(call) = self.calls.get_mut(id) else {
            self.media.push_back(MediaCommand::Close {
                call: id.to_string(),
            });
            return;
        };
        call.media = Some((caller, seat));
        let offer = SessionDescription::parse(&call.trunk.offer);
        let answered = offer.and_then(|o| sdp::answer(&o, caller, &mut call.trunk.origin));
        let Ok((body, negotiated)) = answered else {
            let refusal = response_to(&call.trunk.invite, 488, Some(&call.trunk.dialog.local_tag));
            let key = call.trunk.key.clone();
            ctx.respond(&key, refusal);
            self.forget(ctx, id, EndReason::Error, Party::Gateway);
            return;
        };
        call.trunk.answer = Some(body);
        call.trunk.negotiated = Some(negotiated.clone());
        self.media.push_back(MediaCommand::SetRemote {
            call: id.to_string(),
            leg: Leg::Caller,
            negotiated,
        });
        if self.settings.screening.is_some() {
            // Screening needs the caller's audio: answer now (DESIGN.md step 3).
            let mut ok = legs::trunk_response_with_sdp(
                call,
                200,
                self.settings.local,
                &self.settings.user_agent,
            );
            if let Some(interval) = call.session_interval {
                session_timer::stamp(&mut ok, interval);
                call.session_deadline = Some(ctx.now + interval);
            }
            ctx.respond(&call.trunk.key.clone(), ok);
            call.answered = true;
            self.start_screening(id, ctx.now);
            return;
        }
        self.media.push_back(MediaCommand::Play {
            call: id.to_string(),
            prompt: Prompt::Queue,
        });
        let early = legs::trunk_response_with_sdp(
            call,
            183,
            self.settings.local,
            &self.settings.user_agent,
        );
        ctx.respond(&call.trunk.key.clone(), early);
        call.state = CallState::Queued;
        let caller_text = call.caller.clone();
        ctx.acd
            .enqueue(ctx.now, id, CallClass::Unscreened, &caller_text);
        self.records.push_back((id.to_string(), Record::Queued));
        info!(call = %id, "queued");
    }
}

mod ending;
mod flow;
mod orphans;
mod reinvite;
mod screen;
mod session_timer;

/// The record of a new call: the caller's number as screening sees it (`None` when
/// withheld), the display name of P-Asserted-Identity or From.
fn received_record(call: &Call) -> Record {
    Record::Received {
        caller: call.caller_id.number().map(str::to_string),
        display_name: call.display_name.clone(),
        trunk: call.trunk.peer.addr.to_string(),
        sip_call_id: call.trunk.dialog.call_id.clone(),
    }
}
