//! HTTP API: one router, one state, one error type, one auth model.
//!
//! People log in (`POST /api/login`, accounts with roles seat, supervisor, analyst, admin,
//! stored with Argon2id hashes); machines send a named API key from `[[api.keys]]` (the
//! legacy `api.token` is the key `token`, role supervisor). Both are `Authorization: Bearer`.
//! Every route declares the roles it admits in [`auth::ROUTES`]:
//!
//! | Route | Roles | Answer |
//! |---|---|---|
//! | `GET /health` | public | 200 `ok` (the process answers) |
//! | `GET /metrics` | public | 200 Prometheus text (calls by outcome and class, screening decisions, queue, seats by state, answer-time histogram, SIP counters) |
//! | `GET /ready` | public | 200 or 503 `{ready, checks, failing?, seats_ready, seats}` ([`ready`]) |
//! | `POST /api/login` | public | 200 `{token, name, role, seat?, expires_at}`; body `{name, password}` |
//! | `POST /api/logout` | any login | 204; the token is revoked |
//! | `GET /api/me` | any | 200 `{name, role, seat?, via}` |
//! | `GET /api/seats` | any | 200 `[SeatView]` |
//! | `GET /api/queue` | any | 200 `[QueuedView]`, serving order |
//! | `POST /api/seats/{name}/pause` | supervisor, admin | 200 `SeatView`; body `{"reason"}` optional |
//! | `POST /api/seats/{name}/resume` | supervisor, admin | 200 `SeatView` |
//! | `GET /api/calls?since&until&category&kecamatan&caller&seat&limit` | any (seat: own and queued calls, no `caller`) | 200 `{calls}` |
//! | `GET /api/calls/{id}` | any (seat: own or queued) | 200 `{call, queue_wait_ms, talk_ms, dispositions}` |
//! | `POST /api/calls/{id}/disposition` | seat (own calls), supervisor, admin | 200 `{call, dispositions}` |
//! | `GET /api/calls/{id}/screening-audio` | supervisor, admin | 200 `audio/wav`: what screening heard (issue 8); 404 without a kept clip |
//! | `GET /api/analytics/summary[.csv]?since&until&by` | supervisor, analyst, admin | 200 JSON or CSV |
//! | `GET /api/categories` | any | 200 `{categories}` |
//! | `PUT /api/accounts/{name}` | admin | 200; body `{role, seat?, password?}`; revokes the account's tokens |
//! | `POST /aml` | public (own auth, `[location]`) | 200 always (ELS HTTPS form; discarded ones logged, counted); 404 when `aml_enabled = false` ([`aml`]) |
//! | `POST /aml/sms` | public (own auth, `[location]`) | 200 always (raw AML SMS text, sender in `X-Siaga-Sms-From`); 404 when disabled |
//!
//! **Every `/api` route but login needs a token, reads included**: the queue shows emergency
//! callers' numbers. Errors are JSON `{"error", "field"?}` ([`ApiError`]): 400 bad input
//! (unknown fields refused), 401 no or dead token, 403 role, 404, 409 seat state, 421 a
//! `Host` not served here (DNS rebinding), 429 login back-off, 503 routing or login queue.
//!
//! **Pausing a busy seat** (ringing, on a call, in wrap-up) is accepted as "pause after this
//! call": the answer shows `pause_pending`, and the seat goes to `paused` when its wrap-up
//! ends. 409 is for pausing a seat already paused (or with a pause pending) and for resuming
//! a seat that is neither. Resuming a seat with a pending pause cancels the pause.
//!
//! The HTTP layer sees routing only through [`RoutingControl`]; it never touches calls.
//! Connections are served by [`listener`] (caps, idle and request timeouts).
pub mod accounts;
pub mod aml;
#[cfg(test)]
mod aml_tests;
mod analytics;
pub mod auth;
mod backoff;
mod driver;
pub mod error;
mod hasher;
pub mod listener;
mod login;
#[cfg(test)]
mod login_tests;
pub mod ready;
mod records;
#[cfg(test)]
mod records_tests;
mod seats;
pub mod sessions;
#[cfg(test)]
mod test_app;
#[cfg(test)]
mod tests;
pub mod tls;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::routing::{get, post, put};
use axum::{middleware, Router};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use auth::{Principal, Via};
pub use error::ApiError;
pub use sessions::Sessions;

use crate::analytics::Analytics;
use crate::config::{Category, Config};
use crate::location::Places;
use crate::routing::{Acd, AcdError, QueuedView, SeatView};
use crate::store::{CallStore, StoreHandle, Timestamp};

