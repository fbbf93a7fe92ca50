//! Predictions through the HTTP API: forecasts (with `as_of` backtests and stored history with
//! actuals), training reports, category suggestions that learn from the user's choices,
//! auto-categorisation on create and import, unusual spending, insights and recommendations.

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

/// `amount` in `category` on the 10th of each month from `from` (YYYY-MM-DD) for `months`,
/// straight in SQL (fast, and dated in the past).
fn monthly_expenses(
    app: &TestApp,
    user: &TestUser,
    wallet: &str,
    category: &str,
    from: &str,
    months: i32,
    amount: &str,
) {
    app.execute(&format!(
        "INSERT INTO transactions (ledger_id, type, amount, currency, date, description, category_id, wallet_id) \
         SELECT '{}', 'expense', {amount}, 'USD', (date '{from}' + make_interval(months => m))::date + 9, \
                'Generated', '{category}', '{wallet}' \
         FROM generate_series(0, {}) AS m",
        user.id,
        months - 1
    ));
}

async fn predict(app: &TestApp, user: &TestUser, body: Value) -> (u16, Value) {
    json(
        app.send_as(
            Method::POST,
            "/api/v1/predictions/predict",
            &user.access_token,
            Some(&body),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn forecasts_use_only_the_past_and_history_shows_actuals() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let cafe = app.category_id(&user, "Cafe").await;
    monthly_expenses(&app, &user, &wallet, &groceries, "2024-01-01", 24, "100");
    monthly_expenses(&app, &user, &wallet, &cafe, "2024-01-01", 24, "20.50");

    let (status, body) = predict(
        &app,
        &user,
        json!({"period": "month", "horizon": 2, "as_of": "2025-06-10"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let points = body["data"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["period_start"], "2025-06-01");
    assert_eq!(points[0]["period_end"], "2025-06-30");
    assert_eq!(points[1]["period_start"], "2025-07-01");
    // A flat series: every member of the combination is exact, so it is, with no error band.
    assert_eq!(points[0]["amount"], json!(120.5));
    assert_eq!(points[0]["lower"], json!(120.5));
    assert_eq!(points[0]["upper"], json!(120.5));
    assert_eq!(points[0]["method"], "combination");
    assert_eq!(points[0]["confidence"], "high");

    // A spike after `as_of` changes nothing about a forecast made as of before it.
    app.execute(&format!(
        "INSERT INTO transactions (ledger_id, type, amount, currency, date, description, category_id, wallet_id) \
         VALUES ('{}', 'expense', 5000, 'USD', '2025-07-02', 'Spike', '{groceries}', '{wallet}')",
        user.id
    ));
    let (_, again) = predict(
        &app,
        &user,
        json!({"period": "month", "horizon": 2, "as_of": "2025-06-10"}),
    )
    .await;
    assert_eq!(again["data"], body["data"]);

    // One category (with its sub-categories: Food & Dining holds both).
    let food = app.category_id(&user, "Food & Dining").await;
    let (_, by_category) = predict(
        &app,
        &user,
        json!({"category_id": cafe, "as_of": "2025-03-01"}),
    )
    .await;
    assert_eq!(by_category["data"][0]["amount"], json!(20.5));
    let (_, parent) = predict(
        &app,
        &user,
        json!({"category_id": food, "as_of": "2025-03-01"}),
    )
    .await;
    assert_eq!(parent["data"][0]["amount"], json!(120.5));

    // Stored, newest first, with what actually happened once the period is over.
    let history = app
        .data(&user, "/api/v1/predictions/history?per_page=10")
        .await;
    let rows = history.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let july = rows
        .iter()
        .find(|r| r["period_start"] == "2025-07-01" && r["category_id"].is_null())
        .unwrap();
    assert_eq!(july["amount"], json!(120.5));
    assert_eq!(july["actual"], json!(5120.5));
    assert_eq!(july["error"], json!(5000));
    assert_eq!(july["within_interval"], false);
    let cafe_row = rows
        .iter()
        .find(|r| r["category_id"] == json!(cafe))
        .unwrap();
    assert_eq!(cafe_row["category_name"], "Cafe");
    assert_eq!(cafe_row["actual"], json!(20.5));

    // Another user sees none of it, and cannot forecast with this user's category.
    let other = app.register("bob@example.com").await;
    assert_eq!(
        app.data(&other, "/api/v1/predictions/history").await,
        json!([])
    );
    let (status, _) = predict(&app, &other, json!({"category_id": cafe})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn short_histories_and_bad_requests() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    monthly_expenses(&app, &user, &wallet, &groceries, "2025-01-01", 2, "100");
    app.execute(&format!(
        "UPDATE transactions SET amount = 300 WHERE ledger_id = '{}' AND date = '2025-02-10'",
        user.id
    ));
    let (status, body) = predict(&app, &user, json!({"as_of": "2025-03-15"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["method"], "insufficient_history");
    assert_eq!(body["data"][0]["amount"], json!(200));
    assert_eq!(body["data"][0]["confidence"], "low");

    for bad in [
        json!({"horizon": 0}),
        json!({"horizon": 13}),
        json!({"period": "year"}),
        json!({"as_of": "2999-01-01"}),
        json!({"surprise": true}),
    ] {
        let (status, body) = predict(&app, &user, bad.clone()).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
    }
    // A week forecast starts on the Monday of `as_of`'s week.
    let (_, weeks) = predict(
        &app,
        &user,
        json!({"period": "week", "horizon": 3, "as_of": "2025-03-13"}),
    )
    .await;
    assert_eq!(weeks["data"][0]["period_start"], "2025-03-10");
    assert_eq!(weeks["data"][2]["period_end"], "2025-03-30");
}

#[tokio::test]
async fn a_change_of_currency_is_not_served_from_the_old_models() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let start = Utc::now().date_naive().with_day(1).unwrap() - chrono::Months::new(6);
    monthly_expenses(
        &app,
        &user,
        &wallet,
        &groceries,
        &start.to_string(),
        6,
        "100",
    );
    let (status, body) = predict(&app, &user, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["amount"], json!(100));

    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"settings": {"currency": "EUR"}})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // No EUR wallet has spent anything: the stored USD models must not answer for EUR.
    let (status, body) = predict(&app, &user, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["amount"], json!(0));
}

#[tokio::test]
async fn training_reports_each_series_against_the_baselines() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    // Three years up to last month: every candidate can take part.
    let today = Utc::now().date_naive();
    let start = today.with_day(1).unwrap() - chrono::Months::new(36);
    monthly_expenses(
        &app,
        &user,
        &wallet,
        &groceries,
        &start.to_string(),
        36,
        "100 + (m % 12) * 10",
    );

    let response = app
        .send_as(
            Method::POST,
            "/api/v1/predictions/train",
            &user.access_token,
            None,
        )
        .await;
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    let series = body["data"]["series"].as_array().unwrap();
    let total = series
        .iter()
        .find(|s| s["period"] == "month" && s["category_id"].is_null())
        .unwrap();
    let methods: Vec<&str> = total["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    for method in [
        "last_period",
        "trailing_mean",
        "trailing_median",
        "seasonal_naive",
        "damped_trend",
        "ridge",
        "random_forest",
        "combination",
    ] {
        assert!(
            methods.contains(&method),
            "{method} missing from {methods:?}"
        );
    }
    // A pure yearly pattern: same month last year is exact, every other member far behind it,
    // so the combination is the seasonal naive alone.
    assert_eq!(total["method"], "combination");
    assert_eq!(total["mae"], json!(0));
    assert_eq!(total["history_periods"], 36);
    assert!(series
        .iter()
        .any(|s| s["category_id"] == json!(groceries) && s["period"] == "week"));
    assert_eq!(body["data"]["categorizer"]["source"], "personal");
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM ml_models WHERE ledger_id = '{}'",
            user.id
        )),
        2
    );
    // The stored model answers today's forecast: next month repeats last year's.
    let (_, forecast) = predict(&app, &user, json!({})).await;
    // Month 36 of the pattern is its month 0 again (100 + 0 × 10).
    assert_eq!(forecast["data"][0]["amount"], json!(100));
    assert_eq!(forecast["data"][0]["method"], "combination");
}

async fn categorize(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/predictions/categorize",
            &user.access_token,
            Some(&body),
        )
        .await;
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn suggestions_start_from_defaults_and_learn_from_choices() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let restaurants = app.category_id(&user, "Restaurants").await;

    // A new user: category names and common merchant words.
    let first = categorize(
        &app,
        &user,
        json!({"description": "STARBUCKS #1234 SEATTLE", "amount": 5.4}),
    )
    .await;
    assert_eq!(first["model"], "default");
    assert_eq!(first["suggestions"][0]["category_id"], json!(cafe));
    let suggestions = first["suggestions"].as_array().unwrap();
    assert!(suggestions.len() <= 3);
    let sum: f64 = suggestions
        .iter()
        .map(|s| s["probability"].as_f64().unwrap())
        .sum();
    assert!(sum <= 1.0 + 1e-9);

    // The client uses the suggestion but picks Restaurants: the log keeps the final choice.
    let created = app
        .create_transaction(
            &user,
            json!({
                "type": "expense", "amount": 12, "wallet_id": wallet, "category_id": restaurants,
                "description": "STARBUCKS #1234 SEATTLE", "suggestion_id": first["suggestion_id"],
            }),
        )
        .await;
    let logged = app.scalar(&format!(
        "SELECT count(*) AS value FROM category_suggestions WHERE id = '{}' AND final_category_id = '{restaurants}' \
         AND transaction_id = '{}'",
        first["suggestion_id"].as_str().unwrap(), created["id"].as_str().unwrap()
    ));
    assert_eq!(logged, 1);
    // The next suggestion for that payee follows the user's choice.
    let next = categorize(
        &app,
        &user,
        json!({"description": "Starbucks 5678 Seattle"}),
    )
    .await;
    assert_eq!(next["model"], "personal");
    assert_eq!(next["suggestions"][0]["category_id"], json!(restaurants));

    // Suggestions can be narrowed to income categories.
    let income = categorize(
        &app,
        &user,
        json!({"description": "ACME payroll", "type": "income"}),
    )
    .await;
    assert_eq!(income["suggestions"][0]["name"], "Salary");

    // Another user's habits are not shared.
    let other = app.register("bob@example.com").await;
    let theirs = categorize(
        &app,
        &other,
        json!({"description": "Starbucks 5678 Seattle"}),
    )
    .await;
    assert_ne!(theirs["suggestions"][0]["category_id"], json!(restaurants));

    // Nothing to read: refused.
    for description in ["", "   "] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/predictions/categorize",
                &user.access_token,
                Some(&json!({"description": description})),
            )
            .await;
        assert_error(response, 422, "validation_failed").await;
    }
}

