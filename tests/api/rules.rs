//! Import rules: validation, order, application on import (before the categoriser) and on
//! demand with a dry run, hand-set categories kept, isolation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

async fn rule(app: &TestApp, user: &TestUser, body: Value) -> Value {
    app.data_of(user, Method::POST, "/api/v1/rules", body).await
}

async fn import_qif(app: &TestApp, user: &TestUser, wallet: &str, records: &str) -> Value {
    let response = app
        .request(Method::POST, &format!("/api/v1/imports?wallet_id={wallet}"))
        .bearer_auth(&user.access_token)
        .header("content-type", "application/qif")
        .body(format!("!Type:Bank\n{records}"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn rules_are_checked_ordered_and_applied_on_import_before_the_categoriser() {
    let app = spawn_app().await;
    let user = app.register("rules@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let salary = app.category_id(&user, "Salary").await;
    let fuel = app.category_id(&user, "Fuel").await;

    // Refused: no condition, no action, a bad pattern, a category of the other kind, min > max.
    for (body, field) in [
        (json!({"name": "x", "category_id": cafe}), "payee_contains"),
        (json!({"name": "x", "payee_contains": "a"}), "category_id"),
        (
            json!({"name": "x", "payee_regex": "(open", "category_id": cafe}),
            "payee_regex",
        ),
        (
            json!({"name": "x", "type": "expense", "payee_contains": "a", "category_id": salary}),
            "category_id",
        ),
        (
            json!({"name": "x", "min_amount": 10, "max_amount": 5, "add_tags": ["t"]}),
            "max_amount",
        ),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/rules",
                &user.access_token,
                Some(&body),
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(error["errors"].get(field).is_some(), "{body}: {error}");
    }

    let coffee = rule(
        &app,
        &user,
        json!({"name": "Coffee", "payee_regex": "^starbucks", "type": "expense",
        "category_id": cafe, "add_tags": ["coffee"], "rename_payee": "Starbucks"}),
    )
    .await;
    assert_eq!(coffee["position"], 1);
    // A later rule matching the same entry adds its tags but not its category.
    rule(
        &app,
        &user,
        json!({"name": "Small", "max_amount": 10, "category_id": fuel, "add_tags": ["small"]}),
    )
    .await;
    rule(&app, &user, json!({"name": "To savings", "payee_contains": "transfer to sav", "transfer_to_wallet_id": savings})).await;
    let list = app.data(&user, "/api/v1/rules").await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Coffee", "Small", "To savings"]
    );

    let batch = import_qif(&app, &user, &checking,
        "D03/02/2026\nT-4.50\nPSTARBUCKS #1042 SEATTLE\n^\nD03/03/2026\nT-200\nPTransfer to savings 0303\n^\nD03/04/2026\nT-7.00\nPCity parking\n^\n").await;
    let report = batch["report"].as_array().unwrap();
    assert_eq!(
        (
            report[0]["category_id"].clone(),
            report[0]["category_source"].clone()
        ),
        (json!(cafe), json!("rule"))
    );
    assert_eq!(
        report[2]["category_id"],
        json!(fuel),
        "the second rule applies where the first does not"
    );
    let rows = app.data(&user, "/api/v1/transactions?sort=date").await;
    assert_eq!(rows[0]["description"], "Starbucks");
    assert_eq!(rows[0]["merchant"], "Starbucks");
    assert_eq!(rows[0]["tags"], json!(["coffee", "small"]));
    assert_eq!(rows[1]["type"], "transfer");
    assert_eq!(rows[1]["wallet_id"], json!(checking));
    assert_eq!(rows[1]["to_wallet_id"], json!(savings));

    // PATCH: off, it no longer applies; cleared conditions and order.
    let id = coffee["id"].as_str().unwrap();
    let off = app
        .data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/rules/{id}"),
            json!({"active": false, "position": 9}),
        )
        .await;
    assert_eq!(
        (off["active"].clone(), off["position"].clone()),
        (json!(false), json!(9))
    );
    // null clears an action, the tags too; absent leaves them.
    let untagged = app
        .data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/rules/{id}"),
            json!({"add_tags": null}),
        )
        .await;
    assert_eq!(untagged["add_tags"], json!([]), "{untagged}");
    assert_eq!(untagged["rename_payee"], "Starbucks", "{untagged}");
    let cleared = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/rules/{id}"),
            &user.access_token,
            Some(&json!({"payee_regex": null, "type": null})),
        )
        .await;
    assert_error(cleared, 422, "validation_failed").await;
    let again = import_qif(
        &app,
        &user,
        &checking,
        "D03/05/2026\nT-30.00\nPSTARBUCKS RESERVE\n^\n",
    )
    .await;
    assert_ne!(again["report"][0]["category_source"], "rule");
    app.data_of(
        &user,
        Method::DELETE,
        &format!("/api/v1/rules/{id}"),
        json!({}),
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/v1/rules/{id}"), &user.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn applying_a_rule_to_existing_rows_keeps_hand_set_categories_and_can_be_a_dry_run() {
    let app = spawn_app().await;
    let user = app.register("apply@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let restaurants = app.category_id(&user, "Restaurants").await;
    // Imported (source default/ml) and hand-entered rows of the same payee.
    import_qif(
        &app,
        &user,
        &cash,
        "D03/02/2026\nT-12.00\nPCorner Market\n^\nD03/09/2026\nT-18.00\nPCorner Market\n^\n",
    )
    .await;
    let by_hand = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "date": "2026-03-10",
        "description": "Corner Market", "category_id": restaurants, "wallet_id": cash}),
        )
        .await;
    let market = rule(&app, &user, json!({"name": "Market", "payee_equals": "corner market", "category_id": groceries, "add_tags": ["market"]})).await;
    let path = format!("/api/v1/rules/{}/apply", market["id"].as_str().unwrap());

    let dry = app
        .data_of(&user, Method::POST, &path, json!({"dry_run": true}))
        .await;
    assert_eq!(
        (
            dry["matched"].as_i64(),
            dry["changed"].as_i64(),
            dry["dry_run"].as_bool()
        ),
        (Some(3), Some(3), Some(true))
    );
    assert_eq!(dry["sample"].as_array().unwrap().len(), 3);
    assert!(
        app.data(&user, "/api/v1/transactions")
            .await
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["tags"] == json!([])),
        "a dry run changes nothing"
    );

    let done = app.data_of(&user, Method::POST, &path, json!({})).await;
    assert_eq!(
        (done["matched"].as_i64(), done["changed"].as_i64()),
        (Some(3), Some(3))
    );
    for row in app
        .data(&user, "/api/v1/transactions")
        .await
        .as_array()
        .unwrap()
    {
        assert_eq!(row["tags"], json!(["market"]));
        if row["id"] == by_hand["id"] {
            assert_eq!(
                row["category_id"],
                json!(restaurants),
                "a hand-set category stays"
            );
            assert_eq!(row["category_source"], "user");
        } else {
            assert_eq!(row["category_id"], json!(groceries));
            // The rule's (or the categoriser's, when it had chosen the same already).
            assert_ne!(row["category_source"], "user");
        }
    }
    // Nothing left to change.
    let again = app.data_of(&user, Method::POST, &path, json!({})).await;
    assert_eq!(
        (again["matched"].as_i64(), again["changed"].as_i64()),
        (Some(3), Some(0))
    );
}

