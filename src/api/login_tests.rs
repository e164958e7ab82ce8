//! Login lifecycle through `oneshot`: logout, revocation on password or role change,
//! back-off per account and per address.
use axum::http::StatusCode;
use serde_json::json;

use super::accounts::new_account;
use super::test_app::{app, KEY_SUP};
use crate::store::{CallStore, Role};

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = app();
    let t1 = app.login("sup").await;
    let t2 = app.login("sup").await;
    let (status, _, text) = app.call3("POST", "/api/logout", Some(&t1), "").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    assert_eq!(
        app.call3("GET", "/api/seats", Some(&t1), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call3("POST", "/api/logout", Some(&t1), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call3("GET", "/api/seats", Some(&t2), "").await.0,
        StatusCode::OK,
        "other logins stay"
    );
    let (status, v, _) = app.call3("POST", "/api/logout", Some(KEY_SUP), "").await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("authorization"))
    );
}

#[tokio::test]
async fn password_or_role_changes_revoke_tokens() {
    let app = app();
    let root = app.login("root").await;
    let budi = app.login("budi").await;
    let ana = app.login("ana").await;
    // An admin sets budi's password: budi's token dies, the new password works.
    let (status, v, _) = app
        .call3(
            "PUT",
            "/api/accounts/budi",
            Some(&root),
            r#"{"role":"seat","seat":"seat1","password":"new-pass-123"}"#,
        )
        .await;
    assert_eq!(
        (status, &v["revoked_tokens"]),
        (StatusCode::OK, &json!(1)),
        "{v}"
    );
    assert_eq!(
        app.call3("GET", "/api/calls", Some(&budi), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("budi", "pw-budi").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("budi", "new-pass-123").await.status,
        StatusCode::OK
    );
    // A role change made outside this process (`siaga account add` writes the store):
    // the token dies at its next use.
    let mut changed = new_account("ana", Role::Supervisor, None, "pw-ana").unwrap();
    changed.password_hash = app.store.account("ana").unwrap().unwrap().password_hash;
    app.store.put_account(&changed).unwrap();
    assert_eq!(
        app.call3("GET", "/api/calls", Some(&ana), "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let ana = app.login("ana").await;
    assert_eq!(
        app.call3("POST", "/api/seats/a/pause", Some(&ana), "")
            .await
            .0,
        StatusCode::OK
    );
    // Only admins manage accounts; bodies are typed.
    let sup = app.login("sup").await;
    let body = r#"{"role":"admin","password":"x-long-enough"}"#;
    assert_eq!(
        app.call3("PUT", "/api/accounts/sup", Some(&sup), body)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, v, _) = app
        .call3(
            "PUT",
            "/api/accounts/x",
            Some(&root),
            r#"{"role":"seat","password":"long-enough-1"}"#,
        )
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("seat"))
    );
    let (status, v, _) = app
        .call3("PUT", "/api/accounts/x", Some(&root), r#"{"role":"boss"}"#)
        .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("role")),
        "{v}"
    );
}

#[tokio::test]
async fn failed_logins_back_off_per_account_and_per_address() {
    let app = app();
    // Three free failures for one name (defaults), then a wait: even the right password
    // gets 429 until it is over, without an Argon2 run.
    for _ in 0..3 {
        assert_eq!(
            app.try_login("sari", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.try_login("sari", "guess").await.status,
        StatusCode::UNAUTHORIZED
    );
    let a = app.try_login("sari", "pw-sari").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    assert_eq!(a.headers["retry-after"], "1");
    // Another account is not slowed by sari's failures (below the address threshold).
    app.login("budi").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.try_login("sari", "pw-sari").await.status,
        StatusCode::OK
    );
    // Unknown names count like known ones (no hint which exist).
    for _ in 0..4 {
        assert_eq!(
            app.try_login("nobody", "x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.try_login("nobody", "x").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn one_address_guessing_many_names_is_slowed_others_are_not() {
    let app = app();
    let attacker = "198.51.100.9:40000";
    // 12 free failures per address (4 × backoff_after), each on a fresh name so that no
    // account's own back-off kicks in.
    for i in 0..13 {
        let a = app.login_from(attacker, &format!("guess{i}"), "x").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "#{i}");
    }
    // Now even a right password from that address waits...
    let a = app.login_from(attacker, "sup", "pw-sup").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    // ...while the same account from another address logs in.
    let a = app.login_from("192.0.2.20:5000", "sup", "pw-sup").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}
