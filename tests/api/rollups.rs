//! The daily rollups the reports, balances and budgets read, and the money each wallet keeps as
//! moved through it, stay equal to what the transactions say, through every kind of write the
//! API (and the background job) makes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{json, spawn_app, TestApp};

/// Rows where the rollups and a recomputation from the transactions differ (empty rollup rows,
/// awaiting the job's sweep, add nothing and are left out).
fn drift(app: &TestApp) -> i64 {
    app.scalar(
        "WITH want AS ( \
             SELECT ledger_id, date AS day, wallet_id, to_wallet_id, currency, type, \
                    sum(amount) AS amount, count(*) AS transactions \
             FROM transactions GROUP BY 1, 2, 3, 4, 5, 6), \
         have AS ( \
             SELECT ledger_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions \
             FROM daily_flows WHERE transactions <> 0), \
         want_lines AS ( \
             SELECT ledger_id, day, category_id, wallet_id, currency, type, sum(amount) AS amount, \
                    count(DISTINCT transaction_id) AS transactions \
             FROM (SELECT ledger_id, date AS day, category_id, wallet_id, currency, type, amount, \
                          id AS transaction_id \
                   FROM transactions WHERE category_id IS NOT NULL \
                   UNION ALL \
                   SELECT s.ledger_id, t.date, s.category_id, t.wallet_id, t.currency, t.type, \
                          s.amount, s.transaction_id \
                   FROM transaction_splits s JOIN transactions t ON t.id = s.transaction_id) l \
             GROUP BY 1, 2, 3, 4, 5, 6), \
         have_lines AS ( \
             SELECT ledger_id, day, category_id, wallet_id, currency, type, amount, transactions \
             FROM daily_category_flows WHERE transactions <> 0) \
         SELECT ((SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have) a) \
               + (SELECT count(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want) b) \
               + (SELECT count(*) FROM (SELECT * FROM want_lines EXCEPT SELECT * FROM have_lines) c) \
               + (SELECT count(*) FROM (SELECT * FROM have_lines EXCEPT SELECT * FROM want_lines) d) \
               + (SELECT count(*) FROM daily_flows WHERE transactions < 0) \
               + (SELECT count(*) FROM daily_category_flows WHERE transactions < 0) \
               + (SELECT count(*) FROM wallets w WHERE w.moved <> COALESCE(( \
                      SELECT sum(CASE WHEN t.to_wallet_id = w.id THEN t.amount \
                                      WHEN t.type = 'income' THEN t.amount \
                                      ELSE -t.amount END) \
                      FROM transactions t \
                      WHERE t.ledger_id = w.ledger_id \
                        AND (t.wallet_id = w.id OR t.to_wallet_id = w.id)), 0)))::bigint AS value",
    )
}

