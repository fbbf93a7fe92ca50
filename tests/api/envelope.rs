//! The wire conventions every route shares: error envelope, request ids, CORS, Swagger UI.

use reqwest::Method;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_answer_404_in_the_envelope() {
    let app = spawn_app().await;
    for path in ["/nope", "/api/v1/nope", "/api/v2/anything"] {
        assert_error(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn a_route_with_other_methods_answers_405_with_allow_and_head_is_a_get_without_body() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    for (method, path, allow) in [
        (Method::DELETE, "/health", "GET, HEAD, OPTIONS"),
        (Method::PUT, "/api/v1/wallets", "GET, HEAD, POST, OPTIONS"),
        (Method::GET, "/api/v1/auth/login", "POST, OPTIONS"),
        (Method::PUT, "/api/v1/%77allets", "GET, HEAD, POST, OPTIONS"),
        (
            Method::POST,
            "/api/v1/wallets/3f2b1c4d-0000-4000-8000-000000000000",
            "GET, HEAD, PATCH, DELETE, OPTIONS",
        ),
    ] {
        let response = app
            .request(method.clone(), path)
            .bearer_auth(&user.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_error(response, 405, "method_not_allowed").await;
    }
    // A method the path takes, with values that route nowhere: no such resource.
    let unrouted = app
        .get_as(
            "/api/v1/ledgers/null%2Cnull/transactions",
            &user.access_token,
        )
        .await;
    assert_error(unrouted, 404, "not_found").await;
    let options = app
        .request(Method::OPTIONS, "/api/v1/wallets")
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    assert_eq!(options.headers()["allow"], "GET, HEAD, POST, OPTIONS");

    let got = app.get_as("/api/v1/wallets", &user.access_token).await;
    let length = got.headers()["content-length"].clone();
    let head = app
        .request(Method::HEAD, "/api/v1/wallets")
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert_eq!(head.headers()["content-length"], length);
    assert!(head.bytes().await.unwrap().is_empty());
    assert_eq!(
        app.request(Method::HEAD, "/health")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let app = spawn_app().await;
    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let echoed = app
        .request(Method::GET, "/nope")
        .header("x-request-id", "client-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "client-42");
}

#[tokio::test]
async fn cors_preflight_allows_configured_origins_only() {
    let app = spawn_app_with(|settings| {
        settings.cors_allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/api/v1/openapi.json")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(allowed.headers().contains_key("x-request-id"));

    // An answer to the allowed origin lets its script read the headers a client needs.
    let answer = app
        .request(Method::GET, "/api/v1/openapi.json")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "location",
        "idempotent-replayed",
        "ratelimit-remaining",
        "content-disposition",
        "x-request-id",
    ] {
        assert!(exposed.contains(header), "{header} not in {exposed}");
    }

    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert_error(refused, 400, "bad_request").await;
}

#[tokio::test]
async fn swagger_ui_is_served_and_the_bare_path_redirects() {
    let app = spawn_app().await;
    let page = app.get("/swagger-ui/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));

    let redirect = app.get("/swagger-ui").await;
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/swagger-ui/");
}

#[tokio::test]
async fn body_errors_answer_in_the_envelope_and_store_nothing() {
    let app = spawn_app().await;
    let path = "/api/v1/auth/register";
    let malformed = app
        .post_raw(
            path,
            "application/json",
            br#"{"email": "a@b.co", "#.to_vec(),
        )
        .await;
    assert_error(malformed, 400, "malformed_json").await;

    let wrong_type = app.post_raw(path, "text/plain", b"hello".to_vec()).await;
    assert_error(wrong_type, 415, "unsupported_media_type").await;

    let too_large = app
        .post_raw(path, "application/json", vec![b' '; 2 * 1024 * 1024])
        .await;
    assert_error(too_large, 413, "payload_too_large").await;

    let invalid_utf8 = app
        .post_raw(
            path,
            "application/json",
            b"{\"email\": \"\xff\xfe\"}".to_vec(),
        )
        .await;
    assert_error(invalid_utf8, 400, "malformed_json").await;

    let wrong_field_type = app
        .post_json(
            path,
            &serde_json::json!({"email": 5, "password": "x", "name": "y"}),
        )
        .await;
    let body = assert_error(wrong_field_type, 422, "validation_failed").await;
    assert!(body["errors"]["email"][0]
        .as_str()
        .unwrap()
        .contains("invalid type"));

    let missing = app
        .post_json(path, &serde_json::json!({"email": "a@b.co"}))
        .await;
    let body = assert_error(missing, 422, "validation_failed").await;
    assert!(body["errors"]["password"].is_array());

    let unknown = app
        .post_json(
            path,
            &serde_json::json!({"email": "a@b.co", "password": "Str0ng!pass", "name": "A", "role": "admin"}),
        )
        .await;
    let body = assert_error(unknown, 422, "validation_failed").await;
    assert!(body["errors"]["role"].is_array());

    assert_eq!(app.scalar("SELECT count(*) AS value FROM users"), 0);
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_400() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let bad_path = app
        .get_as("/api/v1/users/not-a-uuid", &admin.access_token)
        .await;
    assert_error(bad_path, 400, "invalid_path_parameter").await;
    let bad_query = app
        .get_as("/api/v1/users?page=abc", &admin.access_token)
        .await;
    assert_error(bad_query, 400, "invalid_query").await;
}

#[tokio::test]
async fn values_the_database_cannot_store_are_422_not_500() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    for body in [
        serde_json::json!({"type": "expense", "amount": 1, "category_id": cafe, "wallet_id": cash, "description": "a\u{0}b"}),
        serde_json::json!({"type": "expense", "amount": 1, "category_id": cafe, "wallet_id": cash, "date": "-5000-01-01"}),
        serde_json::json!({"type": "expense", "amount": 1, "category_id": cafe, "wallet_id": cash, "date": "+20000-01-01"}),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/transactions",
                &user.access_token,
                Some(&body),
            )
            .await;
        let status = response.status().as_u16();
        assert!(status == 422 || status == 400, "{body}: {status}");
        assert_error(
            response,
            status,
            if status == 422 {
                "validation_failed"
            } else {
                "malformed_json"
            },
        )
        .await;
    }
    let far = app
        .get_as("/api/v1/transactions?from=-5000-01-01", &user.access_token)
        .await;
    assert!(far.status().is_client_error(), "{}", far.status());
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for response in [
        app.get("/health").await,
        app.get("/api/v1/no-such-route").await,
        app.get_as("/api/v1/wallets", &user.access_token).await,
    ] {
        assert_eq!(
            header(&response, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            header(&response, "x-frame-options").as_deref(),
            Some("DENY")
        );
        assert!(header(&response, "content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(header(&response, "cache-control"), None);
        assert_eq!(header(&response, "strict-transport-security"), None);
    }
    // Answers that carry tokens or the account are never cached, whatever their status.
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": "ana@example.com", "password": "Wrong!pass1"}),
        )
        .await;
    assert_eq!(login.status(), 401);
    assert_eq!(header(&login, "cache-control").as_deref(), Some("no-store"));
    let me = app.get_as("/api/v1/users/me", &user.access_token).await;
    assert_eq!(header(&me, "cache-control").as_deref(), Some("no-store"));
    // Swagger UI runs only its own scripts.
    let swagger = app.get("/swagger-ui/").await;
    assert_eq!(swagger.status(), 200);
    assert!(header(&swagger, "content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
}

#[tokio::test]
async fn hsts_is_sent_only_when_configured() {
    let app = spawn_app_with(|settings| settings.hsts_max_age = Some(31_536_000)).await;
    let response = app.get("/health").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}
