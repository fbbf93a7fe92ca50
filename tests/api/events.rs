//! The event log: every kind of write appends its events in the writing transaction, numbered
//! in order per owner, never into another owner's log, and nothing for a write that failed.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, TestUser};

/// The owner's events after `after` as `(seq, type, action or kind)`, oldest first.
fn events_after(app: &TestApp, user: &TestUser, after: i64) -> Vec<(i64, String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    use diesel::RunQueryDsl;
    let mut conn = app.db.connect();
    diesel::sql_query(format!(
        "SELECT seq, type AS kind, COALESCE(payload ->> 'action', payload ->> 'kind', '') AS detail \
         FROM events WHERE ledger_id = '{}' AND seq > {after} ORDER BY seq",
        user.id
    ))
    .load::<Row>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.seq, r.kind, r.detail))
    .collect()
}

fn last_seq(app: &TestApp, user: &TestUser) -> i64 {
    app.scalar(&format!(
        "SELECT COALESCE(max(seq), 0) AS value FROM events WHERE ledger_id = '{}'",
        user.id
    ))
}

/// The kinds of the events a write appended, in order.
fn kinds(events: &[(i64, String, String)]) -> Vec<String> {
    events
        .iter()
        .map(|(_, kind, detail)| {
            if detail.is_empty() {
                kind.clone()
            } else {
                format!("{kind}:{detail}")
            }
        })
        .collect()
}

/// Runs `write`, then returns the events it appended.
macro_rules! events_of {
    ($app:expr, $user:expr, $write:expr) => {{
        let before = last_seq($app, $user);
        $write;
        events_after($app, $user, before)
    }};
}