#[tokio::test]
async fn auto_categorize_applies_confident_suggestions_and_user_changes_win() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let groceries = app.category_id(&user, "Groceries").await;
    for _ in 0..3 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 4, "wallet_id": wallet,
            "category_id": cafe, "merchant": "Highlands Coffee", "description": "latte"}),
        )
        .await;
    }
    let auto = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 4.5, "wallet_id": wallet,
        "merchant": "Highlands Coffee", "description": "latte", "auto_categorize": true}),
        )
        .await;
    assert_eq!(auto["category_id"], json!(cafe));
    assert_eq!(auto["category_source"], "ml");
    assert!(auto["category_confidence"].as_f64().unwrap() >= 0.6);

    // Nothing confident: 422, and nothing stored.
    let before = app.scalar(&format!(
        "SELECT count(*) AS value FROM transactions WHERE ledger_id = '{}'",
        user.id
    ));
    let response = app.send_as(Method::POST, "/api/v1/transactions", &user.access_token, Some(&json!({
        "type": "expense", "amount": 9, "wallet_id": wallet, "description": "qzxv", "auto_categorize": true})))
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(
        body["errors"]["category_id"]
            .to_string()
            .contains("confident"),
        "{body}"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM transactions WHERE ledger_id = '{}'",
            user.id
        )),
        before
    );

    // The user re-categorises: the category becomes theirs and the log records the choice.
    let id = auto["id"].as_str().unwrap();
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{id}"),
            &user.access_token,
            Some(&json!({"category_id": groceries})),
        )
        .await;
    let (status, patched) = json(response).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["data"]["category_source"], "user");
    assert!(patched["data"]["category_confidence"].is_null());
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM category_suggestions WHERE transaction_id = '{id}' \
         AND applied_category_id = '{cafe}' AND final_category_id = '{groceries}'"
        )),
        1
    );
    // A later edit of something else leaves the user's category alone.
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{id}"),
            &user.access_token,
            Some(&json!({"notes": "oat milk"})),
        )
        .await;
    let (_, kept) = json(response).await;
    assert_eq!(kept["data"]["category_id"], json!(groceries));
    assert_eq!(kept["data"]["category_source"], "user");
}