/// A clock the API reads (injected so tests can expire tokens).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A routing answer the HTTP handlers await.
pub type Reply<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What the API may ask of the routing owner: the running gateway's
/// [`Handle`](crate::gateway::Handle) implements it (`driver.rs`); views are taken at the
/// owner's `now`, and pause/resume answer with the seat's state after the command.
pub trait RoutingControl: Send + Sync {
    /// Every seat, in configuration order.
    fn seats(&self) -> Reply<'_, Result<Vec<SeatView>, AcdError>>;
    /// Every waiting call, in serving order.
    fn queue(&self) -> Reply<'_, Result<Vec<QueuedView>, AcdError>>;
    /// Pauses a seat (after its current call when busy); the seat after the pause.
    ///
    /// # Errors
    ///
    /// [`AcdError::UnknownSeat`], [`AcdError::Transition`], [`AcdError::Unavailable`].
    fn pause<'a>(&'a self, seat: &'a str, reason: &'a str)
        -> Reply<'a, Result<SeatView, AcdError>>;
    /// Resumes a paused seat, or cancels its pending pause; the seat after the resume.
    ///
    /// # Errors
    ///
    /// [`AcdError::UnknownSeat`], [`AcdError::Transition`], [`AcdError::Unavailable`].
    fn resume<'a>(&'a self, seat: &'a str) -> Reply<'a, Result<SeatView, AcdError>>;
    /// Whether the routing owner still takes commands (`/ready`); true unless it can tell.
    fn alive(&self) -> bool {
        true
    }
}

/// An [`Acd`] shared behind a short, sync lock (never held across `.await`); for tests of
/// the HTTP layer without a gateway. Whoever drives the ACD must still poll it for
/// assignments after a resume.
impl RoutingControl for Mutex<Acd> {
    fn seats(&self) -> Reply<'_, Result<Vec<SeatView>, AcdError>> {
        let acd = self.lock().unwrap_or_else(PoisonError::into_inner);
        let views = acd.seats_view(Instant::now());
        Box::pin(async move { Ok(views) })
    }
    fn queue(&self) -> Reply<'_, Result<Vec<QueuedView>, AcdError>> {
        let acd = self.lock().unwrap_or_else(PoisonError::into_inner);
        let views = acd.queue_view(Instant::now());
        Box::pin(async move { Ok(views) })
    }
    fn pause<'a>(
        &'a self,
        seat: &'a str,
        reason: &'a str,
    ) -> Reply<'a, Result<SeatView, AcdError>> {
        let mut acd = self.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let done = acd
            .pause(now, seat, reason)
            .and_then(|()| view(&acd, now, seat));
        Box::pin(async move { done })
    }
    fn resume<'a>(&'a self, seat: &'a str) -> Reply<'a, Result<SeatView, AcdError>> {
        let mut acd = self.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let done = acd.resume(now, seat).and_then(|()| view(&acd, now, seat));
        Box::pin(async move { done })
    }
}

fn view(acd: &Acd, now: Instant, seat: &str) -> Result<SeatView, AcdError> {
    acd.seats_view(now)
        .into_iter()
        .find(|s| s.name == seat)
        .ok_or_else(|| AcdError::UnknownSeat {
            seat: seat.to_owned(),
        })
}

/// What every handler shares (one state for the whole API). Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    routing: Arc<dyn RoutingControl>,
    store: StoreHandle,
    keys: Arc<auth::Keys>,
    sessions: Arc<Sessions>,
    logins: Arc<login::Logins>,
    hosts: Arc<HashSet<String>>,
    places: Arc<Places>,
    categories: Arc<Vec<Category>>,
    analytics: Arc<Analytics>,
    readiness: Arc<ready::Readiness>,
    /// `/metrics`: the gateway's counters, and the handle that reads the endpoint's (none
    /// when the API runs without a gateway, as in tests).
    metrics: Arc<crate::metrics::GatewayMetrics>,
    stats: Option<crate::gateway::Handle>,
    clock: Clock,
    /// What screening heard, kept per call (issue 8).
    screening_audio: crate::screening::audio::AudioStore,
    /// AML intake (`POST /aml`, `/aml/sms`).
    aml: Arc<aml::AmlIntake>,
    /// Where AML locations go (the running gateway; `None` in HTTP-only tests).
    gateway: Option<crate::gateway::Handle>,
}

impl ApiState {
    /// The state for `config`: routing through `routing`, records in `store`.
    ///
    /// # Errors
    ///
    /// The built-in kecamatan boundaries do not load.
    pub fn new(
        config: &Config,
        routing: Arc<dyn RoutingControl>,
        store: Arc<dyn CallStore>,
    ) -> std::io::Result<ApiState> {
        let places = Places::cirebon()
            .map_err(|e| std::io::Error::other(format!("kecamatan boundaries: {e}")))?;
        let keys = config.api.all_keys();
        Ok(ApiState {
            routing,
            store: StoreHandle::new(store),
            keys: Arc::new(auth::Keys::new(keys.iter().map(|(_, k)| k))),
            sessions: Arc::new(Sessions::new(config.accounts.token_ttl_s)),
            logins: Arc::new(login::Logins::new(&config.accounts)),
            hosts: Arc::new(config.api.allowed_hosts().into_iter().collect()),
            places: Arc::new(places),
            categories: Arc::new(config.categories.clone()),
            analytics: Arc::new(Analytics::new(
                config.analytics.utc_offset_hours,
                config.categories.clone(),
                config.analytics.top_callers,
            )),
            readiness: Arc::new(ready::Readiness::new(config)),
            metrics: Arc::default(),
            stats: None,
            clock: Arc::new(Timestamp::now),
            screening_audio: config.screening.audio_store(),
            aml: Arc::new(aml::AmlIntake::new(&config.location)),
            gateway: None,
        })
    }

