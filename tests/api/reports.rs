//! Reports on a small hand-computed data set: splits by share, transfers apart, empty buckets
//! present, another currency and another user never counted.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp, TestUser};

struct Data {
    user: TestUser,
    cash: String,
    bank: String,
    euros: String,
}

async fn data_set(app: &TestApp) -> Data {
    let user = app.register("ana@example.com").await;
    let mk_wallet = |name: &str, currency: &str, opening: i64| {
        app.send_as(Method::POST, "/api/v1/wallets", &user.access_token,
            Some(&json!({"name": name, "type": "bank", "currency": currency, "opening_balance": opening})))
    };
    let id = |v: Value| v["data"]["id"].as_str().unwrap().to_owned();
    let cash = id(mk_wallet("Cash", "USD", 100).await.json().await.unwrap());
    let bank = id(mk_wallet("Bank", "USD", 1000).await.json().await.unwrap());
    let euros = id(mk_wallet("Euros", "EUR", 0).await.json().await.unwrap());
    let salary = app.category_id(&user, "Salary").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let restaurants = app.category_id(&user, "Restaurants").await;
    for body in [
        json!({"type": "income", "amount": 1000, "date": "2026-03-01", "category_id": salary, "wallet_id": bank, "description": "Pay"}),
        json!({"type": "expense", "amount": 30, "date": "2026-03-02", "category_id": groceries, "wallet_id": cash, "description": "Market"}),
        json!({"type": "expense", "amount": 10.10, "date": "2026-03-02", "category_id": cafe, "wallet_id": cash, "description": "Coffee"}),
        json!({"type": "expense", "amount": 60, "date": "2026-03-05", "wallet_id": bank, "description": "Dinner and cake",
               "splits": [{"category_id": cafe, "amount": 20}, {"category_id": restaurants, "amount": 40}]}),
        json!({"type": "transfer", "amount": 50, "date": "2026-03-06", "wallet_id": bank, "to_wallet_id": cash}),
        json!({"type": "expense", "amount": 80, "date": "2026-02-20", "category_id": groceries, "wallet_id": cash, "description": "Earlier"}),
        json!({"type": "expense", "amount": 999, "date": "2026-03-03", "category_id": groceries, "wallet_id": euros, "description": "Euro"}),
    ] {
        app.create_transaction(&user, body).await;
    }
    let other = app.register("bob@example.com").await;
    let other_cash = app.create_wallet(&other, "Cash", "USD").await;
    let other_groceries = app.category_id(&other, "Groceries").await;
    app.create_transaction(
        &other,
        json!({"type": "expense", "amount": 500, "date": "2026-03-02",
        "category_id": other_groceries, "wallet_id": other_cash}),
    )
    .await;
    Data {
        user,
        cash,
        bank,
        euros,
    }
}

const RANGE: &str = "from=2026-03-01&to=2026-03-10";

#[tokio::test]
async fn the_summary_adds_up_exactly() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let s = app
        .data(&d.user, &format!("/api/v1/reports/summary?{RANGE}"))
        .await;
    assert_eq!(s["currency"], "USD");
    assert_eq!(s["income"], json!(1000));
    assert_eq!(s["expense"], json!(100.1));
    assert_eq!(s["net"], json!(899.9));
    assert_eq!(s["transfer_volume"], json!(50));
    assert_eq!(s["transaction_count"], 5);
    assert_eq!(s["average_daily_expense"], json!(10.01));
    assert_eq!(s["largest_expense"]["amount"], json!(60));
    let top: Vec<(String, Value, Value)> = s["top_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["amount"].clone(),
                c["share_pct"].clone(),
            )
        })
        .collect();
    assert_eq!(
        top,
        vec![
            ("Restaurants".into(), json!(40), json!(39.96)),
            ("Cafe".into(), json!(30.1), json!(30.07)),
            ("Groceries".into(), json!(30), json!(29.97)),
        ],
        "split shares apart; the shares add up to 100"
    );
    let previous = &s["compared_to_previous_period"];
    assert_eq!(previous["from"], "2026-02-19");
    assert_eq!(previous["to"], "2026-02-28");
    assert_eq!(previous["expense"], json!(80));
    assert_eq!(previous["expense_change_pct"], json!(25.13));
    assert_eq!(previous["income_change_pct"], Value::Null);

    let euros = app
        .data(
            &d.user,
            &format!("/api/v1/reports/summary?{RANGE}&currency=EUR"),
        )
        .await;
    assert_eq!(
        euros["expense"],
        json!(999),
        "one currency at a time, never added together"
    );
    let cash_only = app
        .data(
            &d.user,
            &format!("/api/v1/reports/summary?{RANGE}&wallet_id={}", d.cash),
        )
        .await;
    assert_eq!(cash_only["expense"], json!(40.1));
    assert_eq!(cash_only["transfer_volume"], json!(50));
    // One wallet's report is in its own currency; another currency for it is refused.
    let euro_wallet = app
        .data(
            &d.user,
            &format!("/api/v1/reports/summary?{RANGE}&wallet_id={}", d.euros),
        )
        .await;
    assert_eq!(euro_wallet["currency"], "EUR");
    assert_eq!(euro_wallet["expense"], json!(999));
    let mixed = app
        .get_as(
            &format!(
                "/api/v1/reports/summary?{RANGE}&wallet_id={}&currency=USD",
                d.euros
            ),
            &d.user.access_token,
        )
        .await;
    assert_error(mixed, 400, "invalid_query").await;
}

