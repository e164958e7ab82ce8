//! Router tests with `oneshot` (no socket), and one real-socket test.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::*;
use crate::routing::{AcdSettings, CallClass, RingOutcome, SeatSpec};

const TOKEN: &str = "s3cret-token";

/// Seats `a` (available), `b` (on call `c1`), `c` (unregistered); call `c2` waiting.
fn acd() -> Arc<Mutex<Acd>> {
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
    acd.enqueue(now, "c2", CallClass::Speaking, "081200000002");
    acd.resume(now, "a").unwrap();
    Arc::new(Mutex::new(acd))
}

fn app() -> Router {
    router(ApiState::new(&Secret::new(TOKEN), acd()))
}

fn request(method: Method, uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if !body.is_empty() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn post(app: &Router, uri: &str, body: &str) -> (StatusCode, Value) {
    send(app, request(Method::POST, uri, Some(TOKEN), body)).await
}

#[tokio::test]
async fn health_needs_no_token() {
    let (status, body) = send(&app(), request(Method::GET, "/health", None, "")).await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
}

#[tokio::test]
async fn api_routes_need_the_bearer_token() {
    let app = app();
    for uri in ["/api/seats", "/api/queue"] {
        for token in [None, Some("wrong"), Some("")] {
            let resp = app
                .clone()
                .oneshot(request(Method::GET, uri, token, ""))
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{uri} {token:?}");
            assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
    let (status, body) = send(&app, request(Method::POST, "/api/seats/a/pause", None, "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"error": "missing or wrong bearer token"}));
    let lower = Request::get("/api/seats")
        .header(header::AUTHORIZATION, format!("bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, lower).await.0, StatusCode::OK);
}

#[tokio::test]
async fn seats_and_queue_as_json() {
    let app = app();
    let (status, seats) = send(&app, request(Method::GET, "/api/seats", Some(TOKEN), "")).await;
    assert_eq!(status, StatusCode::OK);
    let states: Vec<(&str, &str)> = seats
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("a", "available"), ("b", "on_call"), ("c", "unreachable")]
    );
    assert_eq!(seats[1]["call"], "c1");
    assert_eq!(seats[0]["static"], false);

    let (status, queue) = send(&app, request(Method::GET, "/api/queue", Some(TOKEN), "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue[0]["call"], "c2");
    assert_eq!(queue[0]["caller"], "081200000002");
    assert_eq!(queue[0]["class"], "speaking");
    assert_eq!(queue[0]["effective_class"], "speaking");
    assert_eq!(queue[0]["position"], 1);
}

#[tokio::test]
async fn pause_and_resume_a_seat() {
    let app = app();
    let (status, seat) = post(&app, "/api/seats/a/pause", r#"{"reason": "istirahat"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (seat["state"].as_str(), seat["reason"].as_str()),
        (Some("paused"), Some("istirahat"))
    );
    let (status, body) = post(&app, "/api/seats/a/pause", "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("paused"), "{body}");
    let (status, seat) = post(&app, "/api/seats/a/resume", "").await;
    assert_eq!(
        (status, seat["state"].as_str()),
        (StatusCode::OK, Some("available"))
    );
    assert_eq!(
        post(&app, "/api/seats/a/resume", "").await.0,
        StatusCode::CONFLICT
    );
    let (status, seat) = post(&app, "/api/seats/c/pause", "").await;
    assert_eq!(
        (status, seat["reason"].as_str()),
        (StatusCode::OK, Some("paused by supervisor"))
    );
}

#[tokio::test]
async fn pausing_a_seat_on_a_call_waits_for_the_call() {
    let app = app();
    let (status, seat) = post(&app, "/api/seats/b/pause", r#"{"reason": "shift end"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seat["state"], "on_call");
    assert_eq!(seat["pause_pending"], "shift end");
    assert_eq!(
        post(&app, "/api/seats/b/pause", "").await.0,
        StatusCode::CONFLICT
    );
    let (status, seat) = post(&app, "/api/seats/b/resume", "").await;
    assert_eq!(
        (status, &seat["pause_pending"]),
        (StatusCode::OK, &Value::Null)
    );
}

#[tokio::test]
async fn unknown_seat_and_route_are_404() {
    let app = app();
    let (status, body) = post(&app, "/api/seats/zz/pause", "").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "no seat named \"zz\""})
        )
    );
    assert_eq!(
        post(&app, "/api/seats/zz/resume", "").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = send(&app, request(Method::GET, "/api/nothing", Some(TOKEN), "")).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"error": "not found"}))
    );
}

#[tokio::test]
async fn bad_pause_bodies_are_400_with_a_reason() {
    let app = app();
    let long = format!(r#"{{"reason": "{}"}}"#, "x".repeat(201));
    let cases = [
        ("{not json", None),
        (r#"{"reason": 5}"#, None),
        (r#"{"why": "x"}"#, None),
        ("[1, 2]", None),
        (r#"{"reason": "   "}"#, Some("reason")),
        (r#"{"reason": "a\u0007b"}"#, Some("reason")),
        (long.as_str(), Some("reason")),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&app, "/api/seats/a/pause", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!answer["error"].as_str().unwrap().is_empty(), "{body}");
        assert_eq!(answer.get("field").and_then(Value::as_str), field, "{body}");
    }
    let (status, seat) = send(&app, request(Method::GET, "/api/seats", Some(TOKEN), "")).await;
    assert_eq!(
        (status, &seat[0]["state"]),
        (StatusCode::OK, &json!("available"))
    );
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, app(), shutdown.clone()));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /api/seats HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.contains(r#""name":"a""#), "{answer}");

    shutdown.cancel();
    server.await.unwrap().unwrap();
}
