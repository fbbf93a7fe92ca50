use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

struct Ledger {
    user: TestUser,
    cash: String,
    bank: String,
    groceries: String,
    cafe: String,
    restaurants: String,
    food: String,
    salary: String,
}

async fn ledger(app: &TestApp, email: &str) -> Ledger {
    let user = app.register(email).await;
    Ledger {
        cash: app.create_wallet(&user, "Cash", "USD").await,
        bank: app.create_wallet(&user, "Bank", "USD").await,
        groceries: app.category_id(&user, "Groceries").await,
        cafe: app.category_id(&user, "Cafe").await,
        restaurants: app.category_id(&user, "Restaurants").await,
        food: app.category_id(&user, "Food & Dining").await,
        salary: app.category_id(&user, "Salary").await,
        user,
    }
}

/// The statements each of three GETs of `path` ran (a count is of everything the app ran
/// meanwhile: assert on the fewest).
async fn statements_per_get(app: &TestApp, user: &TestUser, path: &str) -> Vec<u64> {
    let mut counts = Vec::new();
    for _ in 0..3 {
        let before = app.statements.load(std::sync::atomic::Ordering::SeqCst);
        app.data(user, path).await;
        counts.push(app.statements.load(std::sync::atomic::Ordering::SeqCst) - before);
    }
    counts
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["description"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_expense_is_created_with_the_names_a_list_shows() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &l.user.access_token,
            Some(
                &json!({"type": "expense", "amount": 50000.5, "date": "2026-03-07",
                "description": " Lunch ", "merchant": "Pho 24", "category_id": l.restaurants,
                "wallet_id": l.cash, "tags": ["work", "work", "team"]}),
            ),
        )
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let t = &body["data"];
    assert_eq!(
        location,
        format!("/api/v1/transactions/{}", t["id"].as_str().unwrap())
    );
    assert_eq!(t["type"], "expense");
    assert_eq!(t["amount"], json!(50000.5));
    assert_eq!(t["currency"], "USD");
    assert_eq!(t["description"], "Lunch");
    assert_eq!(t["category_name"], "Restaurants");
    assert_eq!(t["wallet_name"], "Cash");
    assert_eq!(t["tags"], json!(["work", "team"]));
    assert_eq!(t["splits"], json!([]));
    let fetched = app
        .data(
            &l.user,
            &format!("/api/v1/transactions/{}", t["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(&fetched, t);
}

#[tokio::test]
async fn rule_breaking_transactions_are_422_and_store_nothing() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let cases = [
        (
            json!({"type": "expense", "amount": 0, "category_id": l.cafe, "wallet_id": l.cash}),
            "amount",
        ),
        (
            json!({"type": "expense", "amount": -5, "category_id": l.cafe, "wallet_id": l.cash}),
            "amount",
        ),
        (
            json!({"type": "expense", "amount": 1.00001, "category_id": l.cafe, "wallet_id": l.cash}),
            "amount",
        ),
        (
            json!({"type": "expense", "amount": 1e30, "category_id": l.cafe, "wallet_id": l.cash}),
            "amount",
        ),
        (
            json!({"type": "expense", "category_id": l.cafe, "wallet_id": l.cash}),
            "amount",
        ),
        (
            json!({"type": "expense", "amount": 5, "wallet_id": l.cash}),
            "category_id",
        ),
        (
            json!({"type": "expense", "amount": 5, "category_id": l.salary, "wallet_id": l.cash}),
            "category_id",
        ),
        (
            json!({"type": "income", "amount": 5, "category_id": l.cafe, "wallet_id": l.cash}),
            "category_id",
        ),
        (
            json!({"type": "transfer", "amount": 5, "wallet_id": l.cash}),
            "to_wallet_id",
        ),
        (
            json!({"type": "transfer", "amount": 5, "wallet_id": l.cash, "to_wallet_id": l.cash}),
            "to_wallet_id",
        ),
        (
            json!({"type": "transfer", "amount": 5, "wallet_id": l.cash, "to_wallet_id": l.bank, "category_id": l.cafe}),
            "category_id",
        ),
        (
            json!({"type": "expense", "amount": 5, "category_id": l.cafe, "wallet_id": l.cash, "currency": "EUR"}),
            "currency",
        ),
        (
            json!({"type": "expense", "amount": 5, "category_id": l.cafe, "wallet_id": l.cash, "date": "2026-02-30"}),
            "date",
        ),
        (
            json!({"type": "expense", "amount": 10, "wallet_id": l.cash,
            "splits": [{"category_id": l.cafe, "amount": 4}, {"category_id": l.restaurants, "amount": 5.99}]}),
            "splits",
        ),
        (
            json!({"type": "expense", "amount": 10, "wallet_id": l.cash, "category_id": l.cafe,
            "splits": [{"category_id": l.cafe, "amount": 4}, {"category_id": l.restaurants, "amount": 6}]}),
            "category_id",
        ),
        (
            json!({"type": "expense", "amount": 10, "wallet_id": l.cash,
            "splits": [{"category_id": l.cafe, "amount": 4}, {"category_id": l.salary, "amount": 6}]}),
            "splits[1].category_id",
        ),
        (
            json!({"type": "expense", "amount": 5, "category_id": l.cafe, "wallet_id": l.cash, "description": "x".repeat(501)}),
            "description",
        ),
        (
            json!({"amount": 5, "category_id": l.cafe, "wallet_id": l.cash}),
            "type",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/transactions",
                &l.user.access_token,
                Some(&body),
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(error["errors"][field].is_array(), "{field}: {error}");
    }
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transaction_splits"),
        0
    );
}

#[tokio::test]
async fn splits_divide_an_expense_exactly_and_count_for_each_category() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let t = app
        .create_transaction(
            &l.user,
            json!({"type": "expense", "amount": 0.3, "wallet_id": l.cash,
            "description": "Market", "date": "2026-03-01",
            "splits": [{"category_id": l.groceries, "amount": 0.1, "note": "veg"},
                       {"category_id": l.cafe, "amount": 0.2}]}),
        )
        .await;
    assert_eq!(t["category_id"], Value::Null);
    assert_eq!(
        t["splits"][0],
        json!({"category_id": l.groceries, "category_name": "Groceries", "amount": 0.1, "note": "veg"})
    );
    assert_eq!(t["splits"][1]["amount"], json!(0.2));

    let by_cafe = app
        .data(
            &l.user,
            &format!("/api/v1/transactions?category_id={}", l.cafe),
        )
        .await;
    assert_eq!(ids(&by_cafe), vec!["Market"]);
    let by_food = app
        .data(
            &l.user,
            &format!("/api/v1/transactions?category_id={}", l.food),
        )
        .await;
    assert_eq!(ids(&by_food), vec!["Market"], "descendants count");
    let by_restaurants = app
        .data(
            &l.user,
            &format!("/api/v1/transactions?category_id={}", l.restaurants),
        )
        .await;
    assert_eq!(by_restaurants, json!([]));
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages_stably() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let mk = |description: &str,
              amount: f64,
              date: &str,
              category: &str,
              wallet: &str,
              extra: Value| {
        let mut body = json!({"type": "expense", "amount": amount, "date": date, "description": description,
            "category_id": category, "wallet_id": wallet});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for body in [
        mk(
            "Coffee beans",
            12.5,
            "2026-03-01",
            &l.cafe,
            &l.cash,
            json!({"tags": ["home"]}),
        ),
        mk(
            "Supermarket",
            80.0,
            "2026-03-02",
            &l.groceries,
            &l.bank,
            json!({"merchant": "BigMart"}),
        ),
        mk(
            "Dinner",
            45.0,
            "2026-03-03",
            &l.restaurants,
            &l.cash,
            json!({"notes": "birthday dinner"}),
        ),
        mk("Espresso", 3.0, "2026-03-03", &l.cafe, &l.bank, json!({})),
    ] {
        app.create_transaction(&l.user, body).await;
    }
    app.create_transaction(
        &l.user,
        json!({"type": "income", "amount": 1000, "date": "2026-03-04",
        "description": "Salary", "category_id": l.salary, "wallet_id": l.bank}),
    )
    .await;
    app.create_transaction(
        &l.user,
        json!({"type": "transfer", "amount": 20, "date": "2026-03-05",
        "description": "Top up", "wallet_id": l.bank, "to_wallet_id": l.cash}),
    )
    .await;
    let list = |query: &str| app.data(&l.user, &format!("/api/v1/transactions{query}"));

    // Newest first; the two on 2026-03-03 are ordered by id, so compare them as a set.
    let newest_first = ids(&list("").await);
    assert_eq!(newest_first[..2], ["Top up", "Salary"]);
    let mut same_day = newest_first[2..4].to_vec();
    same_day.sort();
    assert_eq!(same_day, ["Dinner", "Espresso"]);
    assert_eq!(newest_first[4..], ["Supermarket", "Coffee beans"]);
    assert_eq!(ids(&list("?type=income").await), vec!["Salary"]);
    assert_eq!(ids(&list("?type=transfer").await), vec!["Top up"]);
    assert_eq!(
        ids(&list(&format!("?wallet_id={}", l.cash)).await),
        vec!["Top up", "Dinner", "Coffee beans"]
    );
    assert_eq!(
        ids(&list("?from=2026-03-02&to=2026-03-03&sort=date").await)[0],
        "Supermarket"
    );
    assert_eq!(
        ids(&list("?min_amount=12.5&max_amount=45&sort=amount").await),
        vec!["Coffee beans", "Top up", "Dinner"]
    );
    assert_eq!(ids(&list("?q=BIRTHDAY").await), vec!["Dinner"]);
    assert_eq!(ids(&list("?q=bigmart").await), vec!["Supermarket"]);
    assert_eq!(
        ids(&list("?q=%25").await),
        Vec::<String>::new(),
        "LIKE wildcards match literally"
    );
    assert_eq!(ids(&list("?tag=home").await), vec!["Coffee beans"]);
    assert_eq!(
        ids(&list("?sort=-amount&per_page=2").await),
        vec!["Salary", "Supermarket"]
    );

    // Pages cover everything exactly once, and meta tells the truth.
    let (_, first) = json(
        app.get_as("/api/v1/transactions?per_page=4", &l.user.access_token)
            .await,
    )
    .await;
    let (_, second) = json(
        app.get_as(
            "/api/v1/transactions?per_page=4&page=2",
            &l.user.access_token,
        )
        .await,
    )
    .await;
    let (_, past) = json(
        app.get_as(
            "/api/v1/transactions?per_page=4&page=9",
            &l.user.access_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        first["meta"],
        json!({"page": 1, "per_page": 4, "total_items": 6, "total_pages": 2})
    );
    assert_eq!(second["data"].as_array().unwrap().len(), 2);
    assert_eq!(past["meta"]["total_items"], 6);
    let mut all = ids(&first["data"]);
    all.extend(ids(&second["data"]));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6);

    let now = chrono::Utc::now() - chrono::Duration::seconds(60);
    let since = list(&format!(
        "?updated_since={}",
        now.to_rfc3339().replace('+', "%2B")
    ))
    .await;
    assert_eq!(since.as_array().unwrap().len(), 6);
    // Only what changed after the moment: rows written before it are left out.
    app.execute("UPDATE transactions SET updated_at = now() - interval '1 hour'");
    let dinner = list("?q=birthday").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{dinner}"),
            &l.user.access_token,
            Some(&json!({"notes": "birthday dinner for two"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let since = list(&format!(
        "?updated_since={}",
        now.to_rfc3339().replace('+', "%2B")
    ))
    .await;
    assert_eq!(ids(&since), vec!["Dinner"]);
    // Creation order, both ways.
    let created = ids(&list("?sort=created_at").await);
    assert_eq!(created.first().map(String::as_str), Some("Coffee beans"));
    assert_eq!(created.last().map(String::as_str), Some("Top up"));
    let mut reversed = ids(&list("?sort=-created_at").await);
    reversed.reverse();
    assert_eq!(reversed, created);
    // The export takes the same filters.
    let csv = app
        .get_as(
            &format!(
                "/api/v1/transactions/export?type=expense&wallet_id={}&min_amount=10",
                l.cash
            ),
            &l.user.access_token,
        )
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines.iter().all(|l| l.contains(",expense,")), "{csv}");
    assert!(
        csv.contains("Dinner") && csv.contains("Coffee beans"),
        "{csv}"
    );

    for bad in [
        "?sort=name",
        "?min_amount=abc",
        "?days=0",
        "?days=5&from=2026-01-01",
        "?from=2026-03-05&to=2026-03-01",
        "?from=2026-02-30",
        "?type=gift",
    ] {
        let response = app
            .get_as(&format!("/api/v1/transactions{bad}"), &l.user.access_token)
            .await;
        assert_error(response, 400, "invalid_query").await;
    }
}

#[tokio::test]
async fn search_ignores_case_in_any_script() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    for (description, merchant) in [("Lương tháng 11", "Công ty"), ("Bún chả", "Phở 24")] {
        app.create_transaction(
            &l.user,
            json!({"type": "expense", "amount": 1, "description": description,
                   "merchant": merchant, "category_id": l.cafe, "wallet_id": l.cash}),
        )
        .await;
    }
    let search = |q: &str| {
        let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
        app.data(&l.user, &format!("/api/v1/transactions?q={encoded}"))
    };
    assert_eq!(ids(&search("LƯƠNG").await), vec!["Lương tháng 11"]);
    assert_eq!(ids(&search("THÁNG").await), vec!["Lương tháng 11"]);
    assert_eq!(ids(&search("PHỞ").await), vec!["Bún chả"]);
}

#[tokio::test]
async fn days_counts_back_from_today() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let today = chrono::Utc::now().date_naive();
    for (description, days_ago) in [("today", 0u64), ("two weeks", 14), ("a month", 31)] {
        let date = today - chrono::Days::new(days_ago);
        app.create_transaction(
            &l.user,
            json!({"type": "expense", "amount": 1, "date": date,
            "description": description, "category_id": l.cafe, "wallet_id": l.cash}),
        )
        .await;
    }
    assert_eq!(
        ids(&app.data(&l.user, "/api/v1/transactions?days=15").await),
        vec!["today", "two weeks"]
    );
    assert_eq!(
        ids(&app.data(&l.user, "/api/v1/transactions?days=1").await),
        vec!["today"]
    );
}

#[tokio::test]
async fn updates_are_merged_and_checked_like_new_transactions() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let t = app
        .create_transaction(
            &l.user,
            json!({"type": "expense", "amount": 10, "description": "Lunch",
            "merchant": "Cafe A", "category_id": l.cafe, "wallet_id": l.cash}),
        )
        .await;
    let path = format!("/api/v1/transactions/{}", t["id"].as_str().unwrap());
    let patch = |body: Value| app.send_as(Method::PATCH, &path, &l.user.access_token, Some(&body));

    let (status, body) = json(patch(json!({"amount": 12.75, "merchant": null})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["amount"], json!(12.75));
    assert_eq!(body["data"]["merchant"], Value::Null);
    assert_eq!(body["data"]["description"], "Lunch");

    // Splitting takes the category over.
    let (status, body) = json(
        patch(json!({"splits": [{"category_id": l.cafe, "amount": 2.75}, {"category_id": l.restaurants, "amount": 10}]}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["category_id"], Value::Null);
    assert_eq!(body["data"]["splits"].as_array().unwrap().len(), 2);

    let bad = patch(json!({"amount": 13})).await;
    let error = assert_error(bad, 422, "validation_failed").await;
    assert!(
        error["errors"]["splits"].is_array(),
        "the splits no longer add up"
    );
    let keeps_category = patch(
        json!({"type": "transfer", "to_wallet_id": l.bank, "splits": [], "category_id": l.cafe}),
    )
    .await;
    assert_error(keeps_category, 422, "validation_failed").await;
    let (status, body) =
        json(patch(json!({"type": "transfer", "to_wallet_id": l.bank, "splits": []})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["type"], "transfer");
    assert_eq!(body["data"]["to_wallet_name"], "Bank");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transaction_splits"),
        0
    );
}

#[tokio::test]
async fn deleting_leaves_a_tombstone() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let t = app
        .create_transaction(
            &l.user,
            json!({"type": "expense", "amount": 10, "category_id": l.cafe, "wallet_id": l.cash}),
        )
        .await;
    let id = t["id"].as_str().unwrap();
    let path = format!("/api/v1/transactions/{id}");
    let (status, _) = json(
        app.send_as(Method::DELETE, &path, &l.user.access_token, None)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_error(
        app.get_as(&path, &l.user.access_token).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.send_as(Method::DELETE, &path, &l.user.access_token, None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS value FROM tombstones WHERE entity = 'transaction' AND entity_id = '{id}'")),
        1
    );
}

#[tokio::test]
async fn expenses_are_the_same_resource_narrowed_to_expenses() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let response = app
        .send_as(Method::POST, "/api/v1/expenses", &l.user.access_token,
            Some(&json!({"amount": 7, "description": "Tea", "category_id": l.cafe, "wallet_id": l.cash})))
        .await;
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/expenses/"));
    let (status, expense) = json(response).await;
    assert_eq!(status, 201, "{expense}");
    assert_eq!(expense["data"]["type"], "expense");
    let income = app
        .create_transaction(
            &l.user,
            json!({"type": "income", "amount": 100, "description": "Pay",
            "category_id": l.salary, "wallet_id": l.cash}),
        )
        .await;
    let income_id = income["id"].as_str().unwrap();

    assert_eq!(
        ids(&app.data(&l.user, "/api/v1/expenses").await),
        vec!["Tea"]
    );
    assert_error(
        app.get_as(
            &format!("/api/v1/expenses/{income_id}"),
            &l.user.access_token,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let delete_income = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/expenses/{income_id}"),
            &l.user.access_token,
            None,
        )
        .await;
    assert_error(delete_income, 404, "not_found").await;
    let as_income = app
        .send_as(Method::POST, "/api/v1/expenses", &l.user.access_token,
            Some(&json!({"type": "income", "amount": 7, "category_id": l.salary, "wallet_id": l.cash})))
        .await;
    assert_error(as_income, 422, "validation_failed").await;
    assert_error(
        app.get_as("/api/v1/expenses?type=income", &l.user.access_token)
            .await,
        400,
        "invalid_query",
    )
    .await;
    let expense_id = expense["data"]["id"].as_str().unwrap();
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/expenses/{expense_id}"),
            &l.user.access_token,
            Some(&json!({"amount": 8})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["amount"], json!(8));
    assert_eq!(
        app.data(&l.user, &format!("/api/v1/transactions/{expense_id}"))
            .await["amount"],
        json!(8)
    );
}

#[tokio::test]
async fn another_users_transaction_is_404_on_every_route() {
    let app = spawn_app().await;
    let owner = ledger(&app, "ana@example.com").await;
    let other = ledger(&app, "bob@example.com").await;
    let t = app
        .create_transaction(&owner.user, json!({"type": "expense", "amount": 10, "category_id": owner.cafe, "wallet_id": owner.cash}))
        .await;
    let id = t["id"].as_str().unwrap();
    for base in ["/api/v1/transactions", "/api/v1/expenses"] {
        let path = format!("{base}/{id}");
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(json!({"amount": 1}))),
            (Method::DELETE, None),
        ] {
            assert_error(
                app.send_as(method, &path, &other.user.access_token, body.as_ref())
                    .await,
                404,
                "not_found",
            )
            .await;
        }
    }
    // Nor may another user's rows be named inside a body or a filter.
    let cases = [
        json!({"type": "expense", "amount": 1, "category_id": owner.cafe, "wallet_id": other.cash}),
        json!({"type": "expense", "amount": 1, "category_id": other.cafe, "wallet_id": owner.cash}),
        json!({"type": "transfer", "amount": 1, "wallet_id": other.cash, "to_wallet_id": owner.bank}),
        json!({"type": "expense", "amount": 2, "wallet_id": other.cash,
            "splits": [{"category_id": other.cafe, "amount": 1}, {"category_id": owner.cafe, "amount": 1}]}),
    ];
    for body in cases {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/transactions",
                &other.user.access_token,
                Some(&body),
            )
            .await;
        assert_error(response, 404, "not_found").await;
    }
    for query in [
        format!("?category_id={}", owner.cafe),
        format!("?wallet_id={}", owner.cash),
    ] {
        let response = app
            .get_as(
                &format!("/api/v1/transactions{query}"),
                &other.user.access_token,
            )
            .await;
        assert_error(response, 404, "not_found").await;
    }
    assert_eq!(
        app.data(&other.user, "/api/v1/transactions").await,
        json!([])
    );
    assert_eq!(
        app.data(&owner.user, &format!("/api/v1/transactions/{id}"))
            .await["amount"],
        json!(10)
    );
}

#[tokio::test]
async fn a_patch_that_changes_the_kind_of_a_transaction_drops_what_no_longer_fits() {
    let app = spawn_app().await;
    let l = ledger(&app, "ana@example.com").await;
    let t = app
        .create_transaction(&l.user, json!({"type": "expense", "amount": 10, "wallet_id": l.cash,
            "splits": [{"category_id": l.cafe, "amount": 4}, {"category_id": l.restaurants, "amount": 6}]}))
        .await;
    let path = format!("/api/v1/transactions/{}", t["id"].as_str().unwrap());
    let patch = |body: Value| app.send_as(Method::PATCH, &path, &l.user.access_token, Some(&body));
    let (status, body) = json(patch(json!({"category_id": l.groceries})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["splits"], json!([]));
    let (status, body) =
        json(patch(json!({"type": "transfer", "to_wallet_id": l.bank})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["category_id"], Value::Null);
    let (status, body) = json(patch(json!({"type": "expense", "category_id": l.cafe})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["to_wallet_id"], Value::Null);
}

/// The first page of a list is read without joining its names, which the server keeps per
/// ledger with the version of the ledger's names: a wallet or category renamed or added shows
/// on the next page at once, and the page is still two statements (the account check and the
/// page) once the names are kept.
#[tokio::test]
async fn a_list_shows_the_names_as_they_are_now() {
    let app = spawn_app().await;
    let l = ledger(&app, "nam@example.com").await;
    let other = ledger(&app, "other-names@example.com").await;
    app.create_transaction(
        &l.user,
        json!({"type": "expense", "amount": 3, "date": "2026-03-01", "description": "Tea",
               "category_id": l.cafe, "wallet_id": l.cash}),
    )
    .await;
    app.create_transaction(
        &l.user,
        json!({"type": "transfer", "amount": 10, "date": "2026-03-02", "description": "Move",
               "wallet_id": l.cash, "to_wallet_id": l.bank}),
    )
    .await;
    let names = |list: &Value| -> Vec<(String, Value, Value)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["wallet_name"].as_str().unwrap().to_owned(),
                    t["to_wallet_name"].clone(),
                    t["category_name"].clone(),
                )
            })
            .collect()
    };
    let page = "/api/v1/transactions?per_page=50";
    assert_eq!(
        names(&app.data(&l.user, page).await),
        [
            ("Cash".to_owned(), json!("Bank"), Value::Null),
            ("Cash".to_owned(), Value::Null, json!("Cafe")),
        ]
    );
    // Names kept: the account check and the page.
    let counts = statements_per_get(&app, &l.user, page).await;
    assert_eq!(
        counts.iter().min(),
        Some(&2),
        "statements per page: {counts:?}"
    );
    // Another ledger's names are its own, whatever this one's server keeps.
    app.create_transaction(
        &other.user,
        json!({"type": "expense", "amount": 4, "date": "2026-03-01", "description": "Bun",
               "category_id": other.cafe, "wallet_id": other.cash}),
    )
    .await;
    app.data_of(
        &l.user,
        Method::PATCH,
        &format!("/api/v1/wallets/{}", l.cash),
        json!({"name": "Purse"}),
    )
    .await;
    app.data_of(
        &l.user,
        Method::PATCH,
        &format!("/api/v1/categories/{}", l.cafe),
        json!({"name": "Coffee"}),
    )
    .await;
    assert_eq!(
        names(&app.data(&l.user, page).await),
        [
            ("Purse".to_owned(), json!("Bank"), Value::Null),
            ("Purse".to_owned(), Value::Null, json!("Coffee")),
        ]
    );
    assert_eq!(
        names(&app.data(&other.user, page).await),
        [("Cash".to_owned(), Value::Null, json!("Cafe"))]
    );
    // A wallet added since the names were read.
    let card = app.create_wallet(&l.user, "Card", "USD").await;
    app.create_transaction(
        &l.user,
        json!({"type": "expense", "amount": 5, "date": "2026-03-03", "description": "Cake",
               "category_id": l.cafe, "wallet_id": card}),
    )
    .await;
    let expenses = app.data(&l.user, "/api/v1/expenses?per_page=20").await;
    assert_eq!(
        names(&expenses),
        [
            ("Card".to_owned(), Value::Null, json!("Coffee")),
            ("Purse".to_owned(), Value::Null, json!("Coffee")),
        ]
    );
}

/// A ledger with more names than the server keeps (thousands of categories) lists with its
/// names joined, right after renames too; the names are not read at every page.
#[tokio::test]
async fn a_ledger_with_thousands_of_categories_lists_its_names_too() {
    let app = spawn_app().await;
    let l = ledger(&app, "many-names@example.com").await;
    app.execute(&format!(
        "INSERT INTO categories (ledger_id, name, kind) \
         SELECT '{}', 'Extra ' || g, 'expense' FROM generate_series(1, {}) g",
        l.user.id,
        finai::db::transactions::MAX_NAMES
    ));
    app.create_transaction(
        &l.user,
        json!({"type": "expense", "amount": 3, "date": "2026-03-01", "description": "Tea",
               "category_id": l.cafe, "wallet_id": l.cash}),
    )
    .await;
    let shown = |list: Value| {
        (
            list[0]["wallet_name"].clone(),
            list[0]["category_name"].clone(),
        )
    };
    let page = "/api/v1/transactions?per_page=50";
    assert_eq!(
        shown(app.data(&l.user, page).await),
        (json!("Cash"), json!("Cafe"))
    );
    // Not kept: the page, then the page with its names joined and its total.
    let counts = statements_per_get(&app, &l.user, page).await;
    assert_eq!(
        counts.iter().min(),
        Some(&4),
        "statements per page: {counts:?}"
    );
    app.data_of(
        &l.user,
        Method::PATCH,
        &format!("/api/v1/categories/{}", l.cafe),
        json!({"name": "Coffee"}),
    )
    .await;
    assert_eq!(
        shown(app.data(&l.user, page).await),
        (json!("Cash"), json!("Coffee"))
    );
}

#[tokio::test]
async fn an_edit_from_a_stale_copy_is_refused_with_412() {
    let app = spawn_app().await;
    let user = app.register("two-phones@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let food = app.category_id(&user, "Groceries").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(
                &json!({"type": "expense", "amount": 10, "category_id": food,
                         "wallet_id": wallet}),
            ),
        )
        .await;
    let created_tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (_, created) = json(response).await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/transactions/{id}");
    let send = |method: Method, headers: Vec<(&'static str, String)>, body: Option<Value>| {
        let mut request = app.request(method, &path).bearer_auth(&user.access_token);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let etag =
        |response: &reqwest::Response| response.headers()["etag"].to_str().unwrap().to_owned();

    // Two phones read the same version.
    let read = send(Method::GET, vec![], None).await.unwrap();
    assert_eq!(read.status(), 200);
    let first = etag(&read);
    assert!(first.starts_with('"') && first.ends_with('"'), "{first}");
    assert_eq!(first, created_tag, "the create's version is the one read");

    // The first phone's edit lands and moves the version.
    let edited = send(
        Method::PATCH,
        vec![("if-match", first.clone())],
        Some(json!({"amount": 12})),
    )
    .await
    .unwrap();
    assert_eq!(edited.status(), 200);
    let second = etag(&edited);
    assert_ne!(second, first);

    // The second phone, still on the first version, is refused and told the current one;
    // its change is not written, nor a deletion from the same stale copy.
    let stale = send(
        Method::PATCH,
        vec![("if-match", first.clone())],
        Some(json!({"amount": 99})),
    )
    .await
    .unwrap();
    assert_eq!(etag(&stale), second);
    assert_error(stale, 412, "precondition_failed").await;
    let stale_delete = send(Method::DELETE, vec![("if-match", first.clone())], None)
        .await
        .unwrap();
    assert_error(stale_delete, 412, "precondition_failed").await;
    let now = app.data(&user, &path).await;
    assert_eq!(now["amount"], json!(12), "{now}");
    // A weak tag never matches If-Match; `*` matches any; a malformed header is 400.
    let weak = send(
        Method::PATCH,
        vec![("if-match", format!("W/{second}"))],
        Some(json!({"amount": 13})),
    )
    .await
    .unwrap();
    assert_error(weak, 412, "precondition_failed").await;
    let garbled = send(
        Method::PATCH,
        vec![("if-match", "12".into())],
        Some(json!({"amount": 13})),
    )
    .await
    .unwrap();
    assert_error(garbled, 400, "invalid_precondition").await;
    let any = send(
        Method::PATCH,
        vec![("if-match", "*".into())],
        Some(json!({"amount": 14})),
    )
    .await
    .unwrap();
    assert_eq!(any.status(), 200);
    // Without the header, as before: the last write wins.
    let plain = send(Method::PATCH, vec![], Some(json!({"amount": 15})))
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    let current = etag(&plain);
    let gone = send(Method::DELETE, vec![("if-match", current)], None)
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);

    // The expenses routes share it, and another user's transaction stays 404 whatever the tag.
    let other = app.register("other-phone@example.com").await;
    let created = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "category_id": food, "wallet_id": wallet}),
        )
        .await;
    let expense = format!("/api/v1/expenses/{}", created["id"].as_str().unwrap());
    let response = app
        .request(Method::PATCH, &expense)
        .bearer_auth(&other.access_token)
        .header("if-match", "*")
        .json(&json!({"amount": 1}))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let response = app
        .request(Method::GET, &expense)
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("etag"));
}
