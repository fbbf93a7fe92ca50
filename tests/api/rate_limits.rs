//! Rate limits on every route: per user (reads and writes apart), per personal access token,
//! per address for requests without a valid credential and for `/auth`; answered 429
//! `rate_limited` with `Retry-After` and the `RateLimit-*` headers; shared by every instance on
//! one database.

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app_with, TestApp, TestUser};

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn remaining(response: &Response) -> u32 {
    header(response, "ratelimit-remaining")
        .unwrap_or_else(|| panic!("no RateLimit-Remaining on {}", response.url()))
        .parse()
        .unwrap()
}

async fn limited(response: Response) -> Value {
    let retry_after: u64 = header(&response, "retry-after")
        .expect("a 429 says when to retry")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(remaining(&response), 0);
    assert_error(response, 429, "rate_limited").await
}

async fn token(app: &TestApp, user: &TestUser, scopes: Value) -> String {
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/users/me/tokens",
            &user.access_token,
            Some(&json!({"name": "script", "scopes": scopes})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["token_secret"].as_str().unwrap().to_owned()
}

/// Sends `requests` reads as `user`, alternating between two instances: how many were let in.
async fn reads_let_in(app: &TestApp, other: &str, user: &TestUser, requests: usize) -> usize {
    let client = reqwest::Client::new();
    let mut allowed = 0;
    for i in 0..requests {
        let base = if i % 2 == 0 {
            app.address.as_str()
        } else {
            other
        };
        let response = client
            .get(format!("{base}/api/v1/wallets"))
            .bearer_auth(&user.access_token)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => allowed += 1,
            429 => {}
            status => panic!("unexpected {status}"),
        }
    }
    allowed
}