#[tokio::test]
async fn spending_by_category_rolls_up_to_the_top_level() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let top = app
        .data(
            &d.user,
            &format!("/api/v1/reports/spending-by-category?{RANGE}"),
        )
        .await;
    assert_eq!(
        top,
        json!([{"category_id": top[0]["category_id"], "name": "Food & Dining", "amount": 100.1,
        "share_pct": 100, "transaction_count": 3}])
    );
    let leaf = app
        .data(
            &d.user,
            &format!("/api/v1/reports/spending-by-category?{RANGE}&level=leaf"),
        )
        .await;
    let total: f64 = leaf
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["share_pct"].as_f64().unwrap())
        .sum();
    assert!((total - 100.0).abs() < 1e-9, "{total}");
    let empty = app
        .data(
            &d.user,
            "/api/v1/reports/spending-by-category?from=2025-01-01&to=2025-01-31",
        )
        .await;
    assert_eq!(empty, json!([]));
}

#[tokio::test]
async fn trends_have_every_bucket_including_empty_ones() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let days = app
        .data(
            &d.user,
            "/api/v1/reports/trend?from=2026-03-01&to=2026-03-03&granularity=day",
        )
        .await;
    assert_eq!(
        days,
        json!([
            {"period_start": "2026-03-01", "income": 1000, "expense": 0, "net": 1000},
            {"period_start": "2026-03-02", "income": 0, "expense": 40.1, "net": -40.1},
            {"period_start": "2026-03-03", "income": 0, "expense": 0, "net": 0},
        ])
    );
    let months = app
        .data(
            &d.user,
            "/api/v1/reports/trend?from=2026-01-01&to=2026-03-31&granularity=month",
        )
        .await;
    let expenses: Vec<Value> = months
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["expense"].clone())
        .collect();
    assert_eq!(expenses, vec![json!(0), json!(80), json!(100.1)]);
    let weeks = app
        .data(
            &d.user,
            "/api/v1/reports/trend?from=2026-03-02&to=2026-03-15&granularity=week",
        )
        .await;
    assert_eq!(weeks.as_array().unwrap().len(), 2, "ISO weeks from Monday");
    let mid_week = app
        .data(
            &d.user,
            "/api/v1/reports/trend?from=2026-03-04&to=2026-03-15&granularity=week",
        )
        .await;
    assert_eq!(
        mid_week[0]["period_start"], "2026-03-04",
        "the first bucket starts at from"
    );
    assert_eq!(mid_week[1]["period_start"], "2026-03-09");
    assert_eq!(
        mid_week[0]["expense"],
        json!(60),
        "only what falls inside the range"
    );
}

#[tokio::test]
async fn cash_flow_follows_each_wallet_from_opening_to_closing() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let flow = app
        .data(
            &d.user,
            "/api/v1/reports/cash-flow?from=2026-03-01&to=2026-03-31&granularity=month",
        )
        .await;
    let by_name = |name: &str| {
        flow.as_array()
            .unwrap()
            .iter()
            .find(|w| w["wallet_name"] == name)
            .unwrap()["periods"][0]
            .clone()
    };
    assert_eq!(
        by_name("Cash"),
        json!({"period_start": "2026-03-01", "period_end": "2026-03-31",
        "opening": 20, "inflow": 50, "outflow": 40.1, "closing": 29.9})
    );
    assert_eq!(
        by_name("Bank"),
        json!({"period_start": "2026-03-01", "period_end": "2026-03-31",
        "opening": 1000, "inflow": 1000, "outflow": 110, "closing": 1890})
    );
    assert_eq!(
        flow.as_array().unwrap().len(),
        2,
        "the EUR wallet is another report"
    );
    let wallet = app
        .data(&d.user, &format!("/api/v1/wallets/{}", d.bank))
        .await;
    assert_eq!(
        wallet["balance"],
        json!(1890),
        "closing matches the balance"
    );
}

