//! HTTP API: seats and queue as JSON, supervisor commands, health.
//!
//! | Route | Auth | Answer |
//! |---|---|---|
//! | `GET /health` | none | 200 `ok` |
//! | `GET /api/seats` | bearer | 200 `[SeatView]` |
//! | `GET /api/queue` | bearer | 200 `[QueuedView]`, serving order |
//! | `POST /api/seats/{name}/pause` | bearer | 200 `SeatView`; body `{"reason": "..."}` optional |
//! | `POST /api/seats/{name}/resume` | bearer | 200 `SeatView` |
//!
//! **Every `/api` route needs `Authorization: Bearer <api.token>`, reads included**: the queue
//! shows emergency callers' numbers, and "open on loopback" stops meaning anything as soon as
//! a reverse proxy or a `0.0.0.0` listen address is in front. The seat console sends the
//! token like any other client. Errors are JSON (see [`ApiError`]): 401 bad token, 404
//! unknown seat, 409 a command the seat's state refuses, 400 a bad body.
//!
//! **Pausing a busy seat** (ringing, on a call, in wrap-up) is accepted as "pause after this
//! call": the answer shows `pause_pending`, and the seat goes to `paused` when its wrap-up
//! ends. 409 is for pausing a seat already paused (or with a pause pending) and for resuming
//! a seat that is neither. Resuming a seat with a pending pause cancels the pause.
//!
//! The HTTP layer sees routing only through [`RoutingControl`]; it never touches calls.
pub mod accounts;
pub mod analytics;
mod auth;
mod driver;
pub mod error;
mod http_error;
pub mod records;
#[cfg(test)]
mod records_tests;
mod seats;
#[cfg(test)]
mod tests;

pub use http_error::RecordsError;
pub use records::{routes, RecordsApiState};

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::routing::{get, post};
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;

use crate::config::Secret;
use crate::routing::{Acd, AcdError, QueuedView, SeatView};

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

/// What the handlers share: the token's digest and the routing handle. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    token_digest: [u8; 32],
    routing: Arc<dyn RoutingControl>,
}

impl ApiState {
    /// State for `router`: requests must carry `token` (`api.token`).
    pub fn new(token: &Secret, routing: Arc<dyn RoutingControl>) -> ApiState {
        ApiState {
            token_digest: auth::digest(token.expose().as_bytes()),
            routing,
        }
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

/// Binds `api.listen` and serves the whole API — seats and queue over the running driver,
/// records, dispositions and analytics over the store — until `shutdown`.
///
/// # Errors
///
/// The listen address cannot be bound, or the built-in boundaries do not load.
pub async fn start(
    config: &crate::config::Config,
    gateway: crate::gateway::Handle,
    store: Arc<dyn crate::store::CallStore>,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(config.api.listen).await?;
    let state = ApiState::new(&config.api.token, Arc::new(gateway));
    let places = crate::location::Places::cirebon()
        .map_err(|e| std::io::Error::other(format!("kecamatan boundaries: {e}")))?;
    let records = RecordsApiState {
        store: crate::store::StoreHandle::new(store),
        sessions: Arc::new(accounts::Sessions::new(config.accounts.token_ttl_s)),
        places: Arc::new(places),
        categories: Arc::new(config.categories.clone()),
        analytics: Arc::new(crate::analytics::Analytics::new(
            config.analytics.utc_offset_hours,
            config.categories.clone(),
            config.analytics.top_callers,
        )),
        clock: Arc::new(crate::store::Timestamp::now),
    };
    let app = router(state).merge(routes(records));
    Ok(tokio::spawn(async move {
        if let Err(err) = serve(listener, app, shutdown).await {
            tracing::error!(%err, "HTTP API stopped");
        }
    }))
}

/// The whole HTTP API as a function of its state (tested without a socket).
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/api/seats", get(seats::list))
        .route("/api/queue", get(seats::queue))
        .route("/api/seats/{name}/pause", post(seats::pause))
        .route("/api/seats/{name}/resume", post(seats::resume))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(api)
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}

/// Serves `router` on a bound `listener` until `shutdown` is cancelled, then lets requests in
/// flight finish.
///
/// # Errors
///
/// I/O errors of the listener.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "HTTP API listening");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled_owned().await })
        .await
}
