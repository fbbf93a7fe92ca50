//! `finai seed-bench`, and the per-user transaction counter that keeps list totals cheap.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{json, spawn_app, TestUser};

#[tokio::test]
async fn seed_bench_creates_users_that_log_in_to_consistent_data() {
    let app = spawn_app().await;
    let hash = finai::auth::password::hash("Bench!pass1", 4).unwrap();
    let options = finai::bench_seed::BenchOptions {
        users: 2,
        transactions_per_user: 300,
        budgets_per_user: 5,
        prefix: "bench".into(),
    };
    let today = chrono::Utc::now().date_naive();
    let summary = finai::bench_seed::seed(&mut app.db.connect(), &options, &hash, today).unwrap();
    assert_eq!(
        summary.emails,
        vec!["bench1@example.com", "bench2@example.com"]
    );
    assert_eq!((summary.transactions, summary.budgets), (600, 10));
    assert!(
        finai::bench_seed::seed(&mut app.db.connect(), &options, &hash, today).is_err(),
        "existing accounts are never touched"
    );

    let (status, session) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "bench2@example.com", "password": "Bench!pass1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let user = TestUser {
        id: session["data"]["user"]["id"].as_str().unwrap().to_owned(),
        email: "bench2@example.com".into(),
        password: "Bench!pass1".into(),
        access_token: session["data"]["access_token"].as_str().unwrap().to_owned(),
        refresh_token: session["data"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let (_, list) = json(
        app.get_as("/api/v1/transactions?per_page=50", &user.access_token)
            .await,
    )
    .await;
    assert_eq!(list["meta"]["total_items"], 300);
    assert_eq!(list["data"].as_array().unwrap().len(), 50);
    assert_eq!(list["data"][0]["date"], today.to_string());
    let kinds = app.scalar(&format!(
        "SELECT count(DISTINCT type) AS value FROM transactions WHERE ledger_id = '{}'",
        user.id
    ));
    assert_eq!(kinds, 3, "expenses, income and transfers");
    let oldest = app.scalar(&format!(
        "SELECT (current_date - min(date))::bigint AS value FROM transactions WHERE ledger_id = '{}'",
        user.id
    ));
    assert!((700..=740).contains(&oldest), "two years back: {oldest}");
    assert_eq!(
        app.scalar(
            "SELECT count(*) AS value FROM transactions t WHERE t.type = 'expense' \
             AND t.category_id IS NULL AND t.amount IS DISTINCT FROM \
             (SELECT sum(amount) FROM transaction_splits s WHERE s.transaction_id = t.id)"
        ),
        0,
        "split purchases add up"
    );

    // The wallets' derived balances hold all of the ledger: opening balances, plus income,
    // minus expenses (transfers move money between the user's own wallets).
    let wallets = app.data(&user, "/api/v1/wallets").await;
    let wallets = wallets.as_array().unwrap();
    assert_eq!(wallets.len(), 4);
    let cents = |v: &serde_json::Value| (v.as_f64().unwrap() * 100.0).round() as i64;
    let balances: i64 = wallets.iter().map(|w| cents(&w["balance"])).sum();
    let expected = app.scalar(&format!(
        "SELECT (((SELECT sum(opening_balance) FROM wallets WHERE ledger_id = '{0}') \
               + sum(CASE type WHEN 'income' THEN amount WHEN 'expense' THEN -amount ELSE 0 END)) \
               * 100)::bigint AS value \
         FROM transactions WHERE ledger_id = '{0}'",
        user.id
    ));
    assert_eq!(balances, expected);

    let (_, budgets) = json(app.get_as("/api/v1/budgets", &user.access_token).await).await;
    assert_eq!(budgets["meta"]["total_items"], 5);
    assert!(budgets["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["spent"].as_f64().unwrap() > 0.0));
}

#[tokio::test]
async fn list_totals_follow_creates_type_changes_and_deletes() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let salary = app.category_id(&user, "Salary").await;
    let expense = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 4.5, "date": "2026-01-10",
                   "category_id": cafe, "wallet_id": wallet}),
        )
        .await;
    for day in ["2026-01-11", "2026-01-12"] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 3, "date": day,
                   "category_id": cafe, "wallet_id": wallet}),
        )
        .await;
    }
    let totals = || async {
        let all = json(
            app.get_as("/api/v1/transactions?per_page=1", &user.access_token)
                .await,
        )
        .await
        .1;
        let expenses = json(
            app.get_as("/api/v1/expenses?per_page=1", &user.access_token)
                .await,
        )
        .await
        .1;
        (
            all["meta"]["total_items"].clone(),
            expenses["meta"]["total_items"].clone(),
        )
    };
    assert_eq!(totals().await, (json!(3), json!(3)));

    let id = expense["id"].as_str().unwrap();
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{id}"),
            &user.access_token,
            Some(&json!({"type": "income", "category_id": salary})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(totals().await, (json!(3), json!(2)));

    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{id}"),
            &user.access_token,
            None,
        )
        .await;
    assert!(response.status().is_success());
    assert_eq!(totals().await, (json!(2), json!(2)));
    assert_eq!(
        app.scalar(&format!(
            "SELECT sum(n)::bigint AS value FROM transaction_counts WHERE ledger_id = '{}'",
            user.id
        )),
        2
    );

    app.execute(&format!("DELETE FROM users WHERE id = '{}'", user.id));
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transaction_counts"),
        0
    );
}