#[tokio::test]
async fn rollups_follow_every_kind_of_write() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let restaurants = app.category_id(&user, "Restaurants").await;
    let salary = app.category_id(&user, "Salary").await;
    let tx = "/api/v1/transactions";

    let plain = app
        .data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "expense", "amount": 12.5,
        "category_id": cafe, "wallet_id": cash, "date": "2026-03-01"}),
        )
        .await;
    let split = app
        .data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "expense", "amount": 90,
        "wallet_id": cash, "date": "2026-03-02", "splits": [
            {"category_id": groceries, "amount": 50}, {"category_id": groceries, "amount": 10},
            {"category_id": restaurants, "amount": 30}]}),
        )
        .await;
    let income = app
        .data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "income", "amount": 2000,
        "category_id": salary, "wallet_id": bank, "date": "2026-03-01"}),
        )
        .await;
    let transfer = app
        .data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "transfer", "amount": 100,
        "wallet_id": bank, "to_wallet_id": cash, "date": "2026-03-03"}),
        )
        .await;
    assert_eq!(drift(&app), 0, "after creates");

    // The API rewrites a split transaction's splits with it; a plain UPDATE (a data repair,
    // a migration) must move their lines too.
    app.execute(&format!(
        "UPDATE transactions SET date = date - 40, wallet_id = '{bank}' WHERE id = '{}'",
        split["id"].as_str().unwrap()
    ));
    assert_eq!(drift(&app), 0, "after a direct update");

    let path = |row: &Value| format!("{tx}/{}", row["id"].as_str().unwrap());
    // Every field that moves money, one at a time and together.
    for patch in [
        json!({"amount": 13}),
        json!({"date": "2026-02-27"}),
        json!({"category_id": groceries}),
        json!({"wallet_id": bank, "date": "2026-03-05", "amount": 14.25}),
        json!({"splits": [{"category_id": cafe, "amount": 4.25}, {"category_id": restaurants, "amount": 10}]}),
        json!({"category_id": cafe}),
    ] {
        app.data_of(&user, Method::PATCH, &path(&plain), patch.clone())
            .await;
        assert_eq!(drift(&app), 0, "after {patch}");
    }
    for patch in [
        json!({"date": "2026-01-15", "wallet_id": bank}),
        json!({"splits": [{"category_id": groceries, "amount": 45}, {"category_id": groceries, "amount": 45}]}),
        json!({"type": "income", "category_id": salary}),
    ] {
        app.data_of(&user, Method::PATCH, &path(&split), patch.clone())
            .await;
        assert_eq!(drift(&app), 0, "after {patch}");
    }
    app.data_of(
        &user,
        Method::PATCH,
        &path(&transfer),
        json!({"to_wallet_id": cash, "wallet_id": bank, "amount": 7}),
    )
    .await;
    app.data_of(
        &user,
        Method::PATCH,
        &path(&income),
        json!({"type": "transfer", "to_wallet_id": cash}),
    )
    .await;
    assert_eq!(drift(&app), 0, "after type changes");

    // A category deleted with its uses moved to another (splits included).
    let snacks = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/categories",
            json!({"name": "Snacks", "parent_id": groceries}),
        )
        .await;
    let snacks_id = snacks["id"].as_str().unwrap().to_owned();
    app.data_of(&user, Method::POST, tx, json!({"type": "expense", "amount": 20, "wallet_id": cash,
        "date": "2026-03-04", "splits": [{"category_id": snacks_id, "amount": 5}, {"category_id": cafe, "amount": 15}]}))
    .await;
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/categories/{snacks_id}?reassign_to={cafe}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(drift(&app), 0, "after a reassignment");

    // An import with splits and a transfer, a bill paid, a recurring expense materialised.
    let csv = "date,type,amount,description,category,splits,wallet,to_wallet\n\
        2026-03-06,expense,30,Market,,Groceries=20; Cafe=10,Cash,\n\
        2026-03-06,transfer,40,Top up,,,Bank,Cash\n\
        2026-03-07,expense,8,Coffee,Cafe,,Cash,\n";
    let response = app
        .request(Method::POST, "/api/v1/transactions/import")
        .bearer_auth(&user.access_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 3, "{body}");
    let today = chrono::Utc::now().date_naive().to_string();
    let bill = app.data_of(&user, Method::POST, "/api/v1/bills", json!({"name": "Internet", "amount": 45,
        "frequency": "monthly", "next_due_date": today, "category_id": groceries, "wallet_id": bank}))
    .await;
    app.data_of(
        &user,
        Method::POST,
        &format!("/api/v1/bills/{}/pay", bill["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/recurring",
        json!({"type": "expense", "amount": 9.99,
        "frequency": "weekly", "next_date": today, "category_id": cafe, "wallet_id": cash}),
    )
    .await;
    assert!(app.run_jobs().materialized >= 1);
    assert_eq!(drift(&app), 0, "after import, bill and recurring");

    // Deletes, and another account deleted whole.
    for row in [&plain, &split, &transfer] {
        let response = app
            .send_as(Method::DELETE, &path(row), &user.access_token, None)
            .await;
        assert_eq!(response.status(), 200);
    }
    let bob_cash = app.create_wallet(&other, "Cash", "USD").await;
    let bob_cafe = app.category_id(&other, "Cafe").await;
    app.data_of(
        &other,
        Method::POST,
        tx,
        json!({"type": "expense", "amount": 3, "category_id": bob_cafe,
        "wallet_id": bob_cash}),
    )
    .await;
    let response = app
        .send_as(
            Method::DELETE,
            "/api/v1/users/me",
            &other.access_token,
            Some(&json!({"password": crate::helpers::PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(drift(&app), 0, "after deletes");

    // The job sweeps rows that no transaction stands behind any more.
    assert!(app.scalar("SELECT count(*) AS value FROM daily_flows WHERE transactions = 0") > 0);
    app.run_jobs();
    assert_eq!(
        app.scalar(
            "SELECT (SELECT count(*) FROM daily_flows WHERE transactions = 0) \
                  + (SELECT count(*) FROM daily_category_flows WHERE transactions = 0) AS value"
        ),
        0
    );
    assert_eq!(drift(&app), 0);
}
