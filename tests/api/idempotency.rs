//! `Idempotency-Key` on POST.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn a_retried_post_returns_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let body = json!({"type": "expense", "amount": 4.5, "category_id": cafe, "wallet_id": cash});
    let post = |key: &str, body: &serde_json::Value| {
        app.request(Method::POST, "/api/v1/transactions")
            .bearer_auth(&user.access_token)
            .header("idempotency-key", key)
            .json(body)
            .send()
    };
    let first = post("key-1", &body).await.unwrap();
    let location = first.headers()["location"].clone();
    let etag = first.headers()["etag"].clone();
    let (status, first_body) = json(first).await;
    assert_eq!(status, 201);
    let retry = post("key-1", &body).await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(
        retry.headers()["etag"],
        etag,
        "the version travels with the replay"
    );
    let (status, retry_body) = json(retry).await;
    assert_eq!(status, 201);
    assert_eq!(retry_body, first_body);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);
    // The same JSON spelled another way (keys reordered, spaced) is the same request.
    let respelled = format!(
        "{{ \"wallet_id\": \"{cash}\",\n  \"category_id\": \"{cafe}\", \"amount\": 4.5, \"type\": \"expense\" }}"
    );
    let retry = app
        .request(Method::POST, "/api/v1/transactions")
        .bearer_auth(&user.access_token)
        .header("idempotency-key", "key-1")
        .header("content-type", "application/json")
        .body(respelled)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);

    let other_body =
        json!({"type": "expense", "amount": 5, "category_id": cafe, "wallet_id": cash});
    assert_error(
        post("key-1", &other_body).await.unwrap(),
        409,
        "idempotency_key_reused",
    )
    .await;
    let (status, _) = json(post("key-2", &other_body).await.unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 2);

    // Keys are per user: another user's identical key is a new request.
    let bob = app.register("bob@example.com").await;
    let bob_cash = app.create_wallet(&bob, "Cash", "USD").await;
    let bob_cafe = app.category_id(&bob, "Cafe").await;
    let response = app.request(Method::POST, "/api/v1/transactions")
        .bearer_auth(&bob.access_token)
        .header("idempotency-key", "key-1")
        .json(&json!({"type": "expense", "amount": 4.5, "category_id": bob_cafe, "wallet_id": bob_cash}))
        .send().await.unwrap();
    assert_eq!(response.status(), 201);

    let bad_key = app
        .request(Method::POST, "/api/v1/transactions")
        .bearer_auth(&user.access_token)
        .header("idempotency-key", "has space")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(bad_key, 400, "invalid_idempotency_key").await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_exactly_one_row() {
    let app = spawn_app_with_more_workers().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let body = json!({"type": "expense", "amount": 9, "category_id": cafe, "wallet_id": cash});
    let requests: Vec<_> = (0..8)
        .map(|_| {
            app.request(Method::POST, "/api/v1/transactions")
                .bearer_auth(&user.access_token)
                .header("idempotency-key", "same-key")
                .json(&body)
                .send()
        })
        .collect();
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transactions"),
        1,
        "{statuses:?}"
    );
    let (status, _) = json(
        app.request(Method::POST, "/api/v1/transactions")
            .bearer_auth(&user.access_token)
            .header("idempotency-key", "same-key")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "once settled, a retry gets the stored answer");
}

async fn spawn_app_with_more_workers() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|settings| {
        settings.workers = 4;
        settings.database.pool_size = 8;
    })
    .await
}

#[tokio::test]
async fn auth_answers_are_never_stored_or_replayed() {
    let app = spawn_app().await;
    let register = || {
        app.request(Method::POST, "/api/v1/auth/register")
            .header("idempotency-key", "reg-1")
            .json(&json!({"email": "ana@example.com", "password": "Str0ng!pass", "name": "Ana"}))
            .send()
    };
    assert_eq!(register().await.unwrap().status(), 201);
    assert_error(register().await.unwrap(), 409, "email_taken").await;
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM idempotency_keys"),
        0
    );
}

#[tokio::test]
async fn an_auth_path_spelled_with_escapes_is_still_never_stored() {
    let app = spawn_app().await;
    app.register("ana@example.com").await;
    // `%61uth` is routed to `/auth/login`: its answer holds live tokens all the same.
    let login = || {
        app.request(Method::POST, "/api/v1/%61uth/login")
            .header("idempotency-key", "login-1")
            .json(&json!({"email": "ana@example.com", "password": "Str0ng!pass"}))
            .send()
    };
    let first = login().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = login().await.unwrap();
    assert_eq!(second.status(), 200);
    assert!(second.headers().get("idempotent-replayed").is_none());
    let (_, first) = json(first).await;
    let (_, second) = json(second).await;
    assert_ne!(
        first["data"]["refresh_token"],
        second["data"]["refresh_token"]
    );
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM idempotency_keys"),
        0
    );
}

#[tokio::test]
async fn failures_that_a_retry_could_fix_are_not_replayed() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let post = |token: &str| create_wallet_with_key(&app, token);
    assert_error(post("not-a-token").await.unwrap(), 401, "invalid_token").await;
    let (status, _) = json(post(&user.access_token).await.unwrap()).await;
    assert_eq!(status, 201, "the 401 was not kept");
}

#[tokio::test]
async fn a_revoked_token_gets_no_replay() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let post = |token: &str| create_wallet_with_key(&app, token);
    assert_eq!(post(&user.access_token).await.unwrap().status(), 201);
    // Signing out everywhere ends the access token: its stored answer is not handed out.
    let logout = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": user.refresh_token, "all_devices": true}),
        )
        .await;
    assert_eq!(logout.status(), 200);
    let replay = post(&user.access_token).await.unwrap();
    assert!(replay.headers().get("idempotent-replayed").is_none());
    assert_error(replay, 401, "invalid_token").await;
}

#[tokio::test]
async fn answers_are_forgotten_after_a_day() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let post = || create_wallet_with_key(&app, &user.access_token);
    assert_eq!(post().await.unwrap().status(), 201);
    app.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'");
    // The key is free again: the same request is handled anew.
    let again = post().await.unwrap();
    assert!(again.headers().get("idempotent-replayed").is_none());
    assert_eq!(again.status(), 201);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM wallets"), 2);
    // And the background job sweeps what nobody asks for again.
    app.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'");
    let report = app.run_jobs();
    assert!(report.purged >= 1, "{report:?}");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM idempotency_keys"),
        0
    );
}

/// The same wallet creation, with the same key (`w-1`), as `token`.
fn create_wallet_with_key(
    app: &crate::helpers::TestApp,
    token: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    app.request(Method::POST, "/api/v1/wallets")
        .bearer_auth(token)
        .header("idempotency-key", "w-1")
        .json(&json!({"name": "Cash", "type": "cash"}))
        .send()
}
