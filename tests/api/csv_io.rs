//! CSV import (duplicates, per-line report) and export (round trip).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

fn import(
    app: &TestApp,
    user: &TestUser,
    wallet: &str,
    csv: &str,
) -> impl std::future::Future<Output = reqwest::Response> + use<> {
    let request = app
        .request(
            Method::POST,
            &format!("/api/v1/transactions/import?wallet_id={wallet}"),
        )
        .bearer_auth(&user.access_token)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    async move { request.send().await.unwrap() }
}

const FILE: &str = "Date,Amount,Description,Category,Type,Notes\n\
2026-03-01,-3.50,Coffee,Cafe,,\n\
2026-03-01,-3.50,Coffee,Cafe,,second cup\n\
2026-03-02,2500,Salary,Salary,,\n\
2026-02-30,-1,Bad date,Cafe,,\n\
2026-03-03,-12,Mystery,Unicorns,,\n\
2026-03-04,abc,Bad amount,Cafe,,\n\
03/05/2026,45.10,Groceries run,Groceries,debit,\n";

#[tokio::test]
async fn importing_keeps_good_lines_reports_bad_ones_and_skips_duplicates() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;

    let (status, body) = json(import(&app, &user, &cash, FILE).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["created"], 4,
        "two identical coffees on one day are both kept"
    );
    assert_eq!(body["data"]["duplicates"], 0);
    let failed: Vec<u64> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![5, 6, 7]);
    assert!(body["data"]["failed"][1]["message"]
        .as_str()
        .unwrap()
        .contains("Unicorns"));

    let (status, again) = json(import(&app, &user, &cash, FILE).await).await;
    assert_eq!(status, 200);
    assert_eq!(again["data"]["created"], 0);
    assert_eq!(again["data"]["duplicates"], 4);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 4);
    let wallet = app.data(&user, &format!("/api/v1/wallets/{cash}")).await;
    assert_eq!(wallet["balance"], json!(2447.9));
    let groceries = app.data(&user, "/api/v1/transactions?q=groceries").await;
    assert_eq!(groceries[0]["type"], "expense");
    assert_eq!(groceries[0]["date"], "2026-03-05");
}

#[tokio::test]
async fn a_file_without_required_columns_or_of_another_type_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let body = assert_error(
        import(&app, &user, &cash, "date,description\n2026-01-01,x\n").await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["file"][0]
        .as_str()
        .unwrap()
        .contains("amount"));
    let wrong = app
        .request(
            Method::POST,
            &format!("/api/v1/transactions/import?wallet_id={cash}"),
        )
        .bearer_auth(&user.access_token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 415, "unsupported_media_type").await;
    let other = app.register("bob@example.com").await;
    assert_error(import(&app, &other, &cash, FILE).await, 404, "not_found").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
}

#[tokio::test]
async fn an_export_imports_back_to_the_same_rows() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let salary = app.category_id(&user, "Salary").await;
    for (t, amount, category, description, notes) in [
        (
            "expense",
            json!(3.25),
            &cafe,
            "Latte, oat milk",
            json!("with \"extra\" foam"),
        ),
        (
            "expense",
            json!(3.25),
            &cafe,
            "Latte, oat milk",
            json!(null),
        ),
        ("income", json!(1200), &salary, "March pay", json!(null)),
    ] {
        app.create_transaction(
            &user,
            json!({"type": t, "amount": amount, "category_id": category, "wallet_id": cash,
            "description": description, "notes": notes, "date": "2026-03-10", "tags": ["a", "b"]}),
        )
        .await;
    }
    let response = app
        .get_as(
            &format!("/api/v1/transactions/export?wallet_id={cash}"),
            &user.access_token,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with(
        "date,type,amount,currency,description,category,merchant,notes,wallet,to_wallet,tags\n"
    ));

    let copy = app.create_wallet(&user, "Copy", "USD").await;
    let (status, body) = json(import(&app, &user, &copy, &csv).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["created"], 3, "{body}");
    let strip = |rows: serde_json::Value| -> Vec<serde_json::Value> {
        let mut rows: Vec<serde_json::Value> = rows.as_array().unwrap().iter().map(|r| json!({
            "type": r["type"], "amount": r["amount"], "date": r["date"], "description": r["description"],
            "category_id": r["category_id"], "notes": r["notes"], "tags": r["tags"], "currency": r["currency"]})).collect();
        rows.sort_by_key(|r| r.to_string());
        rows
    };
    let original = strip(
        app.data(&user, &format!("/api/v1/transactions?wallet_id={cash}"))
            .await,
    );
    let imported = strip(
        app.data(&user, &format!("/api/v1/transactions?wallet_id={copy}"))
            .await,
    );
    assert_eq!(original, imported);
}

#[tokio::test]
async fn lines_with_unstorable_values_fail_alone() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let csv = "date,amount,description,category\n-5000-01-01,-1,Old,Cafe\n2026-03-01,-1,Nul\u{0}here,Cafe\n2026-03-01,\"-12,50\",Comma,Cafe\n2026-03-01,\"-1,250.50\",Thousands,Cafe\n";
    let (status, body) = json(import(&app, &user, &cash, csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 1);
    let failed: Vec<u64> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![2, 3, 4]);
    assert_eq!(
        app.data(&user, "/api/v1/transactions").await[0]["amount"],
        json!(1250.5)
    );
}
