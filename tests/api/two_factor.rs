//! Two-factor login (TOTP): enrolment with a QR code, confirmation by a first code, a login
//! that answers a challenge, codes accepted one step either side and never twice, single-use
//! recovery codes, failed codes counted toward the lockout, turning it off with the password
//! and a code, an admin's audited reset. Codes are computed with `finai::auth::totp`, which
//! its unit tests hold to RFC 6238's vectors (and `scripts/totp-crosscheck.sh` to pyotp).

use std::time::Duration;

use finai::auth::totp::{code_at, Algorithm, DIGITS};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser, PASSWORD};

/// An account with two-factor login on: its secret and recovery codes.
struct Enrolled {
    user: TestUser,
    secret: Vec<u8>,
    recovery: Vec<String>,
    /// When the confirming code was made (its step is spent).
    confirmed_at: i64,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn code(secret: &[u8], at: i64) -> String {
    code_at(Algorithm::Sha1, secret, at, DIGITS)
}

/// Waits until the current 30-second step has at least `secs` left, so a test's codes do not
/// straddle a step boundary.
async fn steady_step(secs: i64) {
    let into = now().rem_euclid(30);
    if 30 - into < secs {
        tokio::time::sleep(Duration::from_secs((30 - into) as u64 + 1)).await;
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    json(app.send_as(Method::POST, path, token, Some(&body)).await).await
}

async fn enrol(app: &TestApp, email: &str) -> Enrolled {
    let user = app.register(email).await;
    enrol_user(app, user).await
}

async fn enrol_user(app: &TestApp, user: crate::helpers::TestUser) -> Enrolled {
    let (status, body) = post(
        app,
        &user.access_token,
        "/api/v1/users/me/two-factor",
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    let text = data["secret"].as_str().unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(text.as_bytes()).unwrap();
    assert_eq!(secret.len(), 20);
    let uri = data["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/FinAI%3A"), "{uri}");
    assert!(uri.contains(&format!("secret={text}")), "{uri}");
    assert!(data["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(data["digits"], 6);
    assert_eq!(data["period"], 30);

    steady_step(5).await;
    let confirmed_at = now();
    let (status, body) = post(
        app,
        &user.access_token,
        "/api/v1/users/me/two-factor/confirm",
        json!({"code": code(&secret, confirmed_at)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let recovery: Vec<String> = body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(body["data"]["status"]["enabled"], true);
    assert_eq!(body["data"]["status"]["recovery_codes_remaining"], 10);
    Enrolled {
        user,
        secret,
        recovery,
        confirmed_at,
    }
}

/// Logs in with the password: the challenge of the 202 answer.
async fn challenge(app: &TestApp, email: &str) -> String {
    let (status, body) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["status"], "mfa_required");
    assert!(body["data"].get("access_token").is_none());
    body["data"]["challenge"].as_str().unwrap().to_owned()
}

fn verify(
    app: &TestApp,
    challenge: &str,
    code: &str,
) -> impl std::future::Future<Output = reqwest::Response> {
    app.post_json(
        "/api/v1/auth/mfa/verify",
        &json!({"challenge": challenge, "code": code}),
    )
}

#[tokio::test]
async fn a_login_of_an_enrolled_account_needs_its_code() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let me = app.data(&enrolled.user, "/api/v1/users/me").await;
    assert_eq!(me["two_factor_enabled"], true);

    let first = challenge(&app, "ana@example.com").await;
    // The confirmation spent its step's code: it is not accepted again.
    let t = enrolled.confirmed_at;
    assert_error(
        verify(&app, &first, &code(&enrolled.secret, t)).await,
        401,
        "invalid_mfa_code",
    )
    .await;
    // The next step's code (a phone clock a little ahead) finishes the login.
    let (status, body) = json(verify(&app, &first, &code(&enrolled.secret, t + 30)).await).await;
    assert_eq!(status, 200, "{body}");
    let access = body["data"]["access_token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/users/me", access).await.status(), 200);
    // The challenge is spent.
    assert_error(
        verify(&app, &first, &code(&enrolled.secret, t + 60)).await,
        401,
        "mfa_challenge_invalid",
    )
    .await;
}

#[tokio::test]
async fn codes_count_one_step_either_side_and_never_twice() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (_, body) = post(
        &app,
        &user.access_token,
        "/api/v1/users/me/two-factor",
        json!({"password": PASSWORD}),
    )
    .await;
    let secret = data_encoding::BASE32_NOPAD
        .decode(body["data"]["secret"].as_str().unwrap().as_bytes())
        .unwrap();
    steady_step(10).await;
    let t = now();
    // Two steps off is too far, for the confirmation as for a login.
    for off in [-60, 60] {
        let (status, body) = post(
            &app,
            &user.access_token,
            "/api/v1/users/me/two-factor/confirm",
            json!({"code": code(&secret, t + off)}),
        )
        .await;
        assert_eq!(status, 422, "{off}: {body}");
    }
    // One step behind (a phone clock late) confirms.
    let (status, body) = post(
        &app,
        &user.access_token,
        "/api/v1/users/me/two-factor/confirm",
        json!({"code": code(&secret, t - 30)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Now's code works once; the step before it is older than the last used.
    let login = challenge(&app, "ana@example.com").await;
    let (status, _) = json(verify(&app, &login, &code(&secret, t)).await).await;
    assert_eq!(status, 200);
    let again = challenge(&app, "ana@example.com").await;
    for old in [t, t - 30, t + 60] {
        assert_error(
            verify(&app, &again, &code(&secret, old)).await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    // With spaces, as apps show it.
    let spaced = code(&secret, t + 30);
    let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
    let (status, body) = json(verify(&app, &again, &spaced).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn each_recovery_code_works_once_and_new_ones_retire_the_old() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let first = enrolled.recovery[0].to_uppercase();
    let login = challenge(&app, "ana@example.com").await;
    let (status, body) = json(verify(&app, &login, &first).await).await;
    assert_eq!(status, 200, "{body}");
    let login = challenge(&app, "ana@example.com").await;
    assert_error(verify(&app, &login, &first).await, 401, "invalid_mfa_code").await;
    let status = app
        .data(&enrolled.user, "/api/v1/users/me/two-factor")
        .await;
    assert_eq!(status["recovery_codes_remaining"], 9);

    // New codes (with a code), and the old ones stop working.
    let (status, body) = post(
        &app,
        &enrolled.user.access_token,
        "/api/v1/users/me/two-factor/recovery-codes",
        json!({"code": enrolled.recovery[1]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["data"]["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(body["data"]["status"]["recovery_codes_remaining"], 10);
    assert_error(
        verify(&app, &login, &enrolled.recovery[2]).await,
        401,
        "invalid_mfa_code",
    )
    .await;
    let (status, _) = json(verify(&app, &login, &fresh).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM audit_log WHERE action = 'recovery_code_used'"),
        3
    );
}

#[tokio::test]
async fn wrong_codes_count_toward_the_lockout() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let login = challenge(&app, "ana@example.com").await;
    // The login counted one attempt; the fourth wrong code reaches the threshold of five.
    for _ in 0..3 {
        assert_error(
            verify(&app, &login, "000000").await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    assert_error(verify(&app, &login, "000000").await, 429, "account_locked").await;
    // Locked: not even the right code, nor the password, gets in.
    assert_error(
        verify(&app, &login, &code(&enrolled.secret, now() + 30)).await,
        429,
        "account_locked",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
        )
        .await,
        429,
        "account_locked",
    )
    .await;
}

#[tokio::test]
async fn wrong_codes_to_turn_it_off_count_even_with_the_right_password() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let path = "/api/v1/users/me/two-factor/disable";
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let (status, _) = post(
            &app,
            &enrolled.user.access_token,
            path,
            json!({"password": PASSWORD, "code": "000000"}),
        )
        .await;
        statuses.push(status);
    }
    // A right password elsewhere (a password change) does not wipe the count either.
    let new_password = "An0ther!passWord";
    let (status, changed) = post(
        &app,
        &enrolled.user.access_token,
        "/api/v1/auth/password/change",
        json!({"current_password": PASSWORD, "new_password": new_password}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let token = changed["data"]["access_token"].as_str().unwrap().to_owned();
    let token = &token;
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            token,
            path,
            json!({"password": new_password, "code": "000000"}),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [422, 422, 422, 422, 429]);
    // Locked: the right code does not turn it off now.
    let (status, _) = post(
        &app,
        token,
        path,
        json!({"password": new_password, "code": enrolled.recovery[0]}),
    )
    .await;
    assert_eq!(status, 429);
    let (_, me) = json(app.get_as("/api/v1/users/me", token).await).await;
    assert_eq!(me["data"]["two_factor_enabled"], true);
}

#[tokio::test]
async fn a_login_half_way_ends_with_a_reset_or_logging_out_everywhere() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    // Logging out everywhere.
    let open = challenge(&app, "ana@example.com").await;
    let (status, _) = json(
        app.post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": enrolled.user.refresh_token, "all_devices": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let spent = verify(&app, &open, &enrolled.recovery[0]).await;
    assert_error(spent, 401, "mfa_challenge_invalid").await;
    // A password reset.
    let open = challenge(&app, "ana@example.com").await;
    app.reset_password("ana@example.com", "N3w!passWord").await;
    let spent = verify(&app, &open, &enrolled.recovery[1]).await;
    assert_error(spent, 401, "mfa_challenge_invalid").await;
    // The account's address was never proven: the reset took the second factor off whole (the
    // flag with the secret), so the new password logs in, never asking a code none can give.
    let (status, body) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": "N3w!passWord"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn turning_it_on_ends_the_sessions_opened_with_the_password_alone() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (status, other) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{other}");
    let other_refresh = other["data"]["refresh_token"].as_str().unwrap().to_owned();
    let enrolled = enrol_user(&app, user).await;
    let refresh =
        |token: String| app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}));
    assert_eq!(refresh(other_refresh).await.status(), 401);
    // The session that turned it on goes on.
    let (status, body) = json(refresh(enrolled.user.refresh_token.clone()).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_right_password_alone_does_not_reset_the_count() {
    let app = spawn_app().await;
    enrol(&app, "ana@example.com").await;
    // Logging in again and again (a stolen password) without a code keeps counting: five
    // unsettled attempts, then the lock.
    for _ in 0..5 {
        challenge(&app, "ana@example.com").await;
    }
    assert_error(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
        )
        .await,
        429,
        "account_locked",
    )
    .await;
}

#[tokio::test]
async fn bad_codes_and_challenges_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let login = challenge(&app, "ana@example.com").await;
    for bad in [
        "",
        "12345",
        "1234567",
        "12a456",
        "abcde-fghi",
        "１２３４５６",
        "00000-00000",
    ] {
        let response = verify(&app, &login, bad).await;
        assert_eq!(response.status(), 422, "{bad:?}");
    }
    // Malformed codes were not counted: four wrong codes still leave the account open.
    assert_eq!(
        app.scalar("SELECT coalesce(max(failed_count), 0)::bigint AS value FROM login_throttle"),
        1
    );
    assert_error(
        verify(&app, "no-such-challenge", "123456").await,
        401,
        "mfa_challenge_invalid",
    )
    .await;
    app.execute("UPDATE mfa_challenges SET expires_at = now() - interval '1 second'");
    assert_error(
        verify(&app, &login, &code(&enrolled.secret, now() + 30)).await,
        401,
        "mfa_challenge_invalid",
    )
    .await;
    // A challenge is no access token.
    assert_error(
        app.get_as("/api/v1/users/me", &login).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn enrolment_needs_the_password_and_a_session() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (status, body) = post(
        &app,
        &user.access_token,
        "/api/v1/users/me/two-factor",
        json!({"password": "Wr0ng!pass"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["password"].is_array(), "{body}");
    // Confirming before enrolling.
    let (status, body) = post(
        &app,
        &user.access_token,
        "/api/v1/users/me/two-factor/confirm",
        json!({"code": "123456"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("two_factor_not_started"))
    );
    // A personal access token cannot touch the second factor.
    let (_, token) = post(
        &app,
        &user.access_token,
        "/api/v1/users/me/tokens",
        json!({"name": "script", "scopes": ["read", "write"]}),
    )
    .await;
    let pat = token["data"]["token_secret"].as_str().unwrap();
    assert_error(
        app.send_as(
            Method::POST,
            "/api/v1/users/me/two-factor",
            pat,
            Some(&json!({"password": PASSWORD})),
        )
        .await,
        403,
        "session_required",
    )
    .await;
    // Still off, nothing pending.
    let status = app.data(&user, "/api/v1/users/me/two-factor").await;
    assert_eq!(status["enabled"], false);
    assert_eq!(status["pending"], false);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM totp_credentials"),
        0
    );
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let token = &enrolled.user.access_token;
    let path = "/api/v1/users/me/two-factor/disable";
    let (status, _) = post(
        &app,
        token,
        path,
        json!({"password": "Wr0ng!pass", "code": enrolled.recovery[0]}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = post(
        &app,
        token,
        path,
        json!({"password": PASSWORD, "code": "000000"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["code"].is_array(), "{body}");
    let (status, body) = post(
        &app,
        token,
        path,
        json!({"password": PASSWORD, "code": enrolled.recovery[0]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["enabled"], false);
    // A login gets its tokens at once again.
    let (status, _) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM recovery_codes"),
        0
    );
    let (status, body) = post(
        &app,
        token,
        path,
        json!({"password": PASSWORD, "code": "123456"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("two_factor_not_enabled"))
    );
}

#[tokio::test]
async fn an_admin_resets_it_and_the_log_says_who() {
    let app = spawn_app().await;
    let enrolled = enrol(&app, "ana@example.com").await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let path = format!("/api/v1/users/{}/two-factor", enrolled.user.id);
    // Not for a user.
    let other = app.register("bao@example.com").await;
    assert_error(
        app.send_as(Method::DELETE, &path, &other.access_token, None)
            .await,
        403,
        "forbidden",
    )
    .await;
    let (status, body) = json(
        app.send_as(Method::DELETE, &path, &admin.access_token, None)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let me = app.data(&enrolled.user, "/api/v1/users/me").await;
    assert_eq!(me["two_factor_enabled"], false);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM audit_log WHERE action = 'two_factor_reset' \
             AND user_id = '{}' AND actor_id = '{}'",
            enrolled.user.id, admin.id
        )),
        1
    );
    assert_error(
        app.send_as(Method::DELETE, &path, &admin.access_token, None)
            .await,
        409,
        "two_factor_not_enabled",
    )
    .await;
    let unknown = format!("/api/v1/users/{}/two-factor", uuid::Uuid::new_v4());
    assert_error(
        app.send_as(Method::DELETE, &unknown, &admin.access_token, None)
            .await,
        404,
        "not_found",
    )
    .await;
}
