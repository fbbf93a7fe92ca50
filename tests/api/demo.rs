//! `finai seed-demo`: a year of data a client can log into at once.

use serde_json::json;

use crate::helpers::{json, spawn_app};

#[tokio::test]
async fn the_demo_account_has_a_year_of_usable_data() {
    let app = spawn_app().await;
    let hash = finai::auth::password::hash("Demo!pass1", 4).unwrap();
    let today = chrono::Utc::now().date_naive();
    let summary =
        finai::demo::seed(&mut app.db.connect(), "demo@finai.local", &hash, today).unwrap();
    assert!(summary.transactions > 300, "{}", summary.transactions);
    let again = finai::demo::seed(&mut app.db.connect(), "demo@finai.local", &hash, today);
    assert!(again.is_err(), "an existing account is never touched");

    let (status, session) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "demo@finai.local", "password": "Demo!pass1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let user = crate::helpers::TestUser {
        id: session["data"]["user"]["id"].as_str().unwrap().to_owned(),
        email: "demo@finai.local".into(),
        password: "Demo!pass1".into(),
        access_token: session["data"]["access_token"].as_str().unwrap().to_owned(),
        refresh_token: session["data"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let (_, list) = json(
        app.get_as("/api/v1/transactions?per_page=1", &user.access_token)
            .await,
    )
    .await;
    assert_eq!(list["meta"]["total_items"], summary.transactions as i64);
    assert_eq!(
        app.data(&user, "/api/v1/wallets")
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        app.data(&user, "/api/v1/budgets")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.data(&user, "/api/v1/bills")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.data(&user, "/api/v1/recurring")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let report = app.data(&user, "/api/v1/reports/summary?days=365").await;
    assert!(report["income"].as_f64().unwrap() > 40_000.0);
    assert!(report["transfer_volume"].as_f64().unwrap() > 0.0);
    let months = app
        .data(&user, "/api/v1/reports/trend?days=365&granularity=month")
        .await;
    assert!(months.as_array().unwrap().len() >= 12);
}