#[tokio::test]
async fn csv_import_fills_missing_categories_from_suggestions() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    for _ in 0..3 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 4, "wallet_id": wallet,
            "category_id": cafe, "description": "Highlands Coffee"}),
        )
        .await;
    }
    let csv = "Date,Amount,Description,Category\n2026-03-01,-4.20,Highlands Coffee,\n2026-03-02,-9,qzxv,\n";
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/transactions/import?wallet_id={wallet}"),
        )
        .bearer_auth(&user.access_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 1);
    assert_eq!(body["data"]["categorized"][0]["line"], 2);
    assert_eq!(body["data"]["categorized"][0]["name"], "Cafe");
    assert_eq!(body["data"]["failed"][0]["line"], 3);
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS value FROM transactions WHERE ledger_id = '{}' AND category_source = 'ml'", user.id)),
        1
    );
}

#[tokio::test]
async fn unusual_spending_is_flagged_and_notified_once() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    for (i, amount) in [48, 52, 50, 47, 55, 51, 49, 53].iter().enumerate() {
        let normal = app.create_transaction(&user, json!({"type": "expense", "amount": amount, "wallet_id": wallet,
            "category_id": groceries, "description": "Market", "date": format!("2026-0{}-0{}", 1 + i % 8, 1 + i % 9)})).await;
        assert_eq!(normal["is_unusual"], false);
    }
    let big = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 900, "wallet_id": wallet,
        "category_id": groceries, "description": "Market", "date": "2026-09-01"}),
        )
        .await;
    assert_eq!(big["is_unusual"], true);
    assert!(
        big["unusual_reason"]
            .as_str()
            .unwrap()
            .contains("Groceries"),
        "{big}"
    );
    let count = || {
        app.scalar(&format!(
        "SELECT count(*) AS value FROM notifications WHERE ledger_id = '{}' AND type = 'unusual_spending'", user.id))
    };
    assert_eq!(count(), 1);
    let notifications = app.data(&user, "/api/v1/notifications").await;
    assert_eq!(notifications[0]["data"]["transaction_id"], big["id"]);
    // Editing it does not notify again; a normal amount is never flagged.
    let id = big["id"].as_str().unwrap();
    app.send_as(
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        &user.access_token,
        Some(&json!({"notes": "party"})),
    )
    .await;
    let normal = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 60, "wallet_id": wallet,
        "category_id": groceries, "description": "Market", "date": "2026-09-02"}),
        )
        .await;
    assert_eq!(normal["is_unusual"], false);
    assert_eq!(count(), 1);
}

