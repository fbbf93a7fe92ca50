use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn a_new_wallet_takes_the_users_currency_and_starts_at_its_opening_balance() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/wallets",
            &user.access_token,
            Some(&json!({"name": " Card ", "type": "credit_card", "opening_balance": -1500.25})),
        )
        .await;
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/wallets/"));
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let wallet = &body["data"];
    assert_eq!(wallet["name"], "Card");
    assert_eq!(wallet["type"], "credit_card");
    assert_eq!(wallet["currency"], "USD");
    assert_eq!(wallet["opening_balance"], json!(-1500.25));
    assert_eq!(wallet["balance"], json!(-1500.25));
    assert_eq!(wallet["archived"], false);
}

#[tokio::test]
async fn balances_are_exact_and_transfers_move_money_between_two_wallets() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let salary = app.category_id(&user, "Salary").await;
    let food = app.category_id(&user, "Groceries").await;
    for amount in [json!(0.10), json!(0.20)] {
        app.create_transaction(
            &user,
            json!({"type": "income", "amount": amount, "category_id": salary,
            "wallet_id": cash, "date": "2026-03-01"}),
        )
        .await;
    }
    let wallet = app.data(&user, &format!("/api/v1/wallets/{cash}")).await;
    assert_eq!(
        wallet["balance"].to_string(),
        "0.3",
        "0.10 + 0.20 is exactly 0.30"
    );

    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 0.05, "category_id": food,
        "wallet_id": cash, "date": "2026-03-02"}),
    )
    .await;
    app.create_transaction(
        &user,
        json!({"type": "transfer", "amount": 0.15, "wallet_id": cash,
        "to_wallet_id": bank, "date": "2026-03-03"}),
    )
    .await;
    let list = app.data(&user, "/api/v1/wallets").await;
    let balance = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .unwrap()["balance"]
            .to_string()
    };
    assert_eq!(balance(&cash), "0.1");
    assert_eq!(balance(&bank), "0.15");
}

#[tokio::test]
async fn a_balance_within_bounds_is_kept_whatever_the_wallet_moved_before() {
    // An opening debt of 9e14 paid off by three incomes of 4e14: what the wallet moved
    // (1.2e15) passes the 15 integer digits of an amount, its balance (3e14) does not.
    let app = spawn_app().await;
    let user = app.register("big@example.com").await;
    let card = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/wallets",
            json!({"name": "Card", "type": "credit_card", "currency": "USD",
                   "opening_balance": -900_000_000_000_000i64}),
        )
        .await;
    let card = card["id"].as_str().unwrap().to_owned();
    let salary = app.category_id(&user, "Salary").await;
    for _ in 0..3 {
        app.create_transaction(
            &user,
            json!({"type": "income", "amount": 400_000_000_000_000i64, "category_id": salary,
                   "wallet_id": card, "date": "2026-03-01"}),
        )
        .await;
    }
    let wallet = app.data(&user, &format!("/api/v1/wallets/{card}")).await;
    assert_eq!(wallet["balance"].to_string(), "300000000000000");
}