#[tokio::test]
async fn another_users_rules_and_rows_are_out_of_reach() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let intruder = app.register("intruder@example.com").await;
    let wallet = app.create_wallet(&owner, "Cash", "USD").await;
    let cafe = app.category_id(&owner, "Cafe").await;
    let own = rule(
        &app,
        &owner,
        json!({"name": "Coffee", "payee_contains": "coffee", "category_id": cafe}),
    )
    .await;
    let path = format!("/api/v1/rules/{}", own["id"].as_str().unwrap());
    let before = app.fingerprint();
    assert_error(
        app.get_as(&path, &intruder.access_token).await,
        404,
        "not_found",
    )
    .await;
    for (method, path, body) in [
        (Method::PATCH, path.clone(), json!({"active": false})),
        (Method::DELETE, path.clone(), json!({})),
        (Method::POST, format!("{path}/apply"), json!({})),
        (
            Method::POST,
            "/api/v1/rules".to_owned(),
            json!({"name": "x", "payee_contains": "a", "category_id": cafe}),
        ),
        (
            Method::POST,
            "/api/v1/rules".to_owned(),
            json!({"name": "x", "wallet_id": wallet, "add_tags": ["t"]}),
        ),
        (
            Method::POST,
            "/api/v1/rules".to_owned(),
            json!({"name": "x", "payee_contains": "a", "transfer_to_wallet_id": wallet}),
        ),
    ] {
        let response = app
            .send_as(method, &path, &intruder.access_token, Some(&body))
            .await;
        assert_error(response, 404, "not_found").await;
    }
    assert_eq!(app.data(&intruder, "/api/v1/rules").await, json!([]));
    assert_eq!(app.fingerprint(), before);
}