/// A burst of payments to one merchant in a day flags every payment from the third on, but
/// announces the day once: one notification, naming the first unusual payment.
#[tokio::test]
async fn a_burst_of_payments_is_flagged_each_time_and_notified_once_a_day() {
    let app = spawn_app().await;
    let user = app.register("burst@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let pay = |day: String, amount: f64| {
        let (app, user, wallet, cafe) = (&app, &user, wallet.clone(), cafe.clone());
        async move {
            app.create_transaction(
                user,
                json!({"type": "expense", "amount": amount, "wallet_id": wallet,
                       "category_id": cafe, "merchant": "Bean There", "description": "Coffee",
                       "date": day}),
            )
            .await
        }
    };
    for day in 1..=6 {
        let paid = pay(format!("2026-05-0{day}"), 3.5).await;
        assert_eq!(paid["is_unusual"], false, "{paid}");
    }
    let mut flagged = Vec::new();
    for i in 0..5 {
        let paid = pay("2026-05-10".into(), 3.0 + f64::from(i)).await;
        flagged.push((paid["is_unusual"].clone(), paid["id"].clone()));
    }
    let unusual: Vec<bool> = flagged.iter().map(|(u, _)| u == &json!(true)).collect();
    assert_eq!(unusual, [false, false, true, true, true]);
    let notices = || {
        app.scalar(&format!(
            "SELECT count(*) AS value FROM notifications WHERE ledger_id = '{}' \
             AND type = 'unusual_spending'",
            user.id
        ))
    };
    assert_eq!(notices(), 1);
    let list = app.data(&user, "/api/v1/notifications").await;
    assert_eq!(list[0]["data"]["transaction_id"], flagged[2].1);
    // Another merchant's burst that day is another notice.
    for i in 0..3 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 4 + i, "wallet_id": wallet, "category_id": cafe,
                   "merchant": "Pho 24", "description": "Soup", "date": "2026-05-10"}),
        )
        .await;
    }
    assert_eq!(notices(), 2);
}