#[tokio::test]
async fn every_kind_of_write_appends_its_events_in_order() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let tx = "/api/v1/transactions";
    let today = chrono::Utc::now().date_naive();

    // A new expense: the transaction, then its wallet's balance.
    let created = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "expense", "amount": 12.5, "category_id": cafe, "wallet_id": cash,
                   "date": "2026-03-01"}),
        )
        .await
    });
    assert_eq!(
        kinds(&created),
        ["transaction_update:created", "balance_update"]
    );
    let id = app.scalar(&format!(
        "SELECT count(*) AS value FROM events WHERE ledger_id = '{}' AND type = 'balance_update' \
         AND payload ->> 'balance' = '-12.5000'",
        user.id
    ));
    assert_eq!(id, 1, "the balance after the write is announced");
    let expense_id: String = {
        let rows = app.data(&user, "/api/v1/transactions").await;
        rows[0]["id"].as_str().unwrap().to_owned()
    };

    // A transfer moves two wallets.
    let transfer = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "transfer", "amount": 100, "wallet_id": bank, "to_wallet_id": cash,
                   "date": "2026-03-02"}),
        )
        .await
    });
    assert_eq!(
        kinds(&transfer),
        [
            "transaction_update:created",
            "balance_update",
            "balance_update"
        ]
    );

    // A change that moves money, one that does not, and a delete.
    let moved = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::PATCH,
            &format!("{tx}/{expense_id}"),
            json!({"amount": 15}),
        )
        .await
    });
    assert_eq!(
        kinds(&moved),
        ["transaction_update:updated", "balance_update"]
    );
    let renamed = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::PATCH,
            &format!("{tx}/{expense_id}"),
            json!({"description": "Flat white"}),
        )
        .await
    });
    assert_eq!(kinds(&renamed), ["transaction_update:updated"]);
    let deleted = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::DELETE,
            &format!("{tx}/{expense_id}"),
            json!({}),
        )
        .await
    });
    assert_eq!(
        kinds(&deleted),
        ["transaction_update:deleted", "balance_update"]
    );

    // Spending that crosses a budget's threshold: the alert, as its kind and as a notification.
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/budgets",
        json!({"name": "Food", "amount": 100, "category_ids": [groceries], "period": "monthly",
               "start_date": today.to_string()}),
    )
    .await;
    let alert = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::POST,
            tx,
            json!({"type": "expense", "amount": 85, "category_id": groceries, "wallet_id": cash,
                   "date": today.to_string()}),
        )
        .await
    });
    assert_eq!(
        kinds(&alert),
        [
            "transaction_update:created",
            "balance_update",
            "budget_alert:budget_threshold",
            "notification"
        ]
    );

    // A CSV import: the balances its lines moved, then that it finished (one event for all
    // its lines, with the counts; no transaction_update per line).
    let import = events_of!(&app, &user, {
        let response = app
            .request(Method::POST, "/api/v1/transactions/import")
            .bearer_auth(&user.access_token)
            .header("content-type", "text/csv")
            .body("date,amount,description,category,wallet\n2026-02-01,-3,Tea,Cafe,Cash\n2026-02-02,-4,Cake,Cafe,Bank\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    });
    assert_eq!(
        kinds(&import),
        ["balance_update", "balance_update", "import_finished"]
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT (payload ->> 'created')::bigint AS value FROM events WHERE ledger_id = '{}' \
             AND type = 'import_finished' AND payload -> 'import_id' = 'null'::jsonb \
             AND payload ->> 'format' = 'csv' ORDER BY seq DESC LIMIT 1",
            user.id
        )),
        2
    );

    // Paying a bill: its expense, then the payment.
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Rent", "amount": 500, "category_id": groceries, "wallet_id": bank,
               "frequency": "monthly", "next_due_date": today.to_string()}),
        )
        .await;
    let paid = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::POST,
            &format!("/api/v1/bills/{}/pay", bill["id"].as_str().unwrap()),
            json!({}),
        )
        .await
    });
    let paid_kinds = kinds(&paid);
    assert_eq!(paid_kinds[0], "transaction_update:created");
    assert_eq!(paid_kinds[1], "balance_update");
    assert!(
        paid_kinds.contains(&"bill_paid".to_owned()),
        "{paid_kinds:?}"
    );
    // The payment also took the budget past its limit.
    assert!(
        paid_kinds.contains(&"budget_alert:budget_exceeded".to_owned()),
        "{paid_kinds:?}"
    );

    // A recurring template due today: the background job records it through the same path.
    app.data_of(&user, Method::POST, "/api/v1/recurring",
        json!({"type": "income", "amount": 1000, "category_id": app.category_id(&user, "Salary").await,
               "wallet_id": bank, "frequency": "monthly", "next_date": today.to_string()})).await;
    let job = events_of!(&app, &user, { app.run_jobs() });
    assert_eq!(
        kinds(&job)[..2],
        ["transaction_update:created", "balance_update"]
    );

    // A new opening balance moves the balance too; a rename does not.
    let reopened = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/wallets/{cash}"),
            json!({"opening_balance": 500}),
        )
        .await
    });
    assert_eq!(kinds(&reopened), ["balance_update"]);
    let balance = app.data(&user, &format!("/api/v1/wallets/{cash}")).await["balance"].clone();
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM events WHERE ledger_id = '{}' AND seq = {} \
             AND (payload ->> 'balance')::numeric = {balance}",
            user.id, reopened[0].0
        )),
        1,
        "the balance after the change: {balance}"
    );
    let renamed = events_of!(&app, &user, {
        app.data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/wallets/{cash}"),
            json!({"name": "Pocket"}),
        )
        .await
    });
    assert!(kinds(&renamed).is_empty(), "{renamed:?}");

    // Numbers only grow, and the other account's log stayed empty.
    let all = events_after(&app, &user, 0);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(last_seq(&app, &other), 0);
}

#[tokio::test]
async fn a_write_that_fails_appends_nothing() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let salary = app.category_id(&user, "Salary").await;
    let before = last_seq(&app, &user);
    // An income category on an expense: refused after the reads, before anything is stored.
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(
                &json!({"type": "expense", "amount": 5, "category_id": salary, "wallet_id": cash}),
            ),
        )
        .await;
    assert_eq!(response.status(), 422);
    // A suggestion id that is not the caller's rolls back the insert it followed.
    let cafe = app.category_id(&user, "Cafe").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(
                &json!({"type": "expense", "amount": 5, "category_id": cafe, "wallet_id": cash,
                         "suggestion_id": uuid::Uuid::new_v4()}),
            ),
        )
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(events_after(&app, &user, before), vec![]);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transactions"),
        0,
        "nothing half-written"
    );
}
