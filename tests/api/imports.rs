//! Bank statement imports (`/imports`): each format with hand-checked amounts, linked accounts,
//! duplicates, the review queue, undo, hostile files and isolation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, spawn_app_with, TestApp, TestUser};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/statements/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn upload(
    app: &TestApp,
    user: &TestUser,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> impl std::future::Future<Output = reqwest::Response> + use<> {
    let request = app
        .request(Method::POST, &format!("/api/v1/imports{query}"))
        .bearer_auth(&user.access_token)
        .header("content-type", content_type)
        .body(body);
    async move { request.send().await.unwrap() }
}

async fn imported(app: &TestApp, user: &TestUser, query: &str, file: &str) -> Value {
    let (status, body) =
        json(upload(app, user, query, "application/octet-stream", fixture(file)).await).await;
    assert_eq!(status, 201, "{file}{query}: {body}");
    body["data"].clone()
}

fn outcomes(batch: &Value) -> Vec<String> {
    batch["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

/// `(date, type, amount, description)` of the wallet's transactions, oldest first.
async fn rows(
    app: &TestApp,
    user: &TestUser,
    query: &str,
) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<_> = app
        .data(
            user,
            &format!("/api/v1/transactions?per_page=200&sort=date{query}"),
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap().to_owned(),
                r["type"].as_str().unwrap().to_owned(),
                r["amount"].to_string(),
                r["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(
    date: &str,
    kind: &str,
    amount: &str,
    description: &str,
) -> (String, String, String, String) {
    (date.into(), kind.into(), amount.into(), description.into())
}

#[tokio::test]
async fn an_ofx_statement_links_its_account_arrives_pending_and_imports_once() {
    let app = spawn_app().await;
    let user = app.register("ofx@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;

    // The first file of an account needs its wallet; the account is then linked to it.
    let first = upload(
        &app,
        &user,
        "",
        "application/x-ofx",
        fixture("checking-sgml.ofx"),
    )
    .await;
    let body = assert_error(first, 422, "validation_failed").await;
    assert!(
        body["errors"]["wallet_id"][0]
            .as_str()
            .unwrap()
            .contains("000987654321"),
        "{body}"
    );

    let batch = imported(
        &app,
        &user,
        &format!("?wallet_id={checking}"),
        "checking-sgml.ofx",
    )
    .await;
    assert_eq!(batch["format"], "ofx");
    assert_eq!(batch["account"], "000987654321");
    assert_eq!(
        (batch["period_start"].as_str(), batch["period_end"].as_str()),
        (Some("2026-02-01"), Some("2026-02-28"))
    );
    assert_eq!(
        (
            batch["entries"].as_i64(),
            batch["created"].as_i64(),
            batch["pending"].as_i64()
        ),
        (Some(4), Some(4), Some(4))
    );
    assert_eq!(batch["status"], "pending");
    assert_eq!(
        rows(&app, &user, "&status=pending").await,
        vec![
            row("2026-02-03", "expense", "42.17", "AT&T WIRELESS"),
            row(
                "2026-02-07",
                "expense",
                "118.4",
                "WHOLE FOODS MARKET #10234"
            ),
            row("2026-02-15", "income", "2500", "ACME CORP PAYROLL"),
            row("2026-02-20", "expense", "1200", "CHECK 1042"),
        ]
    );
    // Nothing named or confidently suggested a category for the cheque: Uncategorized.
    let cheque = &batch["report"][3];
    assert_eq!(cheque["category_source"], "default");
    let uncategorized = app.category_id(&user, "Uncategorized").await;
    assert_eq!(cheque["category_id"], json!(uncategorized));
    let first_row = &app
        .data(&user, "/api/v1/transactions?sort=date&per_page=1")
        .await[0];
    assert_eq!(first_row["status"], "pending");
    assert_eq!(first_row["import_id"], batch["id"]);
    assert_eq!(first_row["merchant"], "AT&T WIRELESS");
    assert_eq!(first_row["notes"], "AUTOPAY 0203");
    // Pending transactions count in the balance: 2500 - 42.17 - 118.40 - 1200.
    let wallet = app
        .data(&user, &format!("/api/v1/wallets/{checking}"))
        .await;
    assert_eq!(wallet["balance"], json!(1139.43));

    // The same file again, this time without naming the wallet: found by its account, and
    // every entry is a duplicate of what it created.
    let again = imported(&app, &user, "", "checking-sgml.ofx").await;
    assert_eq!(
        (again["created"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(4))
    );
    assert_eq!(again["status"], "completed");
    assert_eq!(rows(&app, &user, "").await.len(), 4);
    let ids: Vec<&Value> = batch["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["transaction_id"])
        .collect();
    let dup_ids: Vec<&Value> = again["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["transaction_id"])
        .collect();
    assert_eq!(ids, dup_ids, "a duplicate names the transaction it repeats");

    // Batches: listed newest first without reports; one by id with its report.
    let list = app.data(&user, "/api/v1/imports").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], again["id"]);
    assert!(list[0].get("report").is_none());
    let one = app
        .data(
            &user,
            &format!("/api/v1/imports/{}", batch["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(outcomes(&one), vec!["created"; 4]);
}

#[tokio::test]
async fn ofx_2_xml_qif_and_camt_files_round_trip_with_hand_checked_amounts() {
    let app = spawn_app().await;
    let user = app.register("formats@example.com").await;
    let card = app.create_wallet(&user, "Card", "USD").await;
    let giro = app.create_wallet(&user, "Girokonto", "EUR").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;

    let qfx = imported(
        &app,
        &user,
        &format!("?wallet_id={card}&auto_approve=true"),
        "card-v2.qfx",
    )
    .await;
    assert_eq!(
        (
            qfx["created"].as_i64(),
            qfx["pending"].as_i64(),
            qfx["status"].as_str()
        ),
        (Some(2), Some(0), Some("completed"))
    );
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={card}")).await,
        vec![
            row("2026-03-05", "expense", "15.99", "NETFLIX.COM"),
            row("2026-03-20", "income", "25", "REFUND OUTDOOR STORE"),
        ]
    );
    assert_eq!(
        app.data(
            &user,
            &format!("/api/v1/transactions?wallet_id={card}&status=cleared")
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        2
    );

    // CAMT.053: the batched credit is two entries (100 + 200), the pending entry none.
    let camt = imported(
        &app,
        &user,
        &format!("?wallet_id={giro}"),
        "statement.camt053.xml",
    )
    .await;
    assert_eq!(camt["format"], "camt053");
    assert_eq!(camt["account"], "DE89370400440532013000");
    assert_eq!(camt["created"], 3);
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={giro}")).await,
        vec![
            row("2026-03-04", "expense", "64.9", "Stadtwerke München GmbH"),
            row("2026-03-10", "income", "100", "Anna Schmidt"),
            row("2026-03-10", "income", "200", "Ben Weber"),
        ]
    );

    // QIF, day-first with decimal commas: two identical purchases on one day are both kept,
    // and the categories the file names are the user's.
    let qif = imported(
        &app,
        &user,
        &format!("?wallet_id={cash}"),
        "bank-dayfirst.qif",
    )
    .await;
    assert_eq!(qif["created"], 4, "{qif}");
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={cash}")).await,
        vec![
            row("2026-02-03", "expense", "64.3", "Corner Market"),
            row("2026-02-15", "expense", "9.8", "Bakery"),
            row("2026-02-15", "expense", "9.8", "Bakery"),
            row("2026-02-28", "income", "1850", "Employer GmbH"),
        ]
    );
    let groceries = app.category_id(&user, "Groceries").await;
    let report = qif["report"].as_array().unwrap();
    assert_eq!(report[0]["category_id"], json!(groceries));
    assert_eq!(report[0]["category_source"], "user");
    // No category named: a confident suggestion, the same for the same purchase.
    assert_ne!(report[1]["category_source"], "user");
    assert_eq!(report[1]["category_id"], report[2]["category_id"]);
    let again = imported(
        &app,
        &user,
        &format!("?wallet_id={cash}"),
        "bank-dayfirst.qif",
    )
    .await;
    assert_eq!(
        (again["created"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(4))
    );

    // A credit-card QIF with Quicken's `'` years and a category path.
    let visa = app.create_wallet(&user, "Visa", "USD").await;
    let batch = imported(
        &app,
        &user,
        &format!("?wallet_id={visa}&format=qif"),
        "visa.qif",
    )
    .await;
    assert_eq!(batch["account"], "Visa Rewards");
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={visa}")).await,
        vec![
            row("2026-03-04", "expense", "23.45", "SHELL OIL 5742"),
            row("2026-03-11", "expense", "7.25", "STARBUCKS"),
        ]
    );
    assert_eq!(
        batch["report"][0]["category_id"],
        json!(app.category_id(&user, "Fuel").await)
    );
}

#[tokio::test]
async fn the_same_movement_recorded_by_hand_is_held_back_and_never_counted_twice() {
    let app = spawn_app().await;
    let user = app.register("dupes@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let phone = app.category_id(&user, "Internet & Phone").await;
    let by_hand = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 42.17, "date": "2026-02-04", "description": "Phone bill",
                   "category_id": phone, "wallet_id": checking}),
        )
        .await;

    let batch = imported(
        &app,
        &user,
        &format!("?wallet_id={checking}"),
        "checking-sgml.ofx",
    )
    .await;
    assert_eq!(
        (
            batch["created"].as_i64(),
            batch["possible_duplicates"].as_i64()
        ),
        (Some(3), Some(1))
    );
    let held = &batch["report"][0];
    assert_eq!(held["outcome"], "possible_duplicate");
    assert_eq!(held["duplicate_of"], by_hand["id"]);
    assert_eq!(held["transaction_id"], Value::Null);
    // Spending of February counts the phone bill once: 42.17 + 118.40 + 1200.
    let summary = app
        .data(
            &user,
            "/api/v1/reports/summary?from=2026-02-01&to=2026-02-28",
        )
        .await;
    assert_eq!(summary["expense"], json!(1360.57), "{summary}");
}

/// And the other way round: a movement entered by hand after an import recorded it is 409
/// `possible_duplicate` naming the imported transaction, and stores nothing, unless the client
/// says it is another (`allow_duplicate`).
#[tokio::test]
async fn the_same_movement_entered_by_hand_after_an_import_is_flagged_not_doubled() {
    let app = spawn_app().await;
    let user = app.register("dupes@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let phone = app.category_id(&user, "Internet & Phone").await;
    let batch = imported(
        &app,
        &user,
        &format!("?wallet_id={checking}"),
        "checking-sgml.ofx",
    )
    .await;
    let entry = batch["report"]
        .as_array()
        .unwrap()
        .iter()
        // A number, as every amount of the API.
        .find(|r| r["amount"] == json!(-42.17))
        .expect("the phone bill's entry")
        .clone();
    let expense = |amount: f64, date: &str, extra: Value| {
        let mut body = json!({"type": "expense", "amount": amount, "date": date,
            "description": "Phone bill", "category_id": phone, "wallet_id": checking});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let february = || {
        app.data(
            &user,
            "/api/v1/reports/summary?from=2026-02-01&to=2026-02-28",
        )
    };
    let before = february().await["expense"].clone();

    // A day later, same wallet, type and amount: flagged, nothing stored.
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/transactions",
            &user.access_token,
            Some(&expense(42.17, "2026-02-05", json!({}))),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("possible_duplicate")),
        "{body}"
    );
    assert_eq!(
        body["errors"]["duplicate_of"],
        json!([entry["transaction_id"]])
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("allow_duplicate"),
        "{body}"
    );
    assert_eq!(february().await["expense"], before);

    // The client says it is another payment: recorded.
    app.create_transaction(
        &user,
        expense(42.17, "2026-02-05", json!({"allow_duplicate": true})),
    )
    .await;
    // Another amount, four days away, or money in: not alike.
    app.create_transaction(&user, expense(42.18, "2026-02-04", json!({})))
        .await;
    app.create_transaction(&user, expense(42.17, "2026-02-08", json!({})))
        .await;
    let salary = app.category_id(&user, "Salary").await;
    app.create_transaction(
        &user,
        json!({"type": "income", "amount": 42.17, "date": "2026-02-04", "description": "Refund",
               "category_id": salary, "wallet_id": checking}),
    )
    .await;
    // Another user's imports are not theirs to repeat.
    let other = app.register("other@example.com").await;
    let their_wallet = app.create_wallet(&other, "Checking", "USD").await;
    let their_phone = app.category_id(&other, "Internet & Phone").await;
    app.create_transaction(
        &other,
        json!({"type": "expense", "amount": 42.17, "date": "2026-02-04", "description": "Phone bill",
               "category_id": their_phone, "wallet_id": their_wallet}),
    )
    .await;
}

#[tokio::test]
async fn review_approves_and_rejects_all_or_nothing_and_undo_takes_a_pending_batch_back() {
    let app = spawn_app().await;
    let user = app.register("review@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let batch = imported(
        &app,
        &user,
        &format!("?wallet_id={checking}"),
        "checking-sgml.ofx",
    )
    .await;
    let ids: Vec<String> = batch["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["transaction_id"].as_str().unwrap().to_owned())
        .collect();
    let batch_path = format!("/api/v1/imports/{}", batch["id"].as_str().unwrap());

    // An unknown id spoils the whole request: nothing changes.
    let bad = app
        .send_as(
            Method::POST,
            "/api/v1/transactions/review",
            &user.access_token,
            Some(&json!({"approve": [ids[0]], "reject": [uuid::Uuid::new_v4()]})),
        )
        .await;
    assert_error(bad, 404, "not_found").await;
    let both = app
        .send_as(
            Method::POST,
            "/api/v1/transactions/review",
            &user.access_token,
            Some(&json!({"approve": [ids[0]], "reject": [ids[0]]})),
        )
        .await;
    assert_error(both, 422, "validation_failed").await;
    assert_eq!(
        app.data(&user, "/api/v1/transactions?status=pending")
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let done = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/transactions/review",
            json!({"approve": [ids[0], ids[2]], "reject": [ids[3]]}),
        )
        .await;
    assert_eq!(done, json!({"approved": 2, "rejected": 1, "transfers": 0}));
    let statuses: Vec<(String, String)> = app
        .data(&user, "/api/v1/transactions?sort=date")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["description"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("AT&T WIRELESS".to_owned(), "cleared".to_owned()),
            ("WHOLE FOODS MARKET #10234".to_owned(), "pending".to_owned()),
            ("ACME CORP PAYROLL".to_owned(), "cleared".to_owned()),
        ]
    );
    // Approving twice is not pending any more.
    let twice = app
        .send_as(
            Method::POST,
            "/api/v1/transactions/review",
            &user.access_token,
            Some(&json!({"approve": [ids[0]]})),
        )
        .await;
    assert_error(twice, 404, "not_found").await;
    // A batch with approved transactions cannot be undone.
    let undo = app
        .send_as(Method::DELETE, &batch_path, &user.access_token, None)
        .await;
    assert_error(undo, 409, "import_reviewed").await;
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/transactions/review",
        json!({"approve": [ids[1]]}),
    )
    .await;
    assert_eq!(app.data(&user, &batch_path).await["status"], "completed");

    // A fresh batch still pending is undone whole.
    let card = app.create_wallet(&user, "Card", "USD").await;
    let other = imported(&app, &user, &format!("?wallet_id={card}"), "card-v2.qfx").await;
    let other_path = format!("/api/v1/imports/{}", other["id"].as_str().unwrap());
    let undone = app
        .data_of(&user, Method::DELETE, &other_path, json!({}))
        .await;
    assert_eq!(undone["status"], "undone");
    assert_eq!(
        app.data(&user, &format!("/api/v1/transactions?wallet_id={card}"))
            .await,
        json!([])
    );
    assert_error(
        app.send_as(Method::DELETE, &other_path, &user.access_token, None)
            .await,
        409,
        "import_undone",
    )
    .await;
    // Undone, its entries may be imported again.
    let redo = imported(&app, &user, "", "card-v2.qfx").await;
    assert_eq!(redo["created"], 2);
}

#[tokio::test]
async fn bad_and_hostile_files_are_refused_whole_and_store_nothing() {
    let app = spawn_app().await;
    let user = app.register("hostile@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let euros = app.create_wallet(&user, "Euros", "EUR").await;
    let query = format!("?wallet_id={checking}");
    let transactions_before = app.scalar("SELECT count(*) AS value FROM transactions");

    let sgml = String::from_utf8(fixture("checking-sgml.ofx")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a bad amount", sgml.replace("<TRNAMT>-118.40", "<TRNAMT>lots").into_bytes(), "<STMTTRN> at line 52"),
        ("an unclosed entry", sgml.replace("</STMTTRN>\r\n</BANKTRANLIST>", "\r\n</BANKTRANLIST>").into_bytes(), "line 67"),
        ("a bad QIF date", b"!Type:Bank\nD13/45/2026\nT-1\n^\n".to_vec(), "line 2"),
        (
            "an amount too large to store",
            sgml.replace("<TRNAMT>-118.40", "<TRNAMT>12345678901234567890").into_bytes(),
            "<STMTTRN> at line 52: TRNAMT `12345678901234567890` is too large",
        ),
        (
            "a QIF file of two accounts",
            b"!Account\nNChecking\n^\n!Type:Bank\nD02/03/2026\nT-1\n^\n!Account\nNSavings\n^\n!Type:Bank\nD02/03/2026\nT-2\n^\n".to_vec(),
            "file: the file holds statements of 2 accounts",
        ),
        (
            "billion laughs",
            br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&lol2;</BkToCstmrStmt></Document>"#.to_vec(),
            "line 1",
        ),
        (
            "an external entity",
            br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&xxe;</Document>"#.to_vec(),
            "line 1",
        ),
        ("no transactions", b"!Type:Bank\n".to_vec(), "file"),
        ("not a statement", b"\x89PNG\r\n\x1a\n".to_vec(), ""),
    ];
    for (what, body, at) in cases {
        let response = upload(&app, &user, &query, "application/octet-stream", body).await;
        let body = assert_error(response, 422, "validation_failed").await;
        let details = &body["errors"];
        let message = details["file"][0]
            .as_str()
            .or(details["format"][0].as_str())
            .unwrap_or_default();
        assert!(message.starts_with(at), "{what}: {body}");
    }
    // The statement's currency must be the wallet's.
    let camt = upload(
        &app,
        &user,
        &query,
        "application/xml",
        fixture("statement.camt053.xml"),
    )
    .await;
    let body = assert_error(camt, 422, "validation_failed").await;
    assert!(body.to_string().contains("EUR"), "{body}");
    // A wallet linked to one account does not take another's statement.
    imported(
        &app,
        &user,
        &format!("?wallet_id={euros}"),
        "statement.camt053.xml",
    )
    .await;
    let other = upload(
        &app,
        &user,
        &format!("?wallet_id={euros}"),
        "application/xml",
        String::from_utf8(fixture("statement.camt053.xml"))
            .unwrap()
            .replace("DE89370400440532013000", "DE02120300000000202051")
            .into_bytes(),
    )
    .await;
    assert_error(other, 422, "validation_failed").await;

    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transactions"),
        transactions_before + 3
    );
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM import_batches"),
        1,
        "a refused file leaves no batch"
    );
    // Over the size limit.
    let huge = upload(
        &app,
        &user,
        &query,
        "application/octet-stream",
        vec![b' '; 33 * 1024 * 1024],
    )
    .await;
    assert_error(huge, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_csv_file_through_imports_is_a_batch_of_pending_rows() {
    let app = spawn_app().await;
    let user = app.register("csvbatch@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let csv = "date,amount,description,category\n2026-03-01,-3.50,Coffee,Cafe\n2026-03-02,-9,Nope,Unicorns\n";
    let (status, body) = json(
        upload(
            &app,
            &user,
            &format!("?wallet_id={cash}"),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let batch = &body["data"];
    assert_eq!(
        (
            batch["format"].as_str(),
            batch["created"].as_i64(),
            batch["failed"].as_i64()
        ),
        (Some("csv"), Some(1), Some(1))
    );
    let failed: Vec<&Value> = batch["report"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .collect();
    assert_eq!(failed[0]["line"], 3, "{batch}");
    assert_eq!(batch["status"], "pending");
    let pending = app.data(&user, "/api/v1/transactions?status=pending").await;
    assert_eq!(pending[0]["import_id"], batch["id"]);
    // The line created is reported with its transaction, as a statement's lines are.
    let created = batch["report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "created")
        .expect("the created line in the report");
    assert_eq!(created["transaction_id"], pending[0]["id"], "{batch}");
    // Again: the line is a duplicate of that transaction, and says so.
    let (status, again) = json(
        upload(
            &app,
            &user,
            &format!("?wallet_id={cash}"),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{again}");
    let repeated = &again["data"]["report"][0];
    assert_eq!(
        (repeated["line"].clone(), repeated["outcome"].clone()),
        (json!(2), json!("duplicate")),
        "{again}"
    );
    assert_eq!(repeated["transaction_id"], pending[0]["id"], "{again}");
}

#[tokio::test]
async fn another_users_batches_wallets_and_pending_rows_are_out_of_reach() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let intruder = app.register("intruder@example.com").await;
    let checking = app.create_wallet(&owner, "Checking", "USD").await;
    let batch = imported(
        &app,
        &owner,
        &format!("?wallet_id={checking}"),
        "checking-sgml.ofx",
    )
    .await;
    let path = format!("/api/v1/imports/{}", batch["id"].as_str().unwrap());
    let pending = batch["report"][0]["transaction_id"].clone();
    let before = app.fingerprint();

    assert_error(
        app.get_as(&path, &intruder.access_token).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.send_as(Method::DELETE, &path, &intruder.access_token, None)
            .await,
        404,
        "not_found",
    )
    .await;
    for review in [json!({"approve": [pending]}), json!({"reject": [pending]})] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/transactions/review",
                &intruder.access_token,
                Some(&review),
            )
            .await;
        assert_error(response, 404, "not_found").await;
    }
    // Into the owner's wallet, or by the owner's linked account: not found / not linked.
    let into = upload(
        &app,
        &intruder,
        &format!("?wallet_id={checking}"),
        "application/x-ofx",
        fixture("checking-sgml.ofx"),
    )
    .await;
    assert_error(into, 404, "not_found").await;
    let by_account = upload(
        &app,
        &intruder,
        "",
        "application/x-ofx",
        fixture("checking-sgml.ofx"),
    )
    .await;
    assert_error(by_account, 422, "validation_failed").await;
    assert_eq!(app.data(&intruder, "/api/v1/imports").await, json!([]));
    let filtered = app
        .get_as(
            &format!(
                "/api/v1/transactions?import_id={}",
                batch["id"].as_str().unwrap()
            ),
            &intruder.access_token,
        )
        .await;
    assert_error(filtered, 404, "not_found").await;
    assert_eq!(app.fingerprint(), before, "nothing of the owner's changed");
}

#[tokio::test]
async fn an_outflow_and_an_inflow_of_two_wallets_become_one_transfer_on_approval() {
    let app = spawn_app().await;
    let user = app.register("transfers@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let qif = |body: &str| format!("!Type:Bank\n{body}").into_bytes();
    let out = upload(&app, &user, &format!("?wallet_id={checking}"), "application/qif",
        qif("D02/10/2026\nT-500.00\nPOnline transfer to savings\n^\nD02/11/2026\nT-60.00\nPGas station\n^\n")).await;
    let (status, out) = json(out).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(
        out["data"]["report"][0]["transfer_match"],
        Value::Null,
        "nothing to match yet"
    );
    let inflow = upload(
        &app,
        &user,
        &format!("?wallet_id={savings}"),
        "application/qif",
        qif("D02/12/2026\nT500.00\nPTransfer from checking\n^\nD02/12/2026\nT60.00\nPRefund\n^\n"),
    )
    .await;
    let (status, inflow) = json(inflow).await;
    assert_eq!(status, 201, "{inflow}");
    let (outflow_id, inflow_id) = (
        &out["data"]["report"][0]["transaction_id"],
        &inflow["data"]["report"][0]["transaction_id"],
    );
    // 500 out and 500 in, two days apart, match; the 60s do too (a refund the same size as a
    // purchase in another wallet is matched: the review shows it and the user decides).
    assert_eq!(&inflow["data"]["report"][0]["transfer_match"], outflow_id);
    let pending = app
        .data(&user, "/api/v1/transactions?status=pending&sort=date")
        .await;
    let outflow_row = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|r| &r["id"] == outflow_id)
        .unwrap();
    assert_eq!(&outflow_row["transfer_match_id"], inflow_id);

    // Approving the inflow alone applies the pair; the 60s are rejected on one side.
    let refund_id = &inflow["data"]["report"][1]["transaction_id"];
    let gas_id = &out["data"]["report"][1]["transaction_id"];
    let done = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/transactions/review",
            json!({"approve": [inflow_id, gas_id], "reject": [refund_id]}),
        )
        .await;
    assert_eq!(done, json!({"approved": 2, "rejected": 1, "transfers": 1}));
    let rows = app.data(&user, "/api/v1/transactions?sort=date").await;
    let rows: Vec<(String, String, String, String, Value)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().into(),
                r["amount"].to_string(),
                r["status"].as_str().unwrap().into(),
                r["date"].as_str().unwrap().into(),
                r["to_wallet_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "transfer".into(),
                "500".into(),
                "cleared".into(),
                "2026-02-10".into(),
                json!(savings)
            ),
            (
                "expense".into(),
                "60".into(),
                "cleared".into(),
                "2026-02-11".into(),
                Value::Null
            ),
        ]
    );
    let gas = app
        .data(
            &user,
            &format!("/api/v1/transactions/{}", gas_id.as_str().unwrap()),
        )
        .await;
    assert_eq!(
        gas["transfer_match_id"],
        Value::Null,
        "its partner was rejected: no match left"
    );
    let balance = |id: String| {
        let app = &app;
        let user = &user;
        async move { app.data(user, &format!("/api/v1/wallets/{id}")).await["balance"].clone() }
    };
    assert_eq!(balance(checking).await, json!(-560));
    assert_eq!(balance(savings.clone()).await, json!(500));
    assert_eq!(
        app.data(&user, "/api/v1/transactions?status=pending").await,
        json!([])
    );

    // The inflow's batch cannot be undone: its row is in the approved transfer (it answered
    // `undone` and left the transfer and its money).
    let undo = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/imports/{}", inflow["data"]["id"].as_str().unwrap()),
            &user.access_token,
            None,
        )
        .await;
    assert_error(undo, 409, "import_reviewed").await;

    // The inflow's statement again: its 500 is the transfer (the inflow row went, its key
    // stayed with the transfer), not new money.
    let again = upload(
        &app,
        &user,
        &format!("?wallet_id={savings}"),
        "application/qif",
        qif("D02/12/2026\nT500.00\nPTransfer from checking\n^\n"),
    )
    .await;
    let (status, again) = json(again).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        again["data"]["report"][0]["outcome"], "duplicate",
        "{again}"
    );
    assert_eq!(&again["data"]["report"][0]["transaction_id"], outflow_id);
    assert_eq!(balance(savings).await, json!(500));
}

/// Files written by other programs' own writers (`scripts/fixtures/make_statements.py`):
/// ofxtools' OFX 1.02 SGML and quiffen's QIF.
#[tokio::test]
async fn files_written_by_ofxtools_and_quiffen_import_as_written() {
    let app = spawn_app().await;
    let user = app.register("writers@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let card = app.create_wallet(&user, "Visa", "USD").await;

    let ofx = imported(
        &app,
        &user,
        &format!("?wallet_id={checking}&auto_approve=true"),
        "ofxtools-checking.ofx",
    )
    .await;
    assert_eq!(
        (ofx["account"].as_str(), ofx["created"].as_i64()),
        (Some("555000123"), Some(3))
    );
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={checking}")).await,
        vec![
            row("2026-04-02", "expense", "23.4", "PIZZA PLACE"),
            row("2026-04-05", "expense", "89.99", "CITY POWER & LIGHT"),
            row("2026-04-15", "income", "1500", "EMPLOYER INC"),
        ]
    );
    let ids: Vec<&Value> = ofx["report"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["external_id"])
        .collect();
    assert_eq!(
        ids,
        [
            &json!("OT-0402-1"),
            &json!("OT-0405-1"),
            &json!("OT-0415-1")
        ]
    );

    let qif = imported(
        &app,
        &user,
        &format!("?wallet_id={card}"),
        "quiffen-card.qif",
    )
    .await;
    assert_eq!(
        (qif["account"].as_str(), qif["created"].as_i64()),
        (Some("Quiffen Visa"), Some(3))
    );
    assert_eq!(
        rows(&app, &user, &format!("&wallet_id={card}")).await,
        vec![
            row("2026-04-03", "expense", "12.75", "Noodle Bar"),
            row("2026-04-09", "expense", "42", "Fuel Stop"),
            row("2026-04-20", "income", "15", "Refund Noodle Bar"),
        ]
    );
    let report = qif["report"].as_array().unwrap();
    assert_eq!(
        report[0]["category_id"],
        json!(app.category_id(&user, "Restaurants").await)
    );
    assert_eq!(
        report[1]["category_id"],
        json!(app.category_id(&user, "Fuel").await)
    );
}

#[tokio::test]
async fn an_xlsx_workbook_saved_by_libreoffice_imports_with_hand_checked_amounts() {
    let app = spawn_app().await;
    let user = app.register("libreoffice@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    app.create_wallet(&user, "Checking", "USD").await;
    // scripts/fixtures/make_xlsx.sh: LibreOffice Calc's own xlsx, typed date and number cells.
    let batch = imported(&app, &user, "", "libreoffice-template.xlsx").await;
    assert_eq!(batch["format"], "xlsx");
    assert_eq!(
        (
            batch["created"].as_i64(),
            batch["failed"].as_i64(),
            batch["entries"].as_i64()
        ),
        (Some(5), Some(1), Some(6)),
        "{batch}"
    );
    let report = batch["report"].as_array().unwrap();
    assert_eq!(report.len(), 6, "every line is reported: {batch}");
    let failed = report
        .iter()
        .find(|r| r["outcome"] == "failed")
        .expect("the failed line");
    assert_eq!(failed["line"].as_i64(), Some(7));
    assert_eq!(
        rows(&app, &user, "").await,
        vec![
            row("2026-04-01", "expense", "12.5", "Phở bò"),
            row("2026-04-02", "income", "2500", "Salary April"),
            row("2026-04-03", "expense", "1234.56", "Laptop"),
            row("2026-04-03", "transfer", "200", "ATM withdrawal"),
            row("2026-04-05", "expense", "80", "Party supplies"),
        ]
    );
    let party = app
        .data(
            &user,
            &format!("/api/v1/transactions?wallet_id={cash}&q=Party"),
        )
        .await;
    assert_eq!(party[0]["splits"].as_array().map(Vec::len), Some(2));
    // The same workbook again creates nothing.
    let again = imported(&app, &user, "", "libreoffice-template.xlsx").await;
    assert_eq!(
        (again["created"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(5))
    );
}

#[tokio::test]
async fn an_xlsx_zip_bomb_and_a_workbook_of_too_many_rows_are_refused_and_store_nothing() {
    use std::io::Write;
    let app = spawn_app().await;
    let user = app.register("xlsxbomb@example.com").await;
    app.create_wallet(&user, "Cash", "USD").await;

    // 300 MiB of zeros in one part: about 300 KiB on the wire.
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("xl/sharedStrings.xml", options).unwrap();
    let block = vec![0u8; 1024 * 1024];
    for _ in 0..300 {
        writer.write_all(&block).unwrap();
    }
    let bomb = writer.finish().unwrap().into_inner();
    let body = assert_error(
        upload(
            &app,
            &user,
            "?background=false",
            "application/octet-stream",
            bomb,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["errors"]["file"][0]
            .as_str()
            .unwrap()
            .contains("zip bomb"),
        "{body}"
    );

    // 200,002 rows (Excel's limit is 1,048,576): refused at the limit, row named.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().unwrap();
    sheet.write_string(0, 0, "date").unwrap();
    sheet.write_string(0, 1, "amount").unwrap();
    sheet.write_string(0, 2, "description").unwrap();
    for row in 1..200_002u32 {
        sheet.write_number(row, 1, 1.0).unwrap();
    }
    let big = workbook.save_to_buffer().unwrap();
    let body = assert_error(
        upload(
            &app,
            &user,
            "?background=false",
            "application/octet-stream",
            big,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["errors"]["file"][0]
            .as_str()
            .unwrap()
            .contains("more than 200001 rows"),
        "{body}"
    );
    assert_eq!(app.data(&user, "/api/v1/imports").await, json!([]));
    assert_eq!(app.data(&user, "/api/v1/transactions").await, json!([]));
}

#[tokio::test]
async fn a_form_retried_with_a_new_boundary_is_the_same_request() {
    let app = spawn_app().await;
    let user = app.register("retry@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    // Each send of a form draws its own boundary: the retry is still the first request.
    let mut answers = Vec::new();
    for boundary in ["----form-first-9f2a", "----form-retry-71c0"] {
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"checking.ofx\"\r\n\
             Content-Type: application/x-ofx\r\n\r\n"
        )
        .into_bytes();
        form.extend_from_slice(&fixture("checking-sgml.ofx"));
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = app
            .request(
                Method::POST,
                &format!("/api/v1/imports?wallet_id={checking}"),
            )
            .bearer_auth(&user.access_token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("idempotency-key", "upload-1")
            .body(form)
            .send()
            .await
            .unwrap();
        let replayed = response.headers().get("idempotent-replayed").cloned();
        let (status, body) = json(response).await;
        answers.push((status, replayed, body["data"]["id"].clone()));
    }
    assert_eq!(answers[0].0, 201, "{answers:?}");
    assert_eq!(answers[1].0, 201, "{answers:?}");
    assert_eq!(
        answers[1].1.as_ref().map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(answers[0].2, answers[1].2);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM import_batches"),
        1
    );
}

#[tokio::test]
async fn a_browser_form_upload_of_the_file_imports_like_the_body() {
    let app = spawn_app().await;
    let user = app.register("multipart@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let boundary = "----finai-form-7MA4YWxkTrZu0gW";
    let mut form = Vec::new();
    // A text field before the file is read past; the file part is found by its name.
    form.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nmonthly\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"checking.ofx\"\r\n\
             Content-Type: application/x-ofx\r\n\r\n"
        )
        .as_bytes(),
    );
    form.extend_from_slice(&fixture("checking-sgml.ofx"));
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (status, body) = json(
        upload(
            &app,
            &user,
            &format!("?wallet_id={checking}"),
            &format!("multipart/form-data; boundary={boundary}"),
            form,
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (
            body["data"]["format"].as_str(),
            body["data"]["created"].as_i64()
        ),
        (Some("ofx"), Some(4))
    );
    // A form without a file part names what is missing.
    let empty = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--{boundary}--\r\n"
    );
    let body = assert_error(
        upload(
            &app,
            &user,
            "",
            &format!("multipart/form-data; boundary={boundary}"),
            empty.into_bytes(),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["errors"]["file"].is_array(), "{body}");
}

/// A bank QIF of `entries` expenses (payees `Payee 0`, `Payee 1`...) and the cents they sum to.
fn qif_of(entries: usize) -> (Vec<u8>, i64) {
    let mut text = String::from("!Type:Bank\n");
    let mut cents = 0;
    for i in 0..entries {
        let (month, day) = (i / 28 % 12 + 1, i % 28 + 1);
        let (units, hundredths) = (i % 90 + 1, i % 100);
        cents += (units * 100 + hundredths) as i64;
        text += &format!("D{month:02}/{day:02}/2025\nT-{units}.{hundredths:02}\nPPayee {i}\n^\n");
    }
    (text.into_bytes(), cents)
}

/// Waits (a minute at most) until a background batch of the user's own ledger has ended;
/// returns it.
async fn settled(app: &TestApp, user: &TestUser, id: &str) -> Value {
    settled_at(app, user, &format!("/api/v1/imports/{id}")).await
}

/// Waits (a minute at most) until the background batch at `path` has ended; returns it.
async fn settled_at(app: &TestApp, user: &TestUser, path: &str) -> Value {
    for _ in 0..600 {
        let batch = app.data(user, path).await;
        if !matches!(batch["status"].as_str(), Some("queued" | "processing")) {
            return batch;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} still running after a minute");
}

/// The 202 answer of a file sent to the background: the batch, `queued`.
async fn queued(app: &TestApp, user: &TestUser, query: &str, body: Vec<u8>) -> Value {
    let response = upload(app, user, query, "application/octet-stream", body).await;
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json(response).await;
    assert_eq!(status, 202, "{query}: {body}");
    let batch = body["data"].clone();
    assert_eq!(batch["status"], "queued", "{batch}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/imports/{}", batch["id"].as_str().unwrap()).as_str())
    );
    batch
}

#[tokio::test]
async fn a_large_file_is_imported_in_the_background_and_its_end_announced() {
    let app = spawn_app_with(|settings| settings.import_background_bytes = 4096).await;
    let alice = app.register("bigfile@example.com").await;
    let bob = app.register("bigfile-other@example.com").await;
    let wallet = app.create_wallet(&alice, "Checking", "USD").await;
    let (file, cents) = qif_of(300);
    assert!(file.len() > 4096);

    // Over the size: 202 at once, then the same import as a request's.
    let batch = queued(&app, &alice, &format!("?wallet_id={wallet}"), file.clone()).await;
    assert_eq!(batch["progress"], json!({"entries": 0, "stored": 0}));
    assert!(batch.get("report").is_none(), "{batch}");
    let id = batch["id"].as_str().unwrap().to_owned();
    // Another user's batch does not exist for them, to read or to cancel.
    assert_error(
        app.get_as(&format!("/api/v1/imports/{id}"), &bob.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/imports/{id}"),
            &bob.access_token,
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let done = settled(&app, &alice, &id).await;
    assert_eq!(done["status"], "pending", "{done}");
    assert_eq!(
        (done["entries"].as_i64(), done["created"].as_i64()),
        (Some(300), Some(300))
    );
    assert_eq!(done["report"].as_array().unwrap().len(), 300);
    assert_eq!(done["wallet_id"], json!(wallet));
    assert_eq!(done["period_start"], "2025-01-01");
    assert!(
        done["finished_at"].is_string() && done.get("progress").is_none(),
        "{done}"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT (-sum(amount) * 100)::bigint AS value FROM transactions \
             WHERE import_batch_id = '{id}' AND type = 'expense'"
        )),
        -cents
    );
    assert_eq!(
        app.data(
            &alice,
            &format!("/api/v1/transactions?import_id={id}&per_page=1")
        )
        .await
        .as_array()
        .unwrap()
        .len(),
        1
    );
    // Its end is announced once, as the event stream's `import_finished`.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM events WHERE type = 'import_finished' \
             AND payload->>'import_id' = '{id}' AND payload->>'status' = 'pending' \
             AND (payload->>'created')::int = 300"
        )),
        1
    );
    // The queued file is let go and swept from the store.
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM import_batches WHERE sha256 IS NOT NULL"),
        0
    );
    let store = app.data_dir.join("files");
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = walkdir_files(&store);
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the imported file is still stored");

    // A large report is read a page at a time, or left out.
    let (status, page) = json(
        app.get_as(
            &format!("/api/v1/imports/{id}/entries?page=2&per_page=2"),
            &alice.access_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["meta"]["total_items"], 300);
    let lines: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            done["report"][2]["line"].as_i64().unwrap(),
            done["report"][3]["line"].as_i64().unwrap()
        ]
    );
    assert_eq!(page["data"][0]["payee"], "Payee 2");
    assert_eq!(page["data"][0]["amount"], json!(-3.02));
    let failed = app
        .get_as(
            &format!("/api/v1/imports/{id}/entries?outcome=failed"),
            &alice.access_token,
        )
        .await;
    let (_, failed) = json(failed).await;
    assert_eq!(
        (
            failed["data"].clone(),
            failed["meta"]["total_items"].clone()
        ),
        (json!([]), json!(0))
    );
    assert_error(
        app.get_as(
            &format!("/api/v1/imports/{id}/entries?outcome=lost"),
            &alice.access_token,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/v1/imports/{id}/entries"), &bob.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
    let bare = app
        .data(&alice, &format!("/api/v1/imports/{id}?report=false"))
        .await;
    assert!(
        bare.get("report").is_none() && bare["created"] == 300,
        "{bare}"
    );

    // The same file within the request (`background=false`) creates nothing more.
    let again = upload(
        &app,
        &alice,
        &format!("?wallet_id={wallet}&background=false"),
        "application/octet-stream",
        file,
    )
    .await;
    let (status, again) = json(again).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["data"]["duplicates"], 300);
}

/// Files under a directory, at any depth.
fn walkdir_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walkdir_files(&path)
            } else {
                1
            }
        })
        .sum()
}