#[tokio::test]
async fn insights_find_changes_recurring_payments_and_recommend_budgets() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let subscriptions = app.category_id(&user, "Subscriptions").await;
    let groceries = app.category_id(&user, "Groceries").await;
    // As of the 10th of last month, so the pace warning below has a month left to cross, and
    // what was recorded after that day (below) must stay out of every answer.
    let this_month = Utc::now().date_naive().with_day(1).unwrap() - chrono::Months::new(1);
    let today = this_month + chrono::Days::new(9);
    let at = format!("at={today}");
    for back in 1..=6u32 {
        let month = this_month - chrono::Months::new(back);
        app.create_transaction(&user, json!({"type": "expense", "amount": 15.99, "wallet_id": wallet,
            "category_id": subscriptions, "merchant": "Netflix", "date": (month + chrono::Days::new(4)).to_string()})).await;
        // Groceries: 200 a month, 300 last month.
        let amount = if back == 1 { 300 } else { 200 };
        app.create_transaction(&user, json!({"type": "expense", "amount": amount, "wallet_id": wallet,
            "category_id": groceries, "description": format!("Market {back}"), "date": (month + chrono::Days::new(9)).to_string()})).await;
    }
    // Later than `at`: another Netflix payment and more groceries.
    let later = (this_month + chrono::Days::new(20)).to_string();
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 15.99, "wallet_id": wallet,
        "category_id": subscriptions, "merchant": "Netflix", "date": later}),
    )
    .await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 5, "wallet_id": wallet,
        "category_id": groceries, "description": "Later", "date": later}),
    )
    .await;
    let insights = app
        .data(&user, &format!("/api/v1/insights/spending?{at}"))
        .await;
    let movers = insights["biggest_movers"].as_array().unwrap();
    assert_eq!(movers[0]["name"], "Groceries");
    assert_eq!(movers[0]["previous"], json!(200));
    assert_eq!(movers[0]["current"], json!(300));
    assert_eq!(movers[0]["change_pct"], json!(50));
    let recurring = insights["recurring"].as_array().unwrap();
    assert_eq!(recurring.len(), 1, "{recurring:?}");
    assert_eq!(recurring[0]["payee"], "Netflix");
    assert_eq!(recurring[0]["cadence"], "monthly");
    assert_eq!(recurring[0]["typical_amount"], json!(15.99));
    assert_eq!(recurring[0]["occurrences"], json!(6));
    let last_netflix = this_month - chrono::Months::new(1) + chrono::Days::new(4);
    assert_eq!(recurring[0]["last_date"], json!(last_netflix.to_string()));
    let next_netflix = this_month + chrono::Days::new(4);
    assert_eq!(
        recurring[0]["next_expected"],
        json!(next_netflix.to_string())
    );
    assert!(insights["seasonality"].is_null());
    // Last three months: 3 × 15.99 fixed of 3 × 15.99 + 700.
    assert_eq!(insights["fixed_share_pct"], json!(6.41));

    let monthly_budget = |name: &str, amount: i64, category: &str, start: chrono::NaiveDate| {
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(&json!({"name": name, "amount": amount, "period": "monthly",
                         "category_ids": [category], "start_date": start.to_string()})),
        )
    };
    let year_ago = this_month - chrono::Months::new(12);
    // Budget suggestions from six months; a budget far above spending is flagged.
    let response = monthly_budget("Streaming", 100, &subscriptions, year_ago).await;
    assert_eq!(response.status(), 201);
    // A budget below every recent month is always exceeded.
    let response = monthly_budget("Treats", 100, &groceries, year_ago).await;
    assert_eq!(response.status(), 201);
    // Spending 99 % of a budget on the 10th crosses it at this pace.
    let response = monthly_budget("Food", 1000, &groceries, this_month).await;
    assert_eq!(response.status(), 201);
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 990, "wallet_id": wallet,
        "category_id": groceries, "description": "Feast", "date": today.to_string()}),
    )
    .await;
    let advice = app
        .data(&user, &format!("/api/v1/insights/recommendations?{at}"))
        .await;
    let groceries_budget = advice["budget_suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Groceries")
        .unwrap()
        .clone();
    assert_eq!(groceries_budget["suggested_amount"], json!(200));
    assert_eq!(groceries_budget["has_budget"], json!(true));
    let reviews = advice["budget_reviews"].as_array().unwrap();
    let review = |name: &str| {
        reviews
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no review of {name}: {reviews:?}"))
            .clone()
    };
    assert_eq!(review("Streaming")["finding"], "rarely_half_used");
    assert_eq!(review("Streaming")["suggested_amount"], json!(16));
    // The last three months spent 200, 200, 300: the 75th percentile is 250.
    assert_eq!(review("Treats")["finding"], "always_exceeded");
    assert_eq!(review("Treats")["recent_spent"], json!([200, 200, 300]));
    assert_eq!(review("Treats")["suggested_amount"], json!(250));
    let warning = &advice["pace_warnings"][0];
    assert_eq!(warning["name"], "Food");
    assert!(warning["message"]
        .as_str()
        .unwrap()
        .starts_with("At this pace you exceed Food"));
    // Spent by `at`, not the later 5.
    assert_eq!(warning["spent"], json!(990));
    for path in ["spending", "recommendations"] {
        let tomorrow = Utc::now().date_naive() + chrono::Days::new(1);
        let response = app
            .get_as(
                &format!("/api/v1/insights/{path}?at={tomorrow}"),
                &user.access_token,
            )
            .await;
        assert_error(response, 422, "validation_failed").await;
    }
    let other = app.register("bob@example.com").await;
    let theirs = app.data(&other, "/api/v1/insights/spending").await;
    assert_eq!(theirs["recurring"], json!([]));
    let response = app
        .get_as("/api/v1/insights/spending?currency=usd", &user.access_token)
        .await;
    assert_error(response, 400, "invalid_query").await;
}