#[tokio::test]
async fn expense_summary_and_stats_answer_from_the_same_figures() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let summary = app
        .data(&d.user, &format!("/api/v1/expenses/summary?{RANGE}"))
        .await;
    assert_eq!(summary["total"], json!(100.1));
    assert_eq!(summary["count"], 3);
    assert_eq!(summary["average_daily"], json!(10.01));
    assert_eq!(summary["by_day"].as_array().unwrap().len(), 10);
    assert_eq!(
        summary["by_day"][1],
        json!({"date": "2026-03-02", "amount": 40.1})
    );
    assert_eq!(summary["by_category"].as_array().unwrap().len(), 3);
    let stats = app
        .data(&d.user, &format!("/api/v1/expenses/stats?{RANGE}"))
        .await;
    assert_eq!(stats["count"], 3);
    assert_eq!(stats["total"], json!(100.1));
    assert_eq!(stats["mean"], json!(33.3667));
    assert_eq!(stats["median"], json!(30));
    assert_eq!(stats["max"], json!(60));
    assert_eq!(stats["min"], json!(10.1));
    assert_eq!(stats["std_dev"], json!(25.1198));
    let none = app
        .data(
            &d.user,
            "/api/v1/expenses/stats?from=2025-01-01&to=2025-01-02",
        )
        .await;
    assert_eq!(none["count"], 0);
    assert_eq!(none["median"], Value::Null);
    assert_eq!(none["std_dev"], Value::Null);
}

#[tokio::test]
async fn report_queries_are_checked() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    for bad in [
        "days=0",
        "days=5&from=2026-01-01",
        "from=2026-03-05&to=2026-03-01",
        "currency=usd",
        "granularity=year",
        "level=middle",
        "from=2000-01-01&to=2026-01-01",
    ] {
        let response = app
            .get_as(
                &format!("/api/v1/reports/trend?{bad}"),
                &d.user.access_token,
            )
            .await;
        assert_error(response, 400, "invalid_query").await;
    }
    let other = app.register("carol@example.com").await;
    let foreign = app
        .get_as(
            &format!("/api/v1/reports/summary?wallet_id={}", d.cash),
            &other.access_token,
        )
        .await;
    assert_error(foreign, 404, "not_found").await;
    let default = app.data(&d.user, "/api/v1/reports/summary").await;
    assert_eq!(
        default["to"].as_str().unwrap(),
        chrono::Utc::now().date_naive().to_string()
    );
}

#[tokio::test]
async fn budget_progress_charts_the_budgets_running_on_the_last_day() {
    let app = spawn_app().await;
    let d = data_set(&app).await;
    let food = app.category_id(&d.user, "Food & Dining").await;
    let cafe = app.category_id(&d.user, "Cafe").await;
    let create = |body: Value| {
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &d.user.access_token,
            Some(&body),
        )
    };
    // Food & Dining in March: groceries 30 + cafe 10.10 + the split's 20 + 40 = 100.10.
    assert_eq!(
        create(
            json!({"name": "Food", "amount": 125, "category_ids": [food],
            "period": "monthly", "start_date": "2026-01-01"})
        )
        .await
        .status(),
        201
    );
    // Cafe alone, over its limit: 10.10 + 20.
    assert_eq!(
        create(
            json!({"name": "Coffee", "amount": 25, "category_ids": [cafe],
            "period": "custom", "start_date": "2026-03-01", "end_date": "2026-03-31"})
        )
        .await
        .status(),
        201
    );
    // Over before the report's last day: not on the chart.
    assert_eq!(
        create(
            json!({"name": "February", "amount": 10, "category_ids": [cafe],
            "period": "custom", "start_date": "2026-02-01", "end_date": "2026-02-28"})
        )
        .await
        .status(),
        201
    );
    let lines = app
        .data(&d.user, &format!("/api/v1/reports/budget-progress?{RANGE}"))
        .await;
    let by_name: std::collections::BTreeMap<String, Value> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap().to_owned(), l.clone()))
        .collect();
    assert_eq!(by_name.len(), 2, "{lines}");
    assert_eq!(by_name["Food"]["spent"], json!(100.1));
    assert_eq!(by_name["Food"]["progress"], json!(80.08));
    assert_eq!(by_name["Food"]["state"], "warning");
    assert_eq!(by_name["Coffee"]["spent"], json!(30.1));
    assert_eq!(by_name["Coffee"]["progress"], json!(100));
    assert_eq!(by_name["Coffee"]["is_exceeded"], json!(true));
    assert_eq!(by_name["Coffee"]["state"], "exceeded");
}