#[tokio::test]
async fn a_background_import_that_fails_keeps_the_reason_and_stores_nothing() {
    let app = spawn_app().await;
    let user = app.register("bgfail@example.com").await;
    let wallet = app.create_wallet(&user, "Checking", "USD").await;

    // Malformed: the line at fault, as a request would have been told.
    let batch = queued(
        &app,
        &user,
        &format!("?wallet_id={wallet}&background=true"),
        b"!Type:Bank\nD02/03/2026\nT-1\n^\nD13/45/2026\nT-1\n^\n".to_vec(),
    )
    .await;
    let failed = settled(&app, &user, batch["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["field"], "file");
    assert!(
        failed["failure"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 5"),
        "{failed}"
    );
    assert_eq!(failed["created"], 0);
    // Its report has no entries: nothing of the file was kept.
    let id = failed["id"].as_str().unwrap();
    assert_eq!(
        app.data(&user, &format!("/api/v1/imports/{id}/entries"))
            .await,
        json!([])
    );

    // An account no wallet is linked to, and no wallet named.
    let batch = queued(
        &app,
        &user,
        "?background=true",
        fixture("checking-sgml.ofx"),
    )
    .await;
    let failed = settled(&app, &user, batch["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["field"], "wallet_id", "{failed}");

    // A wallet that is not the ledger's is refused before anything is queued.
    assert_error(
        upload(
            &app,
            &user,
            &format!("?wallet_id={}&background=true", uuid::Uuid::new_v4()),
            "application/octet-stream",
            fixture("visa.qif"),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
    assert_eq!(
        app.scalar(
            "SELECT count(*) AS value FROM events WHERE type = 'import_finished' \
             AND payload->>'status' = 'failed' AND payload->>'failure' IS NOT NULL"
        ),
        2
    );
    // Failed batches can be dismissed.
    let id = batch["id"].as_str().unwrap();
    let undone = app
        .data_of(
            &user,
            Method::DELETE,
            &format!("/api/v1/imports/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(undone["status"], "undone");
}

/// A connection holding a ledger's write lock, as a writer of the ledger does, until dropped.
fn hold_ledger(app: &TestApp, ledger: &str) -> diesel::PgConnection {
    use diesel::{Connection, RunQueryDsl};
    let mut holder = app.db.connect();
    holder
        .begin_test_transaction()
        .expect("a transaction that holds the ledger");
    diesel::sql_query(format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('finai-sync:' || '{ledger}', 0))"
    ))
    .execute(&mut holder)
    .unwrap();
    holder
}

#[tokio::test]
async fn a_queued_import_is_cancelled_and_a_running_one_is_not_undone_midway() {
    let app = spawn_app().await;
    let user = app.register("bgcancel@example.com").await;
    let wallet = app.create_wallet(&user, "Checking", "USD").await;
    let query = format!("?wallet_id={wallet}&background=true");

    // Another writer holds the ledger: the one reader takes the first file and waits for it.
    let holder = hold_ledger(&app, &user.id);
    let first = queued(&app, &user, &query, qif_of(20).0).await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let mut running = Value::Null;
    for _ in 0..200 {
        running = app
            .data(&user, &format!("/api/v1/imports/{first_id}"))
            .await;
        if running["status"] == "processing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(running["status"], "processing", "{running}");
    assert!(running["progress"].is_object(), "{running}");

    // The next wait in the queue, five files of a ledger at most (one file may be queued
    // several times; it is stored once), and can be cancelled there.
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let batch = queued(&app, &user, &query, fixture("visa.qif")).await;
        waiting.push(batch["id"].as_str().unwrap().to_owned());
    }
    assert_error(
        upload(
            &app,
            &user,
            &query,
            "application/octet-stream",
            fixture("visa.qif"),
        )
        .await,
        429,
        "import_queue_full",
    )
    .await;
    let second_id = waiting.remove(0);
    assert_error(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/imports/{first_id}"),
            &user.access_token,
            None,
        )
        .await,
        409,
        "import_running",
    )
    .await;
    let cancelled = app
        .data_of(
            &user,
            Method::DELETE,
            &format!("/api/v1/imports/{second_id}"),
            json!({}),
        )
        .await;
    assert_eq!(cancelled["status"], "undone");

    // The ledger let go, the first ends as any import; the cancelled one never runs.
    drop(holder);
    let done = settled(&app, &user, &first_id).await;
    assert_eq!(
        (done["status"].as_str(), done["created"].as_i64()),
        (Some("pending"), Some(20))
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let still = app
        .data(&user, &format!("/api/v1/imports/{second_id}"))
        .await;
    assert_eq!(
        (still["status"].as_str(), still["created"].as_i64()),
        (Some("undone"), Some(0))
    );
    // The same file queued three more times: imported once, then twice nothing new.
    let mut created = Vec::new();
    for id in &waiting {
        created.push(settled(&app, &user, id).await["created"].as_i64().unwrap());
    }
    assert_eq!(created, vec![2, 0, 0]);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 22);
}

#[tokio::test]
async fn a_file_queued_by_a_member_removed_before_it_runs_fails_and_stores_nothing() {
    let app = spawn_app().await;
    let owner = app.register("bgowner@example.com").await;
    let editor = app.register("bgeditor@example.com").await;
    let ledger = crate::ledgers::create_ledger(&app, &owner, "household").await;
    crate::ledgers::join(&app, &owner, &ledger, &editor, "editor").await;
    let base = format!("/api/v1/ledgers/{ledger}");
    let joint = app
        .data_of(
            &owner,
            Method::POST,
            &format!("{base}/wallets"),
            json!({"name": "Joint account", "type": "bank"}),
        )
        .await;

    // The one reader is busy with the owner's own file, held by a writer of that ledger.
    let own_wallet = app.create_wallet(&owner, "Own", "USD").await;
    let holder = hold_ledger(&app, &owner.id);
    let busy = queued(
        &app,
        &owner,
        &format!("?wallet_id={own_wallet}&background=true"),
        fixture("visa.qif"),
    )
    .await;
    // The editor's file waits in the shared ledger's queue; the editor is then removed.
    let response = app
        .request(
            Method::POST,
            &format!(
                "{base}/imports?background=true&wallet_id={}",
                joint["id"].as_str().unwrap()
            ),
        )
        .bearer_auth(&editor.access_token)
        .header("content-type", "application/qif")
        .body("!Type:Bank\nD03/02/2026\nT-64000\nPMarket\n^\n")
        .send()
        .await
        .unwrap();
    let (status, queued_by_editor) = json(response).await;
    assert_eq!(status, 202, "{queued_by_editor}");
    let id = queued_by_editor["data"]["id"].as_str().unwrap().to_owned();
    app.data_of(
        &owner,
        Method::DELETE,
        &format!("{base}/members/{}", editor.id),
        json!({}),
    )
    .await;
    drop(holder);

    settled(&app, &owner, busy["id"].as_str().unwrap()).await;
    let batch = settled_at(&app, &owner, &format!("{base}/imports/{id}")).await;
    assert_eq!(batch["status"], "failed", "{batch}");
    assert!(
        batch["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("can no longer write"),
        "{batch}"
    );
    assert_eq!(
        app.data(&owner, &format!("{base}/transactions")).await,
        json!([])
    );
}

/// An OFX 1.x statement of one account: `(date, amount, bank id, payee)` per entry.
fn ofx(account: &str, entries: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let mut body = format!(
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX><BANKMSGSRSV1><STMTTRNRS>\
         <STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>{account}<ACCTTYPE>CHECKING</BANKACCTFROM>\
         <BANKTRANLIST>\r\n"
    );
    for (date, amount, id, payee) in entries {
        body.push_str(&format!(
            "<STMTTRN><TRNTYPE>OTHER<DTPOSTED>{date}<TRNAMT>{amount}<FITID>{id}<NAME>{payee}\
             </STMTTRN>\r\n"
        ));
    }
    body.push_str("</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n");
    body.into_bytes()
}

async fn import_ofx(
    app: &TestApp,
    user: &TestUser,
    wallet: &str,
    account: &str,
    entries: &[(&str, &str, &str, &str)],
) -> Value {
    let response = upload(
        app,
        user,
        &format!("?wallet_id={wallet}"),
        "application/x-ofx",
        ofx(account, entries),
    );
    let (status, body) = json(response.await).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

/// The id of the transaction a batch's `i`-th entry created.
fn created_id(batch: &Value, i: usize) -> String {
    batch["report"][i]["transaction_id"]
        .as_str()
        .unwrap_or_else(|| panic!("entry {i} created nothing: {batch}"))
        .to_owned()
}

async fn balance(app: &TestApp, user: &TestUser, wallet: &str) -> Value {
    app.data(user, &format!("/api/v1/wallets/{wallet}")).await["balance"].clone()
}

async fn patched(app: &TestApp, user: &TestUser, id: &str, body: Value) -> Value {
    app.data_of(
        user,
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        body,
    )
    .await
}

#[tokio::test]
async fn a_matched_half_edited_moved_or_in_an_archived_wallet_is_approved_as_it_stands() {
    let app = spawn_app().await;
    let user = app.register("edited-pairs@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let brokerage = app.create_wallet(&user, "Brokerage", "USD").await;
    let out = import_ofx(
        &app,
        &user,
        &checking,
        "111",
        &[
            ("20260302", "-100.00", "C1", "ONLINE TRANSFER"),
            ("20260309", "-200.00", "C2", "ONLINE TRANSFER"),
            ("20260316", "-300.00", "C3", "ONLINE TRANSFER"),
            ("20260323", "-400.00", "C4", "ONLINE TRANSFER"),
        ],
    )
    .await;
    let inflow = import_ofx(
        &app,
        &user,
        &savings,
        "222",
        &[
            ("20260303", "100.00", "S1", "FROM CHECKING"),
            ("20260310", "200.00", "S2", "FROM CHECKING"),
            ("20260317", "300.00", "S3", "FROM CHECKING"),
        ],
    )
    .await;
    let into_brokerage = import_ofx(
        &app,
        &user,
        &brokerage,
        "333",
        &[("20260324", "400.00", "B1", "FROM CHECKING")],
    )
    .await;
    for i in 0..3 {
        assert_eq!(
            inflow["report"][i]["transfer_match"],
            json!(created_id(&out, i))
        );
    }
    assert_eq!(
        into_brokerage["report"][0]["transfer_match"],
        json!(created_id(&out, 3))
    );

    // The user corrects the first inflow to 90, moves the second months later and the third
    // into checking itself: each edit of the movement ends the match, on both halves.
    let corrected = patched(&app, &user, &created_id(&inflow, 0), json!({"amount": 90})).await;
    assert_eq!(corrected["transfer_match_id"], Value::Null, "{corrected}");
    patched(
        &app,
        &user,
        &created_id(&inflow, 1),
        json!({"date": "2026-07-10"}),
    )
    .await;
    patched(
        &app,
        &user,
        &created_id(&inflow, 2),
        json!({"wallet_id": checking}),
    )
    .await;
    for i in 0..3 {
        let outflow = app
            .data(
                &user,
                &format!("/api/v1/transactions/{}", created_id(&out, i)),
            )
            .await;
        assert_eq!(outflow["transfer_match_id"], Value::Null, "{outflow}");
    }
    // The fourth pair is still matched, but its inflow's wallet is archived now: no transfer
    // may go into it, so the outflow is approved alone.
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/wallets/{brokerage}"),
            &user.access_token,
            Some(&json!({"archived": true})),
        )
        .await;
    assert_eq!(response.status(), 200);

    let outflows: Vec<String> = (0..4).map(|i| created_id(&out, i)).collect();
    let done = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/transactions/review",
            json!({"approve": outflows, "reject": []}),
        )
        .await;
    assert_eq!(done, json!({"approved": 4, "rejected": 0, "transfers": 0}));
    assert_eq!(
        rows(&app, &user, "").await,
        vec![
            row("2026-03-02", "expense", "100", "ONLINE TRANSFER"),
            row("2026-03-03", "income", "90", "FROM CHECKING"),
            row("2026-03-09", "expense", "200", "ONLINE TRANSFER"),
            row("2026-03-16", "expense", "300", "ONLINE TRANSFER"),
            row("2026-03-17", "income", "300", "FROM CHECKING"),
            row("2026-03-23", "expense", "400", "ONLINE TRANSFER"),
            row("2026-03-24", "income", "400", "FROM CHECKING"),
            row("2026-07-10", "income", "200", "FROM CHECKING"),
        ]
    );
    // The corrections stand: nothing is overwritten by the statement's figures.
    assert_eq!(balance(&app, &user, &checking).await, json!(-700));
    assert_eq!(balance(&app, &user, &savings).await, json!(290));
    assert_eq!(balance(&app, &user, &brokerage).await, json!(400));
    let waiting = app
        .data(&user, "/api/v1/transactions?status=pending&sort=date")
        .await;
    let waiting: Vec<(Value, Value)> = waiting
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].clone(), r["transfer_match_id"].clone()))
        .collect();
    assert_eq!(
        waiting,
        vec![
            (json!(created_id(&inflow, 0)), Value::Null),
            (json!(created_id(&inflow, 2)), Value::Null),
            (json!(created_id(&into_brokerage, 0)), Value::Null),
            (json!(created_id(&inflow, 1)), Value::Null),
        ]
    );
}

#[tokio::test]
async fn a_merged_pair_keeps_the_inflows_attachments_notes_and_tags() {
    let app = spawn_app().await;
    let user = app.register("merged-pair@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    let out = import_ofx(
        &app,
        &user,
        &checking,
        "111",
        &[("20260302", "-100.00", "C1", "ONLINE TRANSFER")],
    )
    .await;
    let inflow = import_ofx(
        &app,
        &user,
        &savings,
        "222",
        &[("20260303", "100.00", "S1", "FROM CHECKING")],
    )
    .await;
    let (outflow_id, inflow_id) = (created_id(&out, 0), created_id(&inflow, 0));
    patched(
        &app,
        &user,
        &outflow_id,
        json!({"notes": "March savings", "tags": ["savings"]}),
    )
    .await;
    // Notes and tags are not the movement: the pair stays matched.
    let noted = patched(
        &app,
        &user,
        &inflow_id,
        json!({"notes": "Half is for the car", "tags": ["car", "savings"]}),
    )
    .await;
    assert_eq!(noted["transfer_match_id"], json!(outflow_id));
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/transactions/{inflow_id}/attachments"),
        )
        .bearer_auth(&user.access_token)
        .header("content-type", "image/png")
        .body(crate::helpers::blank_png(32, 32))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let attachment = body["data"]["id"].as_str().unwrap().to_owned();

    let done = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/transactions/review",
            json!({"approve": [outflow_id], "reject": []}),
        )
        .await;
    assert_eq!(done, json!({"approved": 1, "rejected": 0, "transfers": 1}));
    let transfer = app
        .data(&user, &format!("/api/v1/transactions/{outflow_id}"))
        .await;
    assert_eq!(
        (
            transfer["type"].clone(),
            transfer["to_wallet_id"].clone(),
            transfer["notes"].clone(),
            transfer["tags"].clone(),
        ),
        (
            json!("transfer"),
            json!(savings),
            json!("March savings\nHalf is for the car"),
            json!(["savings", "car"]),
        )
    );
    let kept = app
        .data(
            &user,
            &format!("/api/v1/transactions/{outflow_id}/attachments"),
        )
        .await;
    assert_eq!(kept[0]["id"], json!(attachment), "{kept}");
    let download = app
        .get_as(
            &format!("/api/v1/attachments/{attachment}"),
            &user.access_token,
        )
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(balance(&app, &user, &savings).await, json!(100));
    assert_eq!(balance(&app, &user, &checking).await, json!(-100));
}

#[tokio::test]
async fn a_rules_transfer_and_the_other_accounts_statement_count_the_money_once() {
    async fn rule(app: &TestApp, user: &TestUser, savings: &str) {
        app.data_of(
            user,
            Method::POST,
            "/api/v1/rules",
            json!({"name": "Savings", "payee_contains": "TO SAVINGS",
                   "transfer_to_wallet_id": savings}),
        )
        .await;
    }
    let app = spawn_app().await;
    let outflow = [("20260302", "-100.00", "C1", "TO SAVINGS")];
    let inflow = [("20260302", "100.00", "S1", "FROM CHECKING")];

    // The transfer first: the savings statement's line is that transfer, whose bank id is the
    // checking account's, not another movement of savings.
    let user = app.register("rule-first@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    rule(&app, &user, &savings).await;
    let out = import_ofx(&app, &user, &checking, "111", &outflow).await;
    let transfer = app
        .data(
            &user,
            &format!("/api/v1/transactions/{}", created_id(&out, 0)),
        )
        .await;
    assert_eq!(
        (transfer["type"].clone(), transfer["to_wallet_id"].clone()),
        (json!("transfer"), json!(savings))
    );
    let into = import_ofx(&app, &user, &savings, "222", &inflow).await;
    assert_eq!(
        (
            into["report"][0]["outcome"].clone(),
            into["report"][0]["duplicate_of"].clone()
        ),
        (json!("possible_duplicate"), transfer["id"].clone()),
        "{into}"
    );
    assert_eq!(balance(&app, &user, &savings).await, json!(100));
    assert_eq!(balance(&app, &user, &checking).await, json!(-100));

    // The inflow first: the rule's outflow is matched with it (the pair becomes the transfer
    // when approved) instead of being a second transfer into savings.
    let user = app.register("inflow-first@example.com").await;
    let checking = app.create_wallet(&user, "Checking", "USD").await;
    let savings = app.create_wallet(&user, "Savings", "USD").await;
    rule(&app, &user, &savings).await;
    let into = import_ofx(&app, &user, &savings, "222", &inflow).await;
    let out = import_ofx(&app, &user, &checking, "111", &outflow).await;
    assert_eq!(
        (
            out["report"][0]["outcome"].clone(),
            out["report"][0]["transfer_match"].clone()
        ),
        (json!("created"), json!(created_id(&into, 0))),
        "{out}"
    );
    assert_eq!(balance(&app, &user, &savings).await, json!(100));
    assert_eq!(balance(&app, &user, &checking).await, json!(-100));
    let done = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/transactions/review",
            json!({"approve": [created_id(&out, 0)], "reject": []}),
        )
        .await;
    assert_eq!(done, json!({"approved": 1, "rejected": 0, "transfers": 1}));
    assert_eq!(
        rows(&app, &user, "").await,
        vec![row("2026-03-02", "transfer", "100", "TO SAVINGS")]
    );
    assert_eq!(balance(&app, &user, &savings).await, json!(100));
    assert_eq!(balance(&app, &user, &checking).await, json!(-100));
}