    /// The same state reading time from `clock` (tests).
    pub fn with_clock(mut self, clock: Clock) -> ApiState {
        self.clock = clock;
        self
    }

    /// The same state answering `/ready` from `readiness` (the app sets its flags).
    pub fn with_readiness(mut self, readiness: Arc<ready::Readiness>) -> ApiState {
        self.readiness = readiness;
        self
    }

    /// Serves `/metrics` from `metrics`, with the endpoint counters read through `gateway`.
    pub fn with_metrics(
        mut self,
        metrics: Arc<crate::metrics::GatewayMetrics>,
        gateway: crate::gateway::Handle,
    ) -> ApiState {
        self.metrics = metrics;
        self.stats = Some(gateway);
        self
    }

    /// Hands AML locations to `gateway`.
    pub fn with_gateway(mut self, gateway: crate::gateway::Handle) -> ApiState {
        self.gateway = Some(gateway);
        self
    }

    /// The live login tokens.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

/// Binds `api.listen` and serves the whole API — seats and queue over the running driver,
/// records, dispositions and analytics over the store — until `shutdown`; `/ready` answers
/// from `readiness`.
///
/// # Errors
///
/// The listen address cannot be bound, or the built-in boundaries do not load.
pub async fn start(
    config: &Config,
    gateway: crate::gateway::Handle,
    store: Arc<dyn CallStore>,
    readiness: Arc<ready::Readiness>,
    metrics: Arc<crate::metrics::GatewayMetrics>,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let certs = match tls::TlsFiles::from_config(&config.api) {
        Some(files) => {
            let certs = tls::Certs::load(files).map_err(std::io::Error::other)?;
            certs.reload_on_sighup(shutdown.clone())?;
            Some(certs)
        }
        None => {
            tls::ignore_sighup(shutdown.clone())?;
            None
        }
    };
    let listener = TcpListener::bind(config.api.listen).await?;
    let state = ApiState::new(config, Arc::new(gateway.clone()), store)?
        .with_readiness(readiness)
        .with_metrics(metrics, gateway.clone())
        .with_gateway(gateway);
    let app = router(state);
    let limits = listener::Limits::from_config(&config.api);
    Ok(tokio::spawn(async move {
        if let Err(err) = listener::serve(listener, app, limits, certs, shutdown).await {
            tracing::error!(%err, "HTTP API stopped");
        }
    }))
}

/// The whole HTTP API as a function of its state (tested without a socket).
pub fn router(state: ApiState) -> Router {
    let hosts = Arc::clone(&state.hosts);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics_page))
        .route("/ready", get(ready::ready))
        .route("/api/login", post(login::login))
        .route("/api/logout", post(login::logout))
        .route("/api/me", get(login::me))
        .route("/api/seats", get(seats::list))
        .route("/api/queue", get(seats::queue))
        .route("/api/seats/{name}/pause", post(seats::pause))
        .route("/api/seats/{name}/resume", post(seats::resume))
        .route("/api/calls", get(records::list))
        .route("/api/calls/{id}", get(records::one))
        .route("/api/calls/{id}/disposition", post(records::dispose))
        .route(
            "/api/calls/{id}/screening-audio",
            get(records::screening_audio),
        )
        .route("/api/analytics/summary", get(analytics::summary_json))
        .route("/api/analytics/summary.csv", get(analytics::summary_csv))
        .route("/api/categories", get(analytics::categories))
        .route("/api/accounts/{name}", put(login::put_account))
        .route("/aml", post(aml::els))
        .route("/aml/sms", post(aml::sms))
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(middleware::from_fn_with_state(hosts, auth::check_host))
        .with_state(state)
}

/// `GET /metrics`: Prometheus text format 0.0.4. Public like `/health` (counts only, no
/// caller data; the Host check and connection caps still apply), so that a scraper needs
/// no secret. The endpoint's counters are left out when the gateway does not answer.
async fn metrics_page(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let stats = match &state.stats {
        Some(gateway) => gateway.stats().await.ok(),
        None => None,
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(stats.as_ref()),
    )
        .into_response()
}

/// A typed JSON body (unknown fields are refused by the types); an empty body reads as
/// `{}`. Errors are 400 naming the field when serde does.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ApiError::serde(&e.inner().to_string(), &e.path().to_string(), "body"))?;
    // Trailing bytes after the object are an error too.
    de.end()
        .map_err(|e| ApiError::serde(&e.to_string(), ".", "body"))?;
    Ok(value)
}
