use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn health_answers_while_the_process_runs() {
    let app = spawn_app().await;
    let (status, body) = json(app.get("/health").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["status"], "ok");
}

#[tokio::test]
async fn ready_reports_the_database_and_schema_version() {
    let app = spawn_app().await;
    let (status, body) = json(app.get("/ready").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["database"], "up");
    assert!(body["data"]["schema_version"].as_str().is_some());
    assert!(body["data"]["installation_id"].as_str().is_some());
}

#[tokio::test]
async fn ready_turns_503_when_the_database_is_gone_and_health_stays_200() {
    let app = spawn_app().await;
    assert_eq!(app.get("/ready").await.status(), 200);

    app.db.drop_now();

    let started = std::time::Instant::now();
    let response = app.get("/ready").await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    assert_error(response, 503, "database_unavailable").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a dead database must not hang the request"
    );
    assert_eq!(app.get("/health").await.status(), 200);
}
