//! CSV import (duplicates, per-line report) and export (round trip).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

fn import(
    app: &TestApp,
    user: &TestUser,
    wallet: &str,
    csv: &str,
) -> impl std::future::Future<Output = reqwest::Response> + use<> {
    import_file(app, user, Some(wallet), csv)
}

fn import_file(
    app: &TestApp,
    user: &TestUser,
    wallet: Option<&str>,
    csv: &str,
) -> impl std::future::Future<Output = reqwest::Response> + use<> {
    let query = wallet.map_or(String::new(), |w| format!("?wallet_id={w}"));
    let request = app
        .request(Method::POST, &format!("/api/v1/transactions/import{query}"))
        .bearer_auth(&user.access_token)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    async move { request.send().await.unwrap() }
}

/// The caller's transactions as the file carries them (ids and times left out), in a stable
/// order.
fn comparable(rows: serde_json::Value) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let splits: Vec<serde_json::Value> = r["splits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| json!([s["category_id"], s["amount"], s["note"]]))
                .collect();
            json!({"type": r["type"], "amount": r["amount"], "date": r["date"],
                   "description": r["description"], "category_id": r["category_id"],
                   "notes": r["notes"], "tags": r["tags"], "currency": r["currency"],
                   "merchant": r["merchant"], "wallet_id": r["wallet_id"],
                   "to_wallet_id": r["to_wallet_id"], "splits": splits,
                   "tax_rate": r["tax_rate"], "tax_deductible": r["tax_deductible"]})
        })
        .collect();
    rows.sort_by_key(|r| r.to_string());
    rows
}

async fn export(app: &TestApp, user: &TestUser) -> String {
    let response = app
        .get_as("/api/v1/transactions/export", &user.access_token)
        .await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn delete_every_transaction(app: &TestApp, user: &TestUser) {
    for row in app
        .data(user, "/api/v1/transactions?per_page=200")
        .await
        .as_array()
        .unwrap()
    {
        let response = app
            .send_as(
                Method::DELETE,
                &format!("/api/v1/transactions/{}", row["id"].as_str().unwrap()),
                &user.access_token,
                None,
            )
            .await;
        assert_eq!(response.status(), 200);
    }
}

/// Exports everything, deletes it, imports the file (each line names its wallets) and checks
/// that the same rows came back. Returns the file.
async fn assert_round_trip(app: &TestApp, user: &TestUser) -> String {
    let original = comparable(app.data(user, "/api/v1/transactions?per_page=200").await);
    let csv = export(app, user).await;
    delete_every_transaction(app, user).await;
    let (status, body) = json(import_file(app, user, None, &csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["failed"], json!([]), "{body}\n{csv}");
    assert_eq!(body["data"]["created"], original.len(), "{body}");
    assert_eq!(
        comparable(app.data(user, "/api/v1/transactions?per_page=200").await),
        original,
        "{csv}"
    );
    csv
}

const FILE: &str = "Date,Amount,Description,Category,Type,Notes\n\
2026-03-01,-3.50,Coffee,Cafe,,\n\
2026-03-01,-3.50,Coffee,Cafe,,second cup\n\
2026-03-02,2500,Salary,Salary,,\n\
2026-02-30,-1,Bad date,Cafe,,\n\
2026-03-03,-12,Mystery,Unicorns,,\n\
2026-03-04,abc,Bad amount,Cafe,,\n\
03/05/2026,45.10,Groceries run,Groceries,debit,\n";

#[tokio::test]
async fn importing_keeps_good_lines_reports_bad_ones_and_skips_duplicates() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;

    let (status, body) = json(import(&app, &user, &cash, FILE).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["created"], 4,
        "two identical coffees on one day are both kept"
    );
    assert_eq!(body["data"]["duplicates"], 0);
    let failed: Vec<u64> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![5, 6, 7]);
    assert!(body["data"]["failed"][1]["message"]
        .as_str()
        .unwrap()
        .contains("Unicorns"));
    // The value is named once, then what is wrong with it.
    assert_eq!(
        body["data"]["failed"][2]["message"],
        "amount `abc` is not an amount (a number such as 12.34, at most 15 digits before the point)"
    );

    let (status, again) = json(import(&app, &user, &cash, FILE).await).await;
    assert_eq!(status, 200);
    assert_eq!(again["data"]["created"], 0);
    assert_eq!(again["data"]["duplicates"], 4);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 4);
    let wallet = app.data(&user, &format!("/api/v1/wallets/{cash}")).await;
    assert_eq!(wallet["balance"], json!(2447.9));
    let groceries = app.data(&user, "/api/v1/transactions?q=groceries").await;
    assert_eq!(groceries[0]["type"], "expense");
    assert_eq!(groceries[0]["date"], "2026-03-05");
}

