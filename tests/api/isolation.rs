//! One user can never see or touch another user's data. The matrix comes from the generated
//! spec, so a new route is covered the day it lands (or the test fails until the ledger holds
//! its resource):
//! - every operation with a path id, called by user B with user A's ids;
//! - every query parameter and body field that holds ids (format `uuid`, split categories
//!   included), set to one of A's ids in an otherwise valid request of B's.
//!
//! Each answer must be 404 `not_found`, and the database must hold exactly what it held before.
//!
//! The admin-only operations (`/users`, `/users/{id}`, `/admin/*`) reach every account by
//! design; their role checks are tested in `admin.rs`.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{holds_ids, json, spawn_app, spec_operations, Ledger, TestApp, TestUser};

fn admin_only(path: &str) -> bool {
    path == "/api/v1/users"
        || path.starts_with("/api/v1/users/{")
        || path.starts_with("/api/v1/admin/")
}

struct Outcome {
    call: String,
    status: u16,
    body: Value,
}

/// Sends a JSON body, or a CSV one when `body` is a string (the import takes `text/csv`).
async fn call(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Outcome {
    let response = match body {
        Some(Value::String(csv)) => app
            .request(method.clone(), path)
            .bearer_auth(&user.access_token)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .expect("request sent"),
        _ => {
            app.send_as(method.clone(), path, &user.access_token, body)
                .await
        }
    };
    let (status, body_out) = json(response).await;
    Outcome {
        call: format!(
            "{method} {path} {}",
            body.map(Value::to_string).unwrap_or_default()
        ),
        status,
        body: body_out,
    }
}

/// The example body of an operation, made B's own (its ids point at B's rows).
fn own_example(operation: &Value, ledger: &Ledger) -> Option<Value> {
    if let Some(csv) = operation.get("x-csv-example") {
        return Some(csv.clone());
    }
    let mut body = operation.get("x-json-example")?.clone();
    ledger.own_body(&mut body);
    Some(body)
}

#[tokio::test]
async fn no_operation_reaches_another_users_rows() {
    let app = spawn_app().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let alices = app.seed_ledger(&alice).await;
    let bobs = app.seed_ledger(&bob).await;
    let before = app.fingerprint();

    let mut outcomes = Vec::new();
    let mut uncovered = Vec::new();
    // The names of the query parameters and body fields that got one of A's ids.
    let mut tried = std::collections::BTreeSet::new();
    for (method, path, operation) in spec_operations() {
        if admin_only(&path) {
            continue;
        }
        let body = own_example(&operation, &bobs);

        // A's ids in the path.
        if path.contains('{') {
            match alices.fill(&path) {
                Some(filled) => {
                    outcomes.push(call(&app, &bob, method.clone(), &filled, body.as_ref()).await)
                }
                None => uncovered.push(format!("{method} {path}")),
            }
        }
        // The rest of the request B's own, one of A's ids in a query parameter or body field.
        let own_path = if path.contains('{') {
            bobs.fill(&path)
        } else {
            Some(path.clone())
        };
        let Some(own_path) = own_path else { continue };
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            if parameter["in"] != "query" || !holds_ids(&parameter["schema"]) {
                continue;
            }
            let foreign = foreign_id(name, &alices);
            let url = format!("{own_path}?{name}={foreign}");
            outcomes.push(call(&app, &bob, method.clone(), &url, body.as_ref()).await);
            tried.insert(name.to_owned());
        }
        let (Some(body), Some(fields)) = (&body, operation["x-json-fields"].as_object()) else {
            continue;
        };
        for (field, description) in fields {
            let mut foreign = body.clone();
            if field == "splits" {
                // Two parts adding up to the amount (so only where the example has one), one in
                // a category of A's, and no category of the whole.
                let Some(amount) = body.get("amount").and_then(Value::as_f64) else {
                    continue;
                };
                let half = (amount / 2.0).floor();
                foreign.as_object_mut().map(|o| o.remove("category_id"));
                foreign[field] = serde_json::json!([
                    {"category_id": alices.expense_category, "amount": half},
                    {"category_id": bobs.expense_category, "amount": amount - half},
                ]);
            } else if field == "to_wallet_id" {
                // Only a transfer has a receiving wallet; an expense never does.
                if own_path.contains("/expenses") {
                    continue;
                }
                foreign.as_object_mut().map(|o| o.remove("category_id"));
                foreign["type"] = Value::from("transfer");
                foreign[field] = Value::String(alices.wallet.clone());
            } else if holds_ids(description) {
                let id = Value::String(foreign_id(field, &alices));
                foreign[field] = if description["kind"] == "array" {
                    Value::Array(vec![id])
                } else {
                    id
                };
            } else {
                continue;
            }
            outcomes.push(call(&app, &bob, method.clone(), &own_path, Some(&foreign)).await);
            tried.insert(field.clone());
        }
    }

    assert!(
        uncovered.is_empty(),
        "the ledger holds no row for: {uncovered:?}"
    );
    for name in [
        "wallet_id",
        "to_wallet_id",
        "category_id",
        "category_ids",
        "parent_id",
        "reassign_to",
        "suggestion_id",
        "splits",
    ] {
        assert!(
            tried.contains(name),
            "no call put one of A's ids in `{name}`; tried: {tried:?}"
        );
    }
    assert!(
        outcomes.len() >= 70,
        "the matrix made only {} calls",
        outcomes.len()
    );
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status != 404 || o.body["code"] != "not_found")
        .map(|o| format!("{} -> {} {}", o.call, o.status, o.body))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} calls were not 404:\n{}",
        wrong.len(),
        outcomes.len(),
        wrong.join("\n")
    );
    assert_eq!(
        app.fingerprint(),
        before,
        "a refused call changed the database"
    );
    eprintln!(
        "isolation: {} calls with another user's ids, each 404",
        outcomes.len()
    );

    // And A still sees all of it.
    for (segment, id) in &alices.by_segment {
        if matches!(*segment, "notifications" | "users" | "assistant") {
            continue; // listed, not fetched one by one; admin-only
        }
        app.data(&alice, &format!("/api/v1/{segment}/{id}")).await;
    }
}

/// One of A's ids of the kind a parameter or field names.
fn foreign_id(name: &str, alices: &Ledger) -> String {
    match name {
        "wallet_id" | "to_wallet_id" | "transfer_to_wallet_id" => alices.wallet.clone(),
        "category_id" | "category_ids" | "parent_id" | "reassign_to" | "tax_category_id" => {
            alices.expense_category.clone()
        }
        "suggestion_id" => alices.suggestion.clone(),
        "conversation_id" => alices.conversation.clone(),
        "import_id" => alices.by_segment["imports"].clone(),
        "transaction_id" => alices.by_segment["transactions"].clone(),
        // The review's transactions.
        "approve" | "reject" => alices.by_segment["transactions"].clone(),
        other => alices
            .by_segment
            .get(other.trim_end_matches("_ids").trim_end_matches("_id"))
            .cloned()
            .unwrap_or_else(|| panic!("no id of A's for `{other}`")),
    }
}