#[tokio::test]
async fn a_rules_transfer_keeps_one_currency() {
    let app = spawn_app().await;
    let user = app.register("rules-fx@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let euros = app.create_wallet(&user, "Euros", "EUR").await;

    // A rule that could never make its transfer is refused when written.
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/rules",
            &user.access_token,
            Some(&json!({"name": "x", "wallet_id": euros, "transfer_to_wallet_id": savings})),
        )
        .await;
    let error = assert_error(response, 422, "validation_failed").await;
    assert!(
        error["errors"]["transfer_to_wallet_id"][0]
            .as_str()
            .unwrap()
            .contains("one currency"),
        "{error}"
    );

    // One matching wallets of both currencies transfers where it can and leaves the rest:
    // applied, it used to fail as a whole on the euro expense; imported, to refuse its line.
    let other = app.category_id(&user, "Groceries").await;
    for (wallet, day) in [(&checking, "2026-03-02"), (&euros, "2026-03-03")] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 50, "date": day, "category_id": other,
                   "description": "Move to savings", "wallet_id": wallet}),
        )
        .await;
    }
    let moving = rule(
        &app,
        &user,
        json!({"name": "Move", "payee_contains": "move to sav", "transfer_to_wallet_id": savings}),
    )
    .await;
    let path = format!("/api/v1/rules/{}/apply", moving["id"].as_str().unwrap());
    let done = app.data_of(&user, Method::POST, &path, json!({})).await;
    assert_eq!(
        (done["matched"].as_i64(), done["changed"].as_i64()),
        (Some(2), Some(1)),
        "{done}"
    );
    let rows = app.data(&user, "/api/v1/transactions?sort=date").await;
    assert_eq!(
        (rows[0]["type"].clone(), rows[0]["to_wallet_id"].clone()),
        (json!("transfer"), json!(savings))
    );
    assert_eq!(rows[1]["type"], "expense", "{rows}");

    let batch = import_qif(
        &app,
        &user,
        &euros,
        "D03/04/2026\nT-20\nPMove to savings\n^\n",
    )
    .await;
    assert_eq!(batch["report"][0]["message"], json!(null), "{batch}");
    let rows = app.data(&user, "/api/v1/transactions?sort=date").await;
    assert_eq!(
        (rows[2]["type"].clone(), rows[2]["wallet_id"].clone()),
        (json!("expense"), json!(euros)),
        "{rows}"
    );
}

#[tokio::test]
async fn a_rules_transfer_over_existing_rows_never_counts_a_movement_twice() {
    let app = spawn_app().await;
    let user = app.register("twice@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let salary = app.category_id(&user, "Salary").await;
    let groceries = app.category_id(&user, "Groceries").await;
    // The savings account's side was recorded already (typed, or from its own bank file); a
    // second movement has no other side yet.
    app.create_transaction(
        &user,
        json!({"type": "income", "amount": 100, "date": "2026-03-02", "wallet_id": savings,
               "category_id": salary, "description": "FROM CHECKING"}),
    )
    .await;
    for (amount, date) in [(100, "2026-03-01"), (250, "2026-03-20")] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "date": date, "wallet_id": checking,
                   "category_id": groceries, "description": "TO SAVINGS"}),
        )
        .await;
    }
    let moving = rule(
        &app,
        &user,
        json!({"name": "Savings", "payee_contains": "to savings", "transfer_to_wallet_id": savings}),
    )
    .await;
    let applied = app
        .data_of(
            &user,
            Method::POST,
            &format!("/api/v1/rules/{}/apply", moving["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (
            applied["changed"].clone(),
            applied["transfers_held_back"].clone()
        ),
        (json!(1), json!(1)),
        "{applied}"
    );
    let wallets = app.data(&user, "/api/v1/wallets").await;
    let balance = |id: &str| {
        wallets
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .unwrap()["balance"]
            .clone()
    };
    // 100 came in once (the income), 250 moved by the transfer; 100 went out as the expense.
    assert_eq!(balance(&savings), json!(350));
    assert_eq!(balance(&checking), json!(-350));
}
