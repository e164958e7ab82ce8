//! The API under test (no socket): a memory store with accounts and calls, an ACD, keys.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::accounts::new_account;
use super::{router, ApiState};
use crate::config::{ApiKey, Config, Secret};
use crate::routing::{Acd, AcdSettings, CallClass, RingOutcome, SeatSpec};
use crate::store::{CallStore, CallUpdate, MemoryStore, Role, Timestamp};

pub(super) const T0: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z
/// A supervisor key and an analyst key from `[[api.keys]]`.
pub(super) const KEY_SUP: &str = "wallboard-key-0001";
pub(super) const KEY_ANALYST: &str = "bi-export-key-0001";

/// Seats `a` (available), `b` (on call `c1`), `c` (unregistered); call `q1` waiting.
pub(super) fn acd() -> Arc<Mutex<Acd>> {
    let now = Instant::now();
    let settings = AcdSettings::from_config(&crate::config::RoutingConfig::default());
    let seats = ["a", "b", "c"]
        .map(|name| SeatSpec {
            name: name.into(),
            static_contact: None,
        })
        .to_vec();
    let mut acd = Acd::new(now, settings, seats);
    acd.set_registration(now, "b", true, true);
    acd.set_registration(now + Duration::from_secs(1), "a", true, true);
    acd.enqueue(now, "c1", CallClass::Unscreened, "081200000001");
    let ring = acd.poll_assignment(now).expect("b is idle longest");
    acd.ring_result(now, &ring.call, &ring.seat, RingOutcome::Answered);
    acd.pause(now, "a", "setup").unwrap();
    acd.enqueue(now, "q1", CallClass::Speaking, "081200000002");
    acd.resume(now, "a").unwrap();
    Arc::new(Mutex::new(acd))
}

pub(super) struct App {
    pub(super) state: ApiState,
    pub(super) router: Router,
    pub(super) now: Arc<AtomicI64>,
    pub(super) store: Arc<MemoryStore>,
    /// Where kept screening audio goes (never the repo's `data/`).
    pub(super) audio_dir: tempfile::TempDir,
}

/// Accounts `budi` (seat1), `sari` (seat2), `sup`, `ana`, `root` (admin), passwords
/// `pw-<name>`; calls `c1` (seat1), `c2` (seat2), `q1` (waiting, no seat).
pub(super) fn app() -> App {
    let store = Arc::new(MemoryStore::new());
    let accounts = [
        ("budi", Role::Seat, Some("seat1")),
        ("sari", Role::Seat, Some("seat2")),
        ("sup", Role::Supervisor, None),
        ("ana", Role::Analyst, None),
        ("root", Role::Admin, None),
    ];
    for (name, role, seat) in accounts {
        let pw = format!("pw-{name}");
        store
            .put_account(&new_account(name, role, seat, &pw).unwrap())
            .unwrap();
    }
    for (id, seat, caller) in [
        ("c1", Some("seat1"), "0811"),
        ("c2", Some("seat2"), "0822"),
        ("q1", None, "0833"),
    ] {
        let received = CallUpdate::Received {
            at: Timestamp::from_ms(T0),
            caller: Some(caller.into()),
            display_name: None,
            trunk: "t".into(),
            sip_call_id: id.into(),
        };
        store.record_event(id, received).unwrap();
        if let Some(seat) = seat {
            let answered = CallUpdate::Answered {
                at: Timestamp::from_ms(T0 + 9000),
                seat: seat.into(),
            };
            store.record_event(id, answered).unwrap();
        }
    }
    let mut config = Config::default();
    config.accounts.token_ttl_s = 3600;
    let audio_dir = tempfile::tempdir().unwrap();
    config.screening.audio_dir = audio_dir.path().to_path_buf();
    // AML intake on, so its public routes answer (their own key; see `aml_tests`).
    config.location.aml_enabled = true;
    config.location.aml_api_key = Secret::new("aml-key-0123456789abcdef");
    config.api.keys = vec![
        ApiKey {
            name: "wallboard".into(),
            key: Secret::new(KEY_SUP),
            role: Role::Supervisor,
        },
        ApiKey {
            name: "bi".into(),
            key: Secret::new(KEY_ANALYST),
            role: Role::Analyst,
        },
    ];
    let now = Arc::new(AtomicI64::new(T0 + 3_600_000));
    let clock_now = Arc::clone(&now);
    let state = ApiState::new(&config, acd(), Arc::clone(&store) as Arc<dyn CallStore>)
        .unwrap()
        .with_clock(Arc::new(move || {
            Timestamp::from_ms(clock_now.load(Ordering::SeqCst))
        }))
        // `/metrics` is routed (its gateway stopped: the endpoint counters are left out).
        .with_metrics(
            Arc::new(crate::metrics::GatewayMetrics::default()),
            crate::gateway::Handle::channel().0,
        );
    App {
        router: router(state.clone()),
        state,
        now,
        store,
        audio_dir,
    }
}

/// An answer: status, JSON (or `Null`), raw text, headers.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) json: Value,
    pub(super) text: String,
    pub(super) headers: HeaderMap,
}

impl App {
    pub(super) async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Answer {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    pub(super) async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost:8112");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// [`App::call`] as `(status, json, text)`.
    pub(super) async fn call3(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value, String) {
        let a = self.call(method, uri, token, body).await;
        (a.status, a.json, a.text)
    }

    pub(super) async fn try_login(&self, name: &str, password: &str) -> Answer {
        let body = json!({ "name": name, "password": password }).to_string();
        self.call("POST", "/api/login", None, &body).await
    }

    /// A login from `peer`, as the listener marks requests.
    pub(super) async fn login_from(&self, peer: &str, name: &str, password: &str) -> Answer {
        let body = json!({ "name": name, "password": password }).to_string();
        let mut req = Request::post("/api/login")
            .header("host", "localhost")
            .body(Body::from(body))
            .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.send(req).await
    }

    pub(super) async fn login(&self, name: &str) -> String {
        let a = self.try_login(name, &format!("pw-{name}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        a.json["token"].as_str().unwrap().to_owned()
    }
}