#[tokio::test]
async fn a_file_without_required_columns_or_of_another_type_is_refused() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let body = assert_error(
        import(&app, &user, &cash, "date,description\n2026-01-01,x\n").await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["file"][0]
        .as_str()
        .unwrap()
        .contains("amount"));
    let wrong = app
        .request(
            Method::POST,
            &format!("/api/v1/transactions/import?wallet_id={cash}"),
        )
        .bearer_auth(&user.access_token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 415, "unsupported_media_type").await;
    let other = app.register("bob@example.com").await;
    assert_error(import(&app, &other, &cash, FILE).await, 404, "not_found").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
}

#[tokio::test]
async fn an_export_imports_back_to_the_same_rows_transfers_and_splits_included() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let salary = app.category_id(&user, "Salary").await;
    let groceries = app.category_id(&user, "Groceries").await;
    // Two categories named "Snacks" under different parents: the file needs their paths; and a
    // sub-category named like a top-level one ("Entertainment" under Shopping): the top-level
    // one's path is its name, which names it alone.
    let entertainment = app.category_id(&user, "Entertainment").await;
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&json!({"name": "Entertainment", "kind": "expense",
                         "parent_id": app.category_id(&user, "Shopping").await})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let shop_entertainment = body["data"]["id"].as_str().unwrap().to_owned();
    let mut snacks = Vec::new();
    for parent in ["Food & Dining", "Shopping"] {
        let parent_id = app.category_id(&user, parent).await;
        let (status, body) = json(
            app.send_as(
                Method::POST,
                "/api/v1/categories",
                &user.access_token,
                Some(&json!({"name": "Snacks", "kind": "expense", "parent_id": parent_id})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        snacks.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    for body in [
        json!({"type": "expense", "amount": 3.25, "category_id": cafe, "wallet_id": cash,
               "description": "Latte, oat milk", "notes": "with \"extra\" foam", "tags": ["a", "b"]}),
        json!({"type": "expense", "amount": 3.25, "category_id": cafe, "wallet_id": cash,
               "description": "Latte, oat milk"}),
        json!({"type": "income", "amount": 1200, "category_id": salary, "wallet_id": bank,
               "description": "March pay", "tax_rate": 8.25}),
        json!({"type": "transfer", "amount": 200, "wallet_id": bank, "to_wallet_id": cash,
               "description": "Cash for the week"}),
        json!({"type": "expense", "amount": 50, "wallet_id": cash, "description": "Market",
               "merchant": "Corner shop", "splits": [
                   {"category_id": groceries, "amount": 30.5},
                   {"category_id": snacks[1], "amount": 19.5}]}),
        json!({"type": "expense", "amount": 4, "category_id": snacks[0], "wallet_id": cash,
               "description": "Crisps", "tax_rate": 10, "tax_deductible": true}),
        json!({"type": "expense", "amount": 9, "category_id": shop_entertainment,
               "wallet_id": cash, "description": "Board game"}),
        json!({"type": "expense", "amount": 12, "category_id": entertainment, "wallet_id": cash,
               "description": "Cinema"}),
    ] {
        let mut body = body;
        body["date"] = json!("2026-03-10");
        app.create_transaction(&user, body).await;
    }
    let original = comparable(app.data(&user, "/api/v1/transactions").await);
    let balances = |app: &TestApp| {
        (
            app.scalar(&format!(
                "SELECT (balance * 100)::bigint AS value FROM ({}) b",
                balance_sql(&cash)
            )),
            app.scalar(&format!(
                "SELECT (balance * 100)::bigint AS value FROM ({}) b",
                balance_sql(&bank)
            )),
        )
    };
    let before = balances(&app);

    let response = app
        .get_as("/api/v1/transactions/export", &user.access_token)
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with(
        "date,type,amount,currency,description,category,splits,merchant,notes,wallet,to_wallet,tags,\
         tax_rate,tax_deductible\n"
    ));
    assert!(
        csv.contains(",Crisps,Food & Dining > Snacks,,,,Cash,,,10,true\n"),
        "{csv}"
    );
    assert!(csv.contains(",March pay,Salary,,,,Bank,,,8.25,\n"), "{csv}");
    assert!(
        csv.contains("Groceries=30.5; Shopping > Snacks=19.5"),
        "{csv}"
    );
    assert!(csv.contains(",Cinema,Entertainment,"), "{csv}");
    assert!(
        csv.contains(",Board game,Shopping > Entertainment,"),
        "{csv}"
    );
    assert!(
        csv.contains(",transfer,200,USD,Cash for the week,,,,,Bank,Cash,,,\n"),
        "{csv}"
    );

    // Everything gone, then the file (no wallet_id: each line names its wallets) brings it back.
    delete_every_transaction(&app, &user).await;
    let (status, body) = json(import_file(&app, &user, None, &csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 8, "{body}");
    assert_eq!(body["data"]["failed"], json!([]), "{body}");
    assert_eq!(
        comparable(app.data(&user, "/api/v1/transactions").await),
        original
    );
    assert_eq!(balances(&app), before);

    // The same file again creates nothing.
    let (_, again) = json(import_file(&app, &user, None, &csv).await).await;
    assert_eq!(again["data"]["created"], 0);
    assert_eq!(again["data"]["duplicates"], 8);
}

fn balance_sql(wallet: &str) -> String {
    format!(
        "SELECT w.opening_balance \
           + COALESCE((SELECT sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END) \
                       FROM transactions t WHERE t.wallet_id = w.id), 0) \
           + COALESCE((SELECT sum(t.amount) FROM transactions t WHERE t.to_wallet_id = w.id), 0) \
           AS balance FROM wallets w WHERE w.id = '{wallet}'"
    )
}

#[tokio::test]
async fn lines_naming_unknown_or_shared_wallets_or_another_currency_fail_alone() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    app.create_wallet(&user, "Twin", "USD").await;
    app.create_wallet(&user, "Twin", "USD").await;
    app.create_wallet(&user, "Euros", "EUR").await;
    let csv = "date,amount,description,category,wallet,to_wallet,type,currency\n\
        2026-03-01,3,Fine,Cafe,,,expense,\n\
        2026-03-01,3,Nowhere,Cafe,Atlantis,,expense,\n\
        2026-03-01,3,Which twin,Cafe,Twin,,expense,\n\
        2026-03-01,3,Wrong money,Cafe,,,expense,EUR\n\
        2026-03-01,3,Across currencies,,Cash,Euros,transfer,\n\
        2026-03-01,3,To itself,,Cash,cash,transfer,\n";
    let (status, body) = json(import_file(&app, &user, Some(&cash), csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 1, "{body}");
    let messages: Vec<&str> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("unknown wallet `Atlantis`"),
        "{messages:?}"
    );
    assert!(messages[1].contains("more than one wallet"), "{messages:?}");
    assert!(messages[2].contains("currency EUR"), "{messages:?}");
    assert!(messages[3].contains("one currency"), "{messages:?}");
    assert!(
        messages[4].contains("two different wallets"),
        "{messages:?}"
    );
    // Without wallet_id a line must name its wallet.
    let (_, body) = json(
        import_file(
            &app,
            &user,
            None,
            "date,amount,description,category\n2026-03-01,-3,x,Cafe\n",
        )
        .await,
    )
    .await;
    assert!(body["data"]["failed"][0]["message"]
        .as_str()
        .unwrap()
        .contains("no wallet"));
}

#[tokio::test]
async fn lines_with_unstorable_values_fail_alone() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let csv = "date,amount,description,category\n-5000-01-01,-1,Old,Cafe\n2026-03-01,-1,Nul\u{0}here,Cafe\n2026-03-01,\"-12,50\",Comma,Cafe\n2026-03-01,\"-1,250.50\",Thousands,Cafe\n";
    let (status, body) = json(import(&app, &user, &cash, csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 1);
    let failed: Vec<u64> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![2, 3, 4]);
    assert_eq!(
        app.data(&user, "/api/v1/transactions").await[0]["amount"],
        json!(1250.5)
    );
}

#[tokio::test]
async fn a_long_export_pages_through_every_row_exactly_once() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    // 2,345 rows on a handful of dates and amounts: many ties, more than two pages of 1,000.
    app.execute(&format!(
        "INSERT INTO transactions (ledger_id, type, amount, currency, date, description, category_id, wallet_id) \
         SELECT '{}', 'expense', 1 + g % 7, 'USD', DATE '2026-03-01' + g % 5, 'Row ' || g, '{cafe}', '{cash}' \
         FROM generate_series(1, 2345) g",
        user.id
    ));
    for sort in ["-date", "amount", "-created_at"] {
        let csv = app
            .get_as(
                &format!("/api/v1/transactions/export?sort={sort}"),
                &user.access_token,
            )
            .await
            .text()
            .await
            .unwrap();
        let mut descriptions: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(4).unwrap())
            .collect();
        assert_eq!(descriptions.len(), 2345, "sort {sort}");
        descriptions.sort_unstable();
        descriptions.dedup();
        assert_eq!(descriptions.len(), 2345, "no row twice, sort {sort}");
    }
}