#[tokio::test]
async fn the_background_job_retrains_stale_models_and_leaves_current_ones() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    for month in 1..=6 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 40 + month, "wallet_id": wallet,
            "category_id": cafe, "description": "Coffee", "date": format!("2026-0{month}-10")}),
        )
        .await;
    }
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/predictions/train",
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let versions = || {
        app.scalar(&format!(
            "SELECT sum(data_version)::bigint AS value FROM ml_models WHERE ledger_id = '{}'",
            user.id
        ))
    };
    let trained = versions();
    // Current models: nothing to do.
    assert_eq!(app.run_jobs().retrained, 0);
    // New data, but the models are fresh: they wait (at most an hour).
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 44, "wallet_id": wallet,
        "category_id": cafe, "description": "Coffee", "date": "2026-07-10"}),
    )
    .await;
    assert_eq!(app.run_jobs().retrained, 0);
    assert_eq!(versions(), trained);
    // An hour later the job retrains both the forecasts and the suggester on the new data.
    app.execute("UPDATE ml_models SET trained_at = now() - interval '2 hours'");
    assert_eq!(app.run_jobs().retrained, 1);
    assert!(versions() > trained);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM ml_models WHERE ledger_id = '{}' AND trained_at > now() - interval '1 minute'",
            user.id
        )),
        2
    );
}