#[tokio::test]
async fn a_users_reads_are_limited_and_every_answer_says_how_many_are_left() {
    let app = spawn_app_with(|s| s.rate_limits.reads = 5).await;
    let user = app.register("ana@example.com").await;
    for left in (0..5).rev() {
        let response = app.get_as("/api/v1/wallets", &user.access_token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(remaining(&response), left);
        assert_eq!(header(&response, "ratelimit-limit").as_deref(), Some("5"));
        let reset: u64 = header(&response, "ratelimit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset), "reset {reset}");
        assert_eq!(
            header(&response, "ratelimit-policy").as_deref(),
            Some("5;w=60;name=\"reads\"")
        );
    }
    let body = limited(app.get_as("/api/v1/wallets", &user.access_token).await).await;
    assert!(
        body["message"].as_str().unwrap().contains("5 a minute"),
        "{body}"
    );
    // Every route counts, not one: another read is refused too.
    limited(app.get_as("/api/v1/users/me", &user.access_token).await).await;

    // Writes have a bucket of their own, and another user is not affected.
    let created = app
        .send_as(
            Method::POST,
            "/api/v1/wallets",
            &user.access_token,
            Some(&json!({"name": "Cash", "type": "cash", "currency": "USD"})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let other = app.register("bao@example.com").await;
    assert_eq!(
        app.get_as("/api/v1/wallets", &other.access_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn writes_are_limited_apart_and_a_refused_write_stores_nothing() {
    let app = spawn_app_with(|s| s.rate_limits.writes = 2).await;
    let user = app.register("ana@example.com").await;
    let wallet = |name: &str| json!({"name": name, "type": "cash", "currency": "USD"});
    for name in ["One", "Two"] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/wallets",
                &user.access_token,
                Some(&wallet(name)),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let refused = app
        .send_as(
            Method::POST,
            "/api/v1/wallets",
            &user.access_token,
            Some(&wallet("Three")),
        )
        .await;
    assert_eq!(
        header(&refused, "ratelimit-policy").as_deref(),
        Some("2;w=60;name=\"writes\"")
    );
    limited(refused).await;
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM wallets WHERE name = 'Three'"),
        0
    );
    // Reads go on.
    let (status, body) = json(app.get_as("/api/v1/wallets", &user.access_token).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_personal_access_token_has_a_bucket_of_its_own() {
    let app = spawn_app_with(|s| s.rate_limits.reads = 3).await;
    let user = app.register("ana@example.com").await;
    let pat = token(&app, &user, json!(["read"])).await;
    for _ in 0..3 {
        assert_eq!(app.get_as("/api/v1/wallets", &pat).await.status(), 200);
    }
    limited(app.get_as("/api/v1/wallets", &pat).await).await;
    // The session's reads are counted apart: a runaway script does not lock its owner out.
    let response = app.get_as("/api/v1/wallets", &user.access_token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(remaining(&response), 2);
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_limit() {
    let app = spawn_app_with(|s| s.rate_limits.reads = 6).await;
    let other = app.second_instance_with(|s| s.rate_limits.reads = 6).await;
    let user = app.register("ana@example.com").await;
    let allowed = reads_let_in(&app, &other.address, &user, 12).await;
    assert_eq!(allowed, 6, "the limit must not multiply with the instances");
}

#[tokio::test]
async fn requests_without_a_valid_credential_are_limited_per_address() {
    let app = spawn_app_with(|s| s.rate_limits.anonymous = 3).await;
    // Guessing tokens counts against the address, whatever the token looks like.
    for token in ["not-a-jwt", "finai_pat_guess", "eyJhbGciOiJIUzI1NiJ9.e30.x"] {
        assert_error(
            app.get_as("/api/v1/wallets", token).await,
            401,
            "invalid_token",
        )
        .await;
    }
    limited(app.get_as("/api/v1/wallets", "finai_pat_another").await).await;
    // As do requests with no credential at all, to any route but the probes.
    limited(app.get("/api/v1/openapi.json").await).await;
    limited(app.get("/api/v1/wallets").await).await;
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/ready").await.status(), 200);
}

#[tokio::test]
async fn an_escaped_auth_path_counts_against_the_auth_bucket() {
    let app = spawn_app_with(|s| s.rate_limits.auth = 2).await;
    let body = json!({"email": "x@example.com", "password": "Wr0ng!pw"});
    for path in ["/api/v1/auth/login", "/api/v1/%61uth/login"] {
        let response = app.post_json(path, &body).await;
        assert_eq!(
            header(&response, "ratelimit-policy").as_deref(),
            Some("2;w=60;name=\"auth\"")
        );
        assert_error(response, 401, "invalid_credentials").await;
    }
    limited(app.post_json("/api/v1/auth/login", &body).await).await;
}

#[tokio::test]
async fn spent_buckets_are_forgotten_once_full_again() {
    let app = spawn_app_with(|s| s.rate_limits.reads = 600).await;
    let user = app.register("ana@example.com").await;
    assert_eq!(
        app.get_as("/api/v1/wallets", &user.access_token)
            .await
            .status(),
        200
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM rate_limits"), 1);
    // 0.1 s of a 600-a-minute bucket: full again almost at once.
    app.execute("UPDATE rate_limits SET tat = now() - interval '1 second'");
    app.run_jobs();
    assert_eq!(app.scalar("SELECT count(*) AS value FROM rate_limits"), 0);
}

#[tokio::test]
async fn leases_taken_ahead_never_let_two_instances_past_the_limit() {
    // 100 reads a minute: a credential hammering both instances gets leases of up to five
    // requests on each, which may refuse a little early but never let in more than 100.
    let app = spawn_app_with(|s| s.rate_limits.reads = 100).await;
    let other = app
        .second_instance_with(|s| s.rate_limits.reads = 100)
        .await;
    let user = app.register("ana@example.com").await;
    let started = std::time::Instant::now();
    let allowed = reads_let_in(&app, &other.address, &user, 160).await;
    // The bucket refills meanwhile, one request per 0.6 s: on a busy machine the 160 take
    // long enough for one or two more to be due.
    let refilled = (started.elapsed().as_secs_f64() / 0.6).floor() as usize;
    assert!(
        (90..=100 + refilled).contains(&allowed),
        "{allowed} of 160 let in with a limit of 100 (and {refilled} refilled meanwhile)"
    );
}

#[tokio::test]
async fn a_stream_opened_with_a_ticket_counts_against_its_user_and_a_guessed_ticket_against_the_address(
) {
    let app = spawn_app_with(|s| {
        s.rate_limits.anonymous = 2;
        s.rate_limits.reads = 100;
    })
    .await;
    let user = app.register("ana@example.com").await;
    // More streams than the address's bucket holds: each counts as one of the user's reads.
    for _ in 0..3 {
        let ticket = app
            .data_of(&user, Method::POST, "/api/v1/events/ticket", json!({}))
            .await["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let stream = app
            .get(&format!("/api/v1/events/stream?ticket={ticket}"))
            .await;
        assert_eq!(stream.status(), 200);
        assert!(header(&stream, "ratelimit-policy")
            .unwrap()
            .ends_with("name=\"reads\""));
    }
    // A ticket that opens nothing counts against the address, as a token that does not verify,
    // and so does one refused before it is read, or sent to any other path.
    assert_error(
        app.get("/api/v1/events/stream?ticket=guess").await,
        401,
        "invalid_ticket",
    )
    .await;
    assert_error(
        app.get("/api/v1/events/stream?ticket=guess&types=bogus")
            .await,
        400,
        "invalid_query",
    )
    .await;
    limited(app.get("/api/v1/elsewhere/events/ws?ticket=guess").await).await;
}
