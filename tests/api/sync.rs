//! Delta sync: a client that applies each answer's changes in order mirrors the server.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

/// A client's local copy: entity -> id -> row.
#[derive(Default)]
struct Replica {
    rows: BTreeMap<&'static str, BTreeMap<String, Value>>,
    cursor: Option<String>,
}

impl Replica {
    async fn pull(&mut self, app: &TestApp, user: &TestUser, limit: u32) {
        loop {
            let path = match &self.cursor {
                Some(cursor) => format!("/api/v1/sync?since={cursor}&limit={limit}"),
                None => format!("/api/v1/sync?limit={limit}"),
            };
            let data = app.data(user, &path).await;
            for (entity, key) in [
                ("wallet", "wallets"),
                ("category", "categories"),
                ("transaction", "transactions"),
                ("budget", "budgets"),
                ("bill", "bills"),
                ("recurring", "recurring"),
            ] {
                for row in data[key].as_array().unwrap() {
                    self.rows
                        .entry(entity)
                        .or_default()
                        .insert(row["id"].as_str().unwrap().to_owned(), row.clone());
                }
            }
            for gone in data["deleted"].as_array().unwrap() {
                let entity = match gone["type"].as_str().unwrap() {
                    "wallet" => "wallet",
                    "category" => "category",
                    "budget" => "budget",
                    "bill" => "bill",
                    "recurring" => "recurring",
                    _ => "transaction",
                };
                self.rows
                    .entry(entity)
                    .or_default()
                    .remove(gone["id"].as_str().unwrap());
            }
            self.cursor = Some(data["cursor"].as_str().unwrap().to_owned());
            if data["has_more"] == false {
                break;
            }
        }
    }

    fn ids(&self, entity: &str) -> Vec<String> {
        self.rows
            .get(entity)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

async fn server_ids(app: &TestApp, user: &TestUser, path: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .data(user, path)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_client_replaying_changes_ends_with_the_servers_state() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let mut replica = Replica::default();
    replica.pull(&app, &user, 7).await;
    assert!(
        replica.ids("category").len() >= 20,
        "first sync brings everything"
    );

    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let spare = app.create_wallet(&user, "Spare", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let mut kept = Vec::new();
    for i in 0..5 {
        let t = app
            .create_transaction(
                &user,
                json!({"type": "expense", "amount": i + 1, "description": format!("t{i}"),
            "category_id": cafe, "wallet_id": cash}),
            )
            .await;
        kept.push(t["id"].as_str().unwrap().to_owned());
    }
    replica.pull(&app, &user, 3).await;
    assert_eq!(replica.ids("transaction").len(), 5);

    // Changes and deletions after the cursor.
    let deleted = kept.remove(0);
    app.send_as(
        Method::DELETE,
        &format!("/api/v1/transactions/{deleted}"),
        &user.access_token,
        None,
    )
    .await;
    app.send_as(
        Method::PATCH,
        &format!("/api/v1/transactions/{}", kept[0]),
        &user.access_token,
        Some(&json!({"description": "renamed"})),
    )
    .await;
    app.send_as(
        Method::DELETE,
        &format!("/api/v1/wallets/{spare}"),
        &user.access_token,
        None,
    )
    .await;
    let education = app.category_id(&user, "Education").await;
    app.send_as(
        Method::DELETE,
        &format!("/api/v1/categories/{education}"),
        &user.access_token,
        None,
    )
    .await;
    app.create_wallet(&other, "Not yours", "USD").await;
    let (_, b) = json(
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(&json!({
        "name": "Cafe", "amount": 50, "category_ids": [cafe], "period": "monthly"})),
        )
        .await,
    )
    .await;
    let (_, kept_budget) = json(
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(&json!({
        "name": "Kept", "amount": 70, "category_ids": [cafe], "period": "weekly"})),
        )
        .await,
    )
    .await;
    app.send_as(
        Method::DELETE,
        &format!("/api/v1/budgets/{}", b["data"]["id"].as_str().unwrap()),
        &user.access_token,
        None,
    )
    .await;
    let (status, bill) = json(
        app.send_as(
            Method::POST,
            "/api/v1/bills",
            &user.access_token,
            Some(&json!({
        "name": "Rent", "amount": 5, "category_id": cafe, "wallet_id": cash, "frequency": "monthly",
        "next_due_date": chrono::Utc::now().date_naive()})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{bill}");
    replica.pull(&app, &user, 2).await;
    assert_eq!(
        replica.ids("budget"),
        vec![kept_budget["data"]["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(
        replica.ids("bill"),
        vec![bill["data"]["id"].as_str().unwrap().to_owned()]
    );

    assert_eq!(
        replica.ids("transaction"),
        server_ids(&app, &user, "/api/v1/transactions").await
    );
    assert_eq!(
        replica.ids("wallet"),
        server_ids(&app, &user, "/api/v1/wallets").await
    );
    assert_eq!(
        replica.ids("category"),
        server_ids(&app, &user, "/api/v1/categories?per_page=200").await
    );
    assert_eq!(
        replica.rows["transaction"][&kept[0]]["description"],
        "renamed"
    );
    // Derived figures follow too: a wallet comes again whenever money moves in or out of it,
    // so the replica's balances are the server's.
    for wallet in app.data(&user, "/api/v1/wallets").await.as_array().unwrap() {
        let id = wallet["id"].as_str().unwrap();
        assert_eq!(
            replica.rows["wallet"][id], *wallet,
            "the replica's copy of wallet {id}"
        );
    }

    // Nothing new: an empty answer with the same cursor.
    let cursor = replica.cursor.clone().unwrap();
    let data = app
        .data(&user, &format!("/api/v1/sync?since={cursor}"))
        .await;
    assert_eq!(data["transactions"], json!([]));
    assert_eq!(data["cursor"], cursor.as_str());
    assert_error(
        app.get_as("/api/v1/sync?since=abc", &user.access_token)
            .await,
        400,
        "invalid_query",
    )
    .await;
    // A cursor ahead of every change would hide every later one: refused.
    assert_error(
        app.get_as("/api/v1/sync?since=99999999999", &user.access_token)
            .await,
        400,
        "invalid_cursor",
    )
    .await;
}