#[tokio::test]
async fn recurring_payments_stay_current_after_additions_edits_and_deletions() {
    let app = spawn_app().await;
    let user = app.register("subs@example.com").await;
    let wallet = app.create_wallet(&user, "Card", "USD").await;
    let subscriptions = app.category_id(&user, "Subscriptions").await;
    let this_month = Utc::now().date_naive().with_day(1).unwrap();
    let pay = |merchant: &'static str, back: u32| {
        let date = this_month - chrono::Months::new(back) + chrono::Days::new(4);
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 9.99, "wallet_id": wallet,
                   "category_id": subscriptions, "merchant": merchant, "date": date}),
        )
    };
    let recurring = || async {
        let insights = app.data(&user, "/api/v1/insights/spending").await;
        insights["recurring"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["payee"].as_str().unwrap().to_owned(),
                    r["occurrences"].as_i64().unwrap(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let mut netflix = Vec::new();
    for back in 1..=4 {
        netflix.push(
            pay("Netflix", back).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(recurring().await, [("Netflix".to_owned(), 4)].into());

    // Payments added since the last read: a new payee, and one more of a known payee.
    let mut spotify = Vec::new();
    for back in 1..=4 {
        spotify.push(
            pay("Spotify", back).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    netflix.push(pay("Netflix", 5).await["id"].as_str().unwrap().to_owned());
    assert_eq!(
        recurring().await,
        [("Netflix".to_owned(), 5), ("Spotify".to_owned(), 4)].into()
    );

    // An edit moves a payment to another payee; deletions take payments away.
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{}", spotify[0]),
            &user.access_token,
            Some(&json!({"merchant": "Tidal"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        recurring().await,
        [("Netflix".to_owned(), 5), ("Spotify".to_owned(), 3)].into()
    );
    for id in &netflix[..3] {
        let response = app
            .send_as(
                Method::DELETE,
                &format!("/api/v1/transactions/{id}"),
                &user.access_token,
                None,
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(recurring().await, [("Spotify".to_owned(), 3)].into());
}

#[tokio::test]
async fn recommendations_count_budgets_in_the_answer_currency_with_their_sub_categories() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let usd = app.create_wallet(&user, "Cash", "USD").await;
    let vnd = app.create_wallet(&user, "Vi", "VND").await;
    let food = app.category_id(&user, "Food & Dining").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let taxi = app.category_id(&user, "Taxi & Ride-hailing").await;
    let fuel = app.category_id(&user, "Fuel").await;
    let this_month = Utc::now().date_naive().with_day(1).unwrap() - chrono::Months::new(1);
    let today = this_month + chrono::Days::new(9);
    let year_ago = (this_month - chrono::Months::new(12)).to_string();
    for back in 1..=6u32 {
        let date = (this_month - chrono::Months::new(back) + chrono::Days::new(4)).to_string();
        for (category, wallet, amount) in [
            (&cafe, &usd, json!(20)),
            (&groceries, &usd, json!(200)),
            (&taxi, &usd, json!(30)),
            (&taxi, &vnd, json!(1000)),
        ] {
            app.create_transaction(
                &user,
                json!({"type": "expense", "amount": amount, "wallet_id": wallet,
                       "category_id": category, "description": "Spent", "date": date}),
            )
            .await;
        }
    }
    // Fuel once in six months: 100 / 6 a month on average, but no habit to budget for.
    let date = (this_month - chrono::Months::new(2)).to_string();
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 100, "wallet_id": usd,
               "category_id": fuel, "description": "Once", "date": date}),
    )
    .await;
    let budget = |name: &str, amount: i64, currency: &str, category: &str| {
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(
                &json!({"name": name, "amount": amount, "currency": currency,
                         "period": "monthly", "category_ids": [category],
                         "start_date": year_ago}),
            ),
        )
    };
    // USD on the parent: its children are budgeted. VND on Taxi: not in a USD answer.
    assert_eq!(budget("Food", 500, "USD", &food).await.status(), 201);
    assert_eq!(budget("Rides", 1_000_000, "VND", &taxi).await.status(), 201);
    // A VND budget with nothing spent in it: no review proposing the same limit.
    assert_eq!(budget("Idle", 1_000_000, "VND", &fuel).await.status(), 201);

    let usd_advice = app
        .data(
            &user,
            &format!("/api/v1/insights/recommendations?currency=USD&at={today}"),
        )
        .await;
    let suggestions = usd_advice["budget_suggestions"].as_array().unwrap();
    let suggestion = |id: &str| suggestions.iter().find(|s| s["category_id"] == id).cloned();
    assert_eq!(suggestion(&cafe).unwrap()["has_budget"], json!(true));
    assert_eq!(suggestion(&groceries).unwrap()["has_budget"], json!(true));
    assert_eq!(suggestion(&taxi).unwrap()["has_budget"], json!(false));
    assert!(suggestion(&fuel).is_none(), "{suggestions:?}");
    assert!(suggestions
        .iter()
        .all(|s| s["suggested_amount"].as_f64().unwrap() > 0.0));

    let vnd_advice = app
        .data(
            &user,
            &format!("/api/v1/insights/recommendations?currency=VND&at={today}"),
        )
        .await;
    let suggestions = vnd_advice["budget_suggestions"].as_array().unwrap();
    let taxi_vnd = suggestions
        .iter()
        .find(|s| s["category_id"] == taxi.as_str())
        .unwrap();
    assert_eq!(taxi_vnd["has_budget"], json!(true));
    let reviews = vnd_advice["budget_reviews"].as_array().unwrap();
    assert!(
        reviews.iter().all(|r| r["name"] != "Idle"),
        "nothing spent, nothing to propose: {reviews:?}"
    );
    let rides = reviews.iter().find(|r| r["name"] == "Rides").unwrap();
    assert_eq!(rides["finding"], "rarely_half_used");
    assert_eq!(rides["suggested_amount"], json!(1000));
    assert_eq!(
        rides["message"],
        "Rides stayed under half used in each of its last 3 periods; 1000 VND would be enough."
    );
}

#[tokio::test]
async fn forecasts_and_suggestions_beyond_the_largest_amount_are_kept_to_it() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let largest = "999999999999999.9999";
    // Two of the largest amounts a month: a monthly total above what an amount holds.
    monthly_expenses(&app, &user, &wallet, &groceries, "2024-01-01", 12, largest);
    monthly_expenses(&app, &user, &wallet, &cafe, "2024-01-01", 12, largest);

    let (status, body) = predict(&app, &user, json!({"as_of": "2025-01-10"})).await;
    assert_eq!(status, 200, "{body}");
    for field in ["amount", "lower", "upper"] {
        assert_eq!(body["data"][0][field].to_string(), largest, "{body}");
    }
    let advice = app
        .data(
            &user,
            "/api/v1/insights/recommendations?currency=USD&at=2025-01-10",
        )
        .await;
    let suggestions = advice["budget_suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 2, "{suggestions:?}");
    for suggestion in suggestions {
        assert_eq!(suggestion["suggested_amount"].to_string(), largest);
    }
}
