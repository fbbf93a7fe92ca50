//! Personal access tokens: made and revoked from a login session, shown once, used wherever an
//! access token goes, limited by scope, recorded when used, ended by revocation (open streams
//! included) and by a password change only when asked.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};
use crate::streams::open_at;

async fn make(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let (status, answer) = json(
        app.send_as(
            Method::POST,
            "/api/v1/users/me/tokens",
            &user.access_token,
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    answer["data"].clone()
}

#[tokio::test]
async fn a_token_works_like_an_access_token_within_its_scopes() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let read = make(&app, &user, json!({"name": "Reports", "scopes": ["read"]})).await;
    let secret = read["token_secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("finai_pat_") && secret.len() == 53,
        "{secret}"
    );
    assert!(secret.starts_with(read["hint"].as_str().unwrap().trim_end_matches('…')));
    assert!(read["expires_at"].is_null());

    // Reads work; writes are refused and store nothing.
    let wallets = app
        .send_as(Method::GET, "/api/v1/wallets", &secret, None)
        .await;
    assert_eq!(wallets.status(), 200);
    let write = app
        .send_as(
            Method::POST,
            "/api/v1/wallets",
            &secret,
            Some(&json!({"name": "Cash", "type": "cash", "currency": "USD"})),
        )
        .await;
    assert_error(write, 403, "insufficient_scope").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM wallets"), 0);

    let both = make(
        &app,
        &user,
        json!({"name": "Sync", "scopes": ["write", "read"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(both["scopes"], json!(["read", "write"]));
    assert!(both["expires_at"].is_string());
    let writer = both["token_secret"].as_str().unwrap();
    let created = app
        .send_as(
            Method::POST,
            "/api/v1/wallets",
            writer,
            Some(&json!({"name": "Cash", "type": "cash", "currency": "USD"})),
        )
        .await;
    assert_eq!(created.status(), 201);

    // The list shows use, never secrets.
    let listed = app.data(&user, "/api/v1/users/me/tokens").await;
    let first = &listed[0];
    assert_eq!(first["name"], "Reports");
    assert!(first.get("token_secret").is_none());
    assert!(first["last_used_at"].is_string(), "{listed}");
    assert_eq!(first["last_used_ip"], "127.0.0.1");

    // Tokens are managed from a login session only.
    let minted = app
        .send_as(
            Method::POST,
            "/api/v1/users/me/tokens",
            writer,
            Some(&json!({"name": "More", "scopes": ["write"]})),
        )
        .await;
    assert_error(minted, 403, "session_required").await;
    let listed_by_token = app
        .send_as(Method::GET, "/api/v1/users/me/tokens", writer, None)
        .await;
    assert_error(listed_by_token, 403, "session_required").await;
    // Nor does a token with the password make a login session (which would pass by a second
    // factor), or change the password.
    let changed = app
        .send_as(
            Method::POST,
            "/api/v1/auth/password/change",
            writer,
            Some(&json!({"current_password": user.password, "new_password": "N3w!passWord"})),
        )
        .await;
    assert_error(changed, 403, "session_required").await;
    // Nor end the account.
    let deleted = app
        .send_as(
            Method::DELETE,
            "/api/v1/users/me",
            writer,
            Some(&json!({"password": user.password})),
        )
        .await;
    assert_error(deleted, 403, "session_required").await;
    assert_eq!(
        app.get_as("/api/v1/users/me", &user.access_token)
            .await
            .status(),
        200
    );

    // Made-up, expired and revoked tokens are refused.
    for fake in ["finai_pat_nope", "finai_pax_abc", "finai_pat_"] {
        let response = app
            .send_as(Method::GET, "/api/v1/wallets", fake, None)
            .await;
        assert_error(response, 401, "invalid_token").await;
    }
    app.scalar(
        "WITH moved AS (UPDATE personal_access_tokens SET expires_at = now() - interval '1 second' \
         WHERE name = 'Sync' RETURNING 1) SELECT count(*) AS value FROM moved",
    );
    let expired = app
        .send_as(Method::GET, "/api/v1/wallets", writer, None)
        .await;
    assert_error(expired, 401, "invalid_token").await;
    let id = read["id"].as_str().unwrap();
    let revoked = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/tokens/{id}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let after = app
        .send_as(Method::GET, "/api/v1/wallets", &secret, None)
        .await;
    assert_error(after, 401, "invalid_token").await;
    let again = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/tokens/{id}"),
            &user.access_token,
            None,
        )
        .await;
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_an_account_holds_at_most_fifty_tokens() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let path = "/api/v1/users/me/tokens";
    for body in [
        json!({"name": "x", "scopes": ["admin"]}),
        json!({"name": "x", "scopes": []}),
        json!({"name": "", "scopes": ["read"]}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 100000}),
    ] {
        let response = app
            .send_as(Method::POST, path, &user.access_token, Some(&body))
            .await;
        assert_error(response, 422, "validation_failed").await;
    }
    for n in 0..50 {
        make(
            &app,
            &user,
            json!({"name": format!("t{n}"), "scopes": ["read"]}),
        )
        .await;
    }
    for _ in 0..5 {
        let response = app
            .send_as(
                Method::POST,
                path,
                &user.access_token,
                Some(&json!({"name": "one more", "scopes": ["read"]})),
            )
            .await;
        assert_error(response, 409, "token_limit").await;
    }
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM personal_access_tokens"),
        50
    );
}

#[tokio::test]
async fn a_password_change_ends_tokens_only_when_asked_and_revoking_closes_streams() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let token = make(&app, &user, json!({"name": "Feed", "scopes": ["read"]})).await;
    let secret = token["token_secret"].as_str().unwrap().to_owned();
    let change = |body: Value, access: String| {
        let response = app.send_as(
            Method::POST,
            "/api/v1/auth/password/change",
            &access,
            Some(&body),
        );
        async move { json(response.await).await }
    };
    let (status, changed) = change(
        json!({"current_password": user.password, "new_password": "N3w!passWord"}),
        user.access_token.clone(),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let survived = app
        .send_as(Method::GET, "/api/v1/wallets", &secret, None)
        .await;
    assert_eq!(
        survived.status(),
        200,
        "tokens survive a password change by default"
    );

    // A stream opened with the token closes when the token is revoked.
    let mut socket = open_at(&app.address, "/api/v1/events/ws", Some(&secret))
        .await
        .expect("a token opens a stream");
    assert_eq!(socket.frame().await["type"], "connected");
    let session = changed["data"]["access_token"].as_str().unwrap().to_owned();
    let revoked = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/tokens/{}", token["id"].as_str().unwrap()),
            &session,
            None,
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(socket.closed().await.0, 4003);

    let second = make(
        &app,
        &TestUser {
            access_token: session.clone(),
            ..user.clone()
        },
        json!({"name": "Feed 2", "scopes": ["read"]}),
    )
    .await;
    let (status, _) = change(
        json!({"current_password": "N3w!passWord", "new_password": "Th1rd!passWord",
               "end_personal_access_tokens": true}),
        session,
    )
    .await;
    assert_eq!(status, 200);
    let ended = app
        .send_as(
            Method::GET,
            "/api/v1/wallets",
            second["token_secret"].as_str().unwrap(),
            None,
        )
        .await;
    assert_error(ended, 401, "invalid_token").await;

    // A reset (the way back into an account that may have been taken over) may end them too.
    let (status, login) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": user.email, "password": "Th1rd!passWord"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let third = make(
        &app,
        &TestUser {
            access_token: login["data"]["access_token"].as_str().unwrap().to_owned(),
            ..user.clone()
        },
        json!({"name": "Feed 3", "scopes": ["read"]}),
    )
    .await;
    let third = third["token_secret"].as_str().unwrap().to_owned();
    let used = app
        .send_as(Method::GET, "/api/v1/wallets", &third, None)
        .await;
    assert_eq!(used.status(), 200);
    app.post_json(
        "/api/v1/auth/password/forgot",
        &json!({"email": user.email}),
    )
    .await;
    let reset = app.mailed_token(&user.email, "reset-password").await;
    let (status, body) = json(
        app.post_json(
            "/api/v1/auth/password/reset",
            &json!({"token": reset, "new_password": "F0urth!passWord",
                    "end_personal_access_tokens": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ended = app
        .send_as(Method::GET, "/api/v1/wallets", &third, None)
        .await;
    assert_error(ended, 401, "invalid_token").await;
}
