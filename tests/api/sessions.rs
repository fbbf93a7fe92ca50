//! Login sessions: listed with their client, the caller's own marked, ended one at a time.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app, PASSWORD};

#[tokio::test]
async fn sessions_are_listed_with_their_client_and_one_can_be_ended() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let login = |agent: &'static str| {
        let request = app
            .request(Method::POST, "/api/v1/auth/login")
            .header("user-agent", agent)
            .json(&json!({"email": "ana@example.com", "password": PASSWORD}))
            .send();
        async move {
            let (status, body) = json(request.await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["data"].clone()
        }
    };
    let phone = login(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
         (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    )
    .await;
    let laptop =
        login("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0").await;
    let laptop_token = laptop["access_token"].as_str().unwrap().to_owned();

    let (status, listed) = json(
        app.send_as(
            Method::GET,
            "/api/v1/users/me/sessions",
            &laptop_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let sessions = listed["data"].as_array().unwrap();
    // Registration's session, the phone's and the laptop's.
    assert_eq!(sessions.len(), 3, "{listed}");
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Firefox on Linux");
    assert_eq!(current[0]["ip"], "127.0.0.1");
    let iphone = sessions
        .iter()
        .find(|s| s["device"] == "Safari on iPhone")
        .unwrap_or_else(|| panic!("{listed}"));

    // Ending the phone's session stops its refreshes and its access token at once; the
    // laptop's session goes on.
    let phone_token = phone["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_as("/api/v1/users/me", &phone_token).await.status(),
        200
    );
    let id = iphone["id"].as_str().unwrap();
    let ended = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/sessions/{id}"),
            &laptop_token,
            None,
        )
        .await;
    assert_eq!(ended.status(), 200);
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status(), 401);
    assert_error(
        app.get_as("/api/v1/users/me", &phone_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.get_as("/api/v1/users/me", &laptop_token).await.status(),
        200
    );
    let again = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/sessions/{id}"),
            &laptop_token,
            None,
        )
        .await;
    assert_error(again, 404, "not_found").await;

    // Another user's session is not found, and theirs stay.
    let bob = app.register("bob@example.com").await;
    let bobs = app.data(&bob, "/api/v1/users/me/sessions").await;
    let bobs_id = bobs[0]["id"].as_str().unwrap();
    let foreign = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/sessions/{bobs_id}"),
            &user.access_token,
            None,
        )
        .await;
    assert_error(foreign, 404, "not_found").await;
    assert_eq!(
        app.data(&bob, "/api/v1/users/me/sessions")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let remaining = app.data(&user, "/api/v1/users/me/sessions").await;
    assert_eq!(remaining.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_personal_access_token_can_neither_see_nor_end_sessions() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (_, token) = json(
        app.send_as(
            Method::POST,
            "/api/v1/users/me/tokens",
            &user.access_token,
            Some(&json!({"name": "script", "scopes": ["read", "write"]})),
        )
        .await,
    )
    .await;
    let script = token["data"]["token_secret"].as_str().unwrap();
    assert_error(
        app.get_as("/api/v1/users/me/sessions", script).await,
        403,
        "session_required",
    )
    .await;
    let sessions = app.data(&user, "/api/v1/users/me/sessions").await;
    let id = sessions[0]["id"].as_str().unwrap();
    // A leaked token cannot sign its owner out.
    assert_error(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/sessions/{id}"),
            script,
            None,
        )
        .await,
        403,
        "session_required",
    )
    .await;
    let (status, _) = json(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}