#[tokio::test]
async fn a_wallet_with_transactions_cannot_be_deleted_but_can_be_archived() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let empty = app.create_wallet(&user, "Old", "USD").await;
    let food = app.category_id(&user, "Groceries").await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 12, "category_id": food, "wallet_id": cash}),
    )
    .await;

    let refused = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/wallets/{cash}"),
            &user.access_token,
            None,
        )
        .await;
    assert_error(refused, 409, "wallet_in_use").await;
    let currency_change = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/wallets/{cash}"),
            &user.access_token,
            Some(&json!({"currency": "EUR"})),
        )
        .await;
    assert_error(currency_change, 409, "wallet_in_use").await;

    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/wallets/{cash}"),
            &user.access_token,
            Some(&json!({"archived": true, "name": "Cash (old)"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["archived"], true);
    assert_eq!(body["data"]["balance"], json!(-12));
    let active = app.data(&user, "/api/v1/wallets?archived=false").await;
    assert_eq!(active.as_array().unwrap().len(), 1);

    // An archived wallet takes no new money, in either direction; its rows stay editable.
    let refused = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(&json!({"type": "expense", "amount": 1, "category_id": food, "wallet_id": cash})),
        )
        .await;
    assert_error(refused, 422, "validation_failed").await;
    let refused = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(
                &json!({"type": "transfer", "amount": 1, "wallet_id": empty, "to_wallet_id": cash}),
            ),
        )
        .await;
    let body = assert_error(refused, 422, "validation_failed").await;
    assert!(body["errors"]["to_wallet_id"].is_array(), "{body}");
    let bill = app
        .send_as(
            Method::POST,
            "/api/v1/bills",
            &user.access_token,
            Some(
                &json!({"name": "Rent", "amount": 5, "category_id": food, "wallet_id": cash,
                         "frequency": "monthly", "next_due_date": chrono::Utc::now().date_naive()}),
            ),
        )
        .await;
    let body = assert_error(bill, 422, "validation_failed").await;
    assert!(body["errors"]["wallet_id"].is_array(), "{body}");
    let moved = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 2, "category_id": food, "wallet_id": empty}),
        )
        .await;
    let refused = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{}", moved["id"].as_str().unwrap()),
            &user.access_token,
            Some(&json!({"wallet_id": cash})),
        )
        .await;
    assert_error(refused, 422, "validation_failed").await;
    let old_row = app
        .data(&user, &format!("/api/v1/transactions?wallet_id={cash}"))
        .await;
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &format!(
                "/api/v1/transactions/{}",
                old_row[0]["id"].as_str().unwrap()
            ),
            &user.access_token,
            Some(&json!({"notes": "from before"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.send_as(
        Method::DELETE,
        &format!("/api/v1/transactions/{}", moved["id"].as_str().unwrap()),
        &user.access_token,
        None,
    )
    .await;

    let (status, _) = json(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/wallets/{empty}"),
            &user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_error(
        app.get_as(&format!("/api/v1/wallets/{empty}"), &user.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM tombstones WHERE entity_id = '{empty}'"
        )),
        1
    );

    // A rule or a savings goal that names a wallet keeps it too (an outside test found both
    // deleted, and the goal turned into one with nothing saved, without a word).
    for (path, body, by) in [
        (
            "/api/v1/rules",
            json!({"name": "Save", "payee_contains": "to savings", "transfer_to_wallet_id": "W"}),
            "rules",
        ),
        (
            "/api/v1/goals",
            json!({"name": "Trip", "target_amount": 500, "wallet_id": "W"}),
            "savings goals",
        ),
    ] {
        let wallet = app.create_wallet(&user, "Savings", "USD").await;
        let body =
            serde_json::from_str(&body.to_string().replace("\"W\"", &format!("\"{wallet}\"")))
                .unwrap();
        let user_of = app.data_of(&user, Method::POST, path, body).await;
        let refused = app
            .send_as(
                Method::DELETE,
                &format!("/api/v1/wallets/{wallet}"),
                &user.access_token,
                None,
            )
            .await;
        let refused = assert_error(refused, 409, "wallet_in_use").await;
        assert!(
            refused["message"].as_str().unwrap().contains(by),
            "{refused}"
        );
        let kept = app
            .data(
                &user,
                &format!("{path}/{}", user_of["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(kept["id"], user_of["id"], "{kept}");
        assert!(kept.to_string().contains(&wallet), "{kept}");
    }
}

#[tokio::test]
async fn invalid_wallets_are_422() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    for (body, field) in [
        (json!({"name": "X", "type": "mattress"}), "type"),
        (
            json!({"name": "X", "type": "cash", "currency": "XYZ"}),
            "currency",
        ),
        (
            json!({"name": "X", "type": "cash", "opening_balance": 1.23456}),
            "opening_balance",
        ),
        (
            json!({"name": "X", "type": "cash", "opening_balance": 1e30}),
            "opening_balance",
        ),
        (
            json!({"name": "X", "type": "cash", "opening_balance": "12"}),
            "opening_balance",
        ),
        (json!({"name": " ", "type": "cash"}), "name"),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/wallets",
                &user.access_token,
                Some(&body),
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(error["errors"][field].is_array(), "{body}: {error}");
    }
    assert_eq!(app.scalar("SELECT count(*) AS value FROM wallets"), 0);
}

#[tokio::test]
async fn another_users_wallet_is_404_everywhere() {
    let app = spawn_app().await;
    let owner = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let wallet = app.create_wallet(&owner, "Cash", "USD").await;
    let path = format!("/api/v1/wallets/{wallet}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Mine now"}))),
        (Method::DELETE, None),
    ] {
        let response = app
            .send_as(method, &path, &other.access_token, body.as_ref())
            .await;
        assert_error(response, 404, "not_found").await;
    }
    assert_eq!(app.data(&other, "/api/v1/wallets").await, json!([]));
    let food = app.category_id(&other, "Groceries").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &other.access_token,
            Some(
                &json!({"type": "expense", "amount": 5, "category_id": food, "wallet_id": wallet}),
            ),
        )
        .await;
    assert_error(response, 404, "not_found").await;
    assert_eq!(app.data(&owner, &path).await["name"], "Cash");
}

