//! Seats, queue, auth model and Host check through `oneshot`, and one real-socket test.
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::auth::{Access, ROUTES};
use super::test_app::{app, App, KEY_ANALYST, KEY_SUP};

async fn post(app: &App, uri: &str, body: &str) -> (StatusCode, Value) {
    let a = app.call("POST", uri, Some(KEY_SUP), body).await;
    (a.status, a.json)
}

#[tokio::test]
async fn health_needs_no_token() {
    let a = app().call("GET", "/health", None, "").await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn api_routes_need_a_token() {
    let app = app();
    for uri in ["/api/seats", "/api/queue", "/api/calls", "/api/me"] {
        for token in [None, Some("wrong"), Some("")] {
            let a = app.call("GET", uri, token, "").await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri} {token:?}");
            assert_eq!(a.headers[header::WWW_AUTHENTICATE], "Bearer");
            assert_eq!(a.json, json!({"error": "unauthorized"}));
        }
    }
    let lower = Request::get("/api/seats")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("bearer {KEY_SUP}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(lower).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_declared_route_is_routed_and_guarded() {
    let app = app();
    for (method, path, access) in ROUTES {
        let uri = path.replace("{name}", "a").replace("{id}", "c1");
        let a = app.call(method.as_str(), &uri, None, "").await;
        match access {
            // Routed and guarded: the table was consulted (a missing route is a 404).
            Access::Roles(_) => assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}"),
            Access::Public => assert!(
                ![StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED].contains(&a.status),
                "{method} {path}: {}",
                a.status
            ),
        }
    }
    let a = app.call("GET", "/api/nothing", Some(KEY_SUP), "").await;
    assert_eq!(
        (a.status, a.json),
        (StatusCode::NOT_FOUND, json!({"error": "not found"}))
    );
}

#[tokio::test]
async fn a_supervisor_login_reads_seats_and_queue() {
    let app = app();
    let token = app.login("sup").await;
    let seats = app.call("GET", "/api/seats", Some(&token), "").await;
    assert_eq!(seats.status, StatusCode::OK, "{}", seats.text);
    let states: Vec<(&str, &str)> = seats
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [("a", "available"), ("b", "on_call"), ("c", "unreachable")]
    );
    assert_eq!(seats.json[1]["call"], "c1");
    assert_eq!(seats.json[0]["static"], false);

    let queue = app.call("GET", "/api/queue", Some(&token), "").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(queue.json[0]["call"], "q1");
    assert_eq!(queue.json[0]["caller"], "081200000002");
    assert_eq!(queue.json[0]["class"], "speaking");
    assert_eq!(queue.json[0]["position"], 1);
    // The same login may pause a seat.
    let a = app
        .call("POST", "/api/seats/a/pause", Some(&token), "")
        .await;
    assert_eq!(
        (a.status, a.json["state"].as_str()),
        (StatusCode::OK, Some("paused"))
    );
}

#[tokio::test]
async fn an_analyst_key_cannot_pause_a_seat() {
    let app = app();
    let a = app
        .call("POST", "/api/seats/a/pause", Some(KEY_ANALYST), "")
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(
        a.json["error"].as_str().unwrap().starts_with("forbidden"),
        "{}",
        a.text
    );
    assert_eq!(
        app.call("POST", "/api/seats/a/resume", Some(KEY_ANALYST), "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Nothing changed, and the analyst may still read.
    let seats = app.call("GET", "/api/seats", Some(KEY_ANALYST), "").await;
    assert_eq!(
        (seats.status, &seats.json[0]["state"]),
        (StatusCode::OK, &json!("available"))
    );
    // An analyst login and a seat login are refused alike.
    for who in ["ana", "budi"] {
        let t = app.login(who).await;
        let a = app.call("POST", "/api/seats/a/pause", Some(&t), "").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{who}");
    }
    let me = app.call("GET", "/api/me", Some(KEY_ANALYST), "").await;
    assert_eq!(
        me.json,
        json!({"name": "bi", "role": "analyst", "seat": null, "via": "key"})
    );
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
async fn unknown_seat_is_404() {
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
}

#[tokio::test]
async fn bad_pause_bodies_are_400_with_a_field() {
    let app = app();
    let long = format!(r#"{{"reason": "{}"}}"#, "x".repeat(201));
    let cases = [
        ("{not json", "body"),
        (r#"{"reason": 5}"#, "reason"),
        (r#"{"why": "x"}"#, "why"),
        ("[1, 2]", "body"),
        (r#"{"reason": "x"} trailing"#, "body"),
        (r#"{"reason": "   "}"#, "reason"),
        (r#"{"reason": "a\u0007b"}"#, "reason"),
        (long.as_str(), "reason"),
    ];
    for (body, field) in cases {
        let (status, answer) = post(&app, "/api/seats/a/pause", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!answer["error"].as_str().unwrap().is_empty(), "{body}");
        assert_eq!(answer["field"].as_str(), Some(field), "{body}: {answer}");
    }
    let seats = app.call("GET", "/api/seats", Some(KEY_SUP), "").await;
    assert_eq!(seats.json[0]["state"], "available");
}

#[tokio::test]
async fn host_header_must_name_this_api() {
    let app = app();
    for host in [
        "localhost",
        "LOCALHOST:8112",
        "127.0.0.1:8112",
        "[::1]:8112",
    ] {
        let req = Request::get("/health")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::OK, "{host}");
    }
    // DNS rebinding: the browser sends the attacker's name, even with a good token.
    for host in [
        "evil.example",
        "evil.example:8112",
        "127.0.0.1.evil.example",
        "localhost:9999",
    ] {
        let req = Request::get("/api/seats")
            .header(header::HOST, host)
            .header(header::AUTHORIZATION, format!("Bearer {KEY_SUP}"))
            .body(Body::empty())
            .unwrap();
        let a = app.send(req).await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(a.json["error"].as_str().unwrap().contains("misdirected"));
    }
    let req = Request::get("/health").body(Body::empty()).unwrap();
    let a = app.send(req).await;
    assert_eq!(
        (a.status, a.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("host"))
    );
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let limits = super::listener::Limits::from_config(&crate::config::ApiConfig::default());
    let server = tokio::spawn(super::listener::serve(
        listener,
        app().router,
        limits,
        None,
        shutdown.clone(),
    ));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /api/seats HTTP/1.1\r\nHost: 127.0.0.1:8112\r\nAuthorization: Bearer {KEY_SUP}\r\nConnection: close\r\n\r\n"
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
