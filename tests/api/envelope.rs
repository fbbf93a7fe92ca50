//! The wire conventions every route shares: error envelope, request ids, CORS, Swagger UI.

use reqwest::Method;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_answer_404_in_the_envelope() {
    let app = spawn_app().await;
    for path in ["/nope", "/api/v1/nope", "/api/v2/anything"] {
        assert_error(app.get(path).await, 404, "not_found").await;
    }
    let response = app.request(Method::DELETE, "/health").send().await.unwrap();
    assert_error(response, 404, "not_found").await;
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