#[tokio::test]
async fn editing_a_wallet_while_money_moves_through_it_never_deadlocks() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.workers = 4;
        settings.database.pool_size = 8;
    })
    .await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    // Each expense write takes the user's lock, then touches the wallet's row; each wallet
    // edit must take them in the same order.
    let requests: Vec<_> = (0..24)
        .map(|i| {
            if i % 2 == 0 {
                app.send_as(
                    Method::PATCH,
                    &format!("/api/v1/wallets/{cash}"),
                    &user.access_token,
                    Some(&json!({"name": format!("Cash {i}")})),
                )
            } else {
                app.send_as(
                    Method::POST,
                    "/api/v1/transactions",
                    &user.access_token,
                    Some(&json!({"type": "expense", "amount": 1, "category_id": cafe,
                                 "wallet_id": cash})),
                )
            }
        })
        .collect();
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 12);
}

#[tokio::test]
async fn moved_to_a_wallet_in_another_currency_an_amount_keeps_its_own_unless_told() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let dollars = app.create_wallet(&user, "Dollars", "USD").await;
    let euros = app.create_wallet(&user, "Euros", "EUR").await;
    let food = app.category_id(&user, "Groceries").await;
    let expense = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "category_id": food, "wallet_id": dollars}),
        )
        .await;
    let path = format!("/api/v1/transactions/{}", expense["id"].as_str().unwrap());
    let patch = |body: serde_json::Value| {
        app.send_as(Method::PATCH, &path, &user.access_token, Some(&body))
    };
    let refused = assert_error(
        patch(json!({"wallet_id": euros})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(refused["errors"]["currency"].is_array(), "{refused}");
    let (status, moved) = json(patch(json!({"wallet_id": euros, "currency": "EUR"})).await).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["data"]["currency"], "EUR");
    // A bill and a recurring transaction keep theirs: no wallet in another currency.
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Rent", "amount": 5, "category_id": food, "wallet_id": dollars,
                   "frequency": "monthly", "next_due_date": chrono::Utc::now().date_naive()}),
        )
        .await;
    let recurring = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/recurring",
            json!({"type": "expense", "amount": 5, "description": "Gym", "category_id": food,
                   "wallet_id": dollars, "frequency": "monthly"}),
        )
        .await;
    for path in [
        format!("/api/v1/bills/{}", bill["id"].as_str().unwrap()),
        format!("/api/v1/recurring/{}", recurring["id"].as_str().unwrap()),
    ] {
        let response = app
            .send_as(
                Method::PATCH,
                &path,
                &user.access_token,
                Some(&json!({"wallet_id": euros})),
            )
            .await;
        assert_error(response, 422, "validation_failed").await;
        let kept = app.data(&user, &path).await;
        assert_eq!(kept["currency"], "USD", "{kept}");
    }
}