#[tokio::test]
async fn only_created_lines_are_listed_as_categorized() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    for _ in 0..3 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 4, "wallet_id": cash,
                   "category_id": cafe, "description": "Highlands Coffee"}),
        )
        .await;
    }
    let csv = "date,amount,description,category\n2026-03-01,-4.20,Highlands Coffee,\n";
    let (_, first) = json(import(&app, &user, &cash, csv).await).await;
    assert_eq!(first["data"]["created"], 1, "{first}");
    assert_eq!(first["data"]["categorized"][0]["line"], 2, "{first}");

    let (status, again) = json(import(&app, &user, &cash, csv).await).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["data"]["created"], 0, "{again}");
    assert_eq!(again["data"]["duplicates"], 1, "{again}");
    assert_eq!(again["data"]["categorized"], json!([]), "{again}");
}

#[tokio::test]
async fn an_archived_wallet_takes_no_imported_lines() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let old = app.create_wallet(&user, "Old", "USD").await;
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/wallets/{old}"),
            &user.access_token,
            Some(&json!({"archived": true})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let csv = "date,type,amount,description,category,wallet,to_wallet\n\
        2026-03-01,expense,3,Fine,Cafe,,\n\
        2026-03-01,expense,3,Into the old one,Cafe,Old,\n\
        2026-03-01,transfer,3,Top up the old one,,Cash,Old\n\
        2026-03-01,transfer,3,Empty the old one,,Old,Cash\n";
    let (status, body) = json(import(&app, &user, &cash, csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 1, "{body}");
    let message = "wallet `Old` is archived; unarchive it to import into it";
    assert_eq!(
        body["data"]["failed"],
        json!([{"line": 3, "message": message}, {"line": 4, "message": message},
               {"line": 5, "message": message}])
    );
    // The query's wallet too.
    let (status, body) = json(
        import(
            &app,
            &user,
            &old,
            "date,amount,description,category\n2026-03-02,-3,Default,Cafe\n",
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["failed"],
        json!([{"line": 2, "message": message}])
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);
}

async fn create_category(app: &TestApp, user: &TestUser, name: &str) -> String {
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&json!({"name": name, "kind": "expense"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn separators_in_tags_split_categories_and_split_notes_survive_the_round_trip() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let odd = create_category(&app, &user, "x=y;z").await;
    for body in [
        json!({"type": "expense", "amount": 3, "category_id": cafe, "wallet_id": cash,
               "description": "Tagged", "tags": ["a;b", "c=d", "back\\slash", "plain"]}),
        json!({"type": "expense", "amount": 50, "wallet_id": cash, "description": "Market",
               "splits": [
                   {"category_id": odd, "amount": 30, "note": "half; or = so \\ roughly"},
                   {"category_id": groceries, "amount": 15, "note": "milk"},
                   {"category_id": cafe, "amount": 5}]}),
    ] {
        let mut body = body;
        body["date"] = json!("2026-03-10");
        app.create_transaction(&user, body).await;
    }

    let csv = assert_round_trip(&app, &user).await;
    assert!(csv.contains(r",a\;b;c\=d;back\\slash;plain"), "{csv}");
    assert!(
        csv.contains(r",x\=y\;z=30=half\; or \= so \\ roughly; Groceries=15=milk; Cafe=5,"),
        "{csv}"
    );

    // Files written before the escapes read as they did.
    let old = "date,amount,description,category,splits,tags\n\
        2026-03-11,-20,Old split,,Cafe=12.50; Groceries=7.50,a;b\n\
        2026-03-11,-4,Old tags,Cafe,,home; C:\\path ;;weekly\n";
    let (status, body) = json(import(&app, &user, &cash, old).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 2, "{body}");
    let rows = app
        .data(&user, "/api/v1/transactions?from=2026-03-11")
        .await;
    let split = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["description"] == "Old split");
    let split = split.unwrap();
    assert_eq!(split["tags"], json!(["a", "b"]));
    assert_eq!(split["splits"][0]["category_id"], json!(cafe));
    assert_eq!(split["splits"][0]["amount"], json!(12.5));
    assert_eq!(split["splits"][1]["category_id"], json!(groceries));
    let tagged = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["description"] == "Old tags");
    assert_eq!(
        tagged.unwrap()["tags"],
        json!(["home", "C:\\path", "weekly"])
    );
}

#[tokio::test]
async fn text_cells_that_a_spreadsheet_would_run_are_quoted_and_read_back_exactly() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let home = app.create_wallet(&user, "@Home", "USD").await;
    let fees = create_category(&app, &user, "-Fees").await;
    let groceries = app.category_id(&user, "Groceries").await;
    for body in [
        json!({"type": "expense", "amount": 3, "category_id": fees, "wallet_id": cash,
               "description": "=1+2", "merchant": "=cmd|' /C calc'!A0",
               "notes": "@SUM(A1:A9)", "tags": ["+x", "=y"]}),
        json!({"type": "expense", "amount": 50, "wallet_id": home, "description": "-5 off",
               "merchant": "'=already quoted", "notes": "'plain quote",
               "splits": [{"category_id": fees, "amount": 30},
                          {"category_id": groceries, "amount": 20}]}),
        json!({"type": "transfer", "amount": 10, "wallet_id": cash, "to_wallet_id": home,
               "description": "+ top up"}),
    ] {
        let mut body = body;
        body["date"] = json!("2026-03-10");
        app.create_transaction(&user, body).await;
    }

    let csv = assert_round_trip(&app, &user).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let text_columns = [
        "description",
        "category",
        "splits",
        "merchant",
        "notes",
        "wallet",
        "to_wallet",
        "tags",
    ];
    for record in reader.records() {
        let record = record.unwrap();
        for (column, cell) in header.iter().zip(record.iter()) {
            if text_columns.contains(&column) {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{column} `{cell}` in {csv}"
                );
            }
        }
    }
    assert!(
        csv.contains(",'=1+2,'-Fees,,'=cmd|' /C calc'!A0,'@SUM(A1:A9),Cash,,'+x;\\=y,,\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",'-5 off,,'-Fees=30; Groceries=20,''=already quoted,'plain quote,'@Home,,"),
        "{csv}"
    );
    assert!(csv.contains(",'+ top up,,,,,Cash,'@Home,"), "{csv}");
}

#[tokio::test]
async fn lines_over_the_api_limits_fail_alone() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let tags = |count: usize, length: usize| {
        (0..count)
            .map(|i| format!("{i:0length$}"))
            .collect::<Vec<_>>()
            .join(";")
    };
    let csv = format!(
        "date,amount,description,category,splits,merchant,notes,tags\n\
         2026-03-01,-1,Merchant,Cafe,,{},,\n\
         2026-03-01,-1,Notes,Cafe,,,{},\n\
         2026-03-01,-1,Many tags,Cafe,,,,{}\n\
         2026-03-01,-1,Long tag,Cafe,,,,{}\n\
         2026-03-01,-2,Split note,,Cafe=1={}; Groceries=1,,,\n\
         2026-03-01,-1,At the limits,Cafe,,{},{},{}\n\
         2026-03-01,-2,Split note at the limit,,Cafe=1={}; Groceries=1,,,\n",
        "m".repeat(5000),
        "n".repeat(20_000),
        tags(41, 2),
        tags(1, 80),
        "s".repeat(201),
        "m".repeat(200),
        "n".repeat(2000),
        tags(20, 50),
        "s".repeat(200),
    );
    let (status, body) = json(import(&app, &user, &cash, &csv).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], 2, "{body}");
    let failed: Vec<(u64, &str)> = body["data"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        failed,
        vec![
            (2, "`merchant` is longer than 200 characters"),
            (3, "`notes` is longer than 2000 characters"),
            (4, "more than 20 tags"),
            (5, "a tag is longer than 50 characters"),
            (6, "the note of split `Cafe` is longer than 200 characters"),
        ]
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 2);
    assert_eq!(
        app.scalar("SELECT max(length(merchant))::bigint AS value FROM transactions"),
        200
    );
}
