//! Files out: the transactions as an xlsx workbook (typed cells, read back by calamine and
//! imported into another account), the import template, and the reports as PDF and xlsx with
//! the same figures as their JSON.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A GET answered 200 with a file: its content type, disposition and bytes.
async fn file(app: &TestApp, user: &TestUser, path: &str) -> (String, String, Vec<u8>) {
    let response = app.get_as(path, &user.access_token).await;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
    (content_type, disposition, bytes)
}

/// Every cell of a workbook's sheet.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut workbook = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let range = workbook.worksheet_range(name).expect("the sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    Xlsx::new(Cursor::new(bytes.to_vec()))
        .expect("an xlsx workbook")
        .sheet_names()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

async fn spend(app: &TestApp, user: &TestUser, wallet: &str, body: Value) -> Value {
    let mut body = body;
    body["wallet_id"] = json!(wallet);
    app.create_transaction(user, body).await
}

#[tokio::test]
async fn the_xlsx_export_has_typed_cells_and_imports_into_another_account_as_the_same_rows() {
    let app = spawn_app().await;
    let alice = app.register("xlsx-alice@example.com").await;
    let cash = app.create_wallet(&alice, "Cash", "USD").await;
    let bank = app.create_wallet(&alice, "Bank", "USD").await;
    let food = app.category_id(&alice, "Restaurants").await;
    let groceries = app.category_id(&alice, "Groceries").await;
    let salary = app.category_id(&alice, "Salary").await;
    spend(
        &app,
        &alice,
        &cash,
        json!({"type": "expense", "amount": 12.50, "date": "2026-03-01",
        "description": "Phở bò", "category_id": food, "tags": ["lunch", "a;b"]}),
    )
    .await;
    spend(
        &app,
        &alice,
        &bank,
        json!({"type": "income", "amount": 2500, "date": "2026-03-02",
        "description": "=SUM(A1:A9)", "category_id": salary}),
    )
    .await;
    spend(
        &app,
        &alice,
        &bank,
        json!({"type": "transfer", "amount": 200, "date": "2026-03-03",
        "description": "ATM", "to_wallet_id": cash}),
    )
    .await;
    spend(&app, &alice, &cash, json!({"type": "expense", "amount": 80, "date": "2026-03-04",
        "description": "Party", "splits": [
            {"category_id": groceries, "amount": 30}, {"category_id": food, "amount": 50, "note": "cake"}]}))
    .await;

    let (content_type, disposition, bytes) = file(
        &app,
        &alice,
        "/api/v1/transactions/export?format=xlsx&sort=date&locale=vi-VN",
    )
    .await;
    assert_eq!(content_type, XLSX);
    assert!(disposition.contains("transactions.xlsx"), "{disposition}");
    let rows = sheet(&bytes, "Transactions");
    assert_eq!(text(&rows[0][0]), "date");
    assert_eq!(rows.len(), 5, "{rows:?}");
    // The date is a date cell, the amount a number, text is text (no formula guard needed).
    let Data::DateTime(date) = &rows[1][0] else {
        panic!("a date cell: {:?}", rows[1][0]);
    };
    assert_eq!(date.to_ymd_hms_milli(), (2026, 3, 1, 0, 0, 0, 0));
    assert_eq!(rows[1][2], Data::Float(12.5));
    assert_eq!(text(&rows[1][4]), "Phở bò");
    assert_eq!(text(&rows[1][11]), "lunch;a\\;b");
    assert_eq!(text(&rows[2][4]), "=SUM(A1:A9)");
    assert_eq!(rows[2][2], Data::Float(2500.0));
    assert_eq!(text(&rows[4][6]), "Groceries=30; Restaurants=50=cake");

    // One sheet per wallet.
    let (_, _, per_wallet) = file(
        &app,
        &alice,
        "/api/v1/transactions/export?format=xlsx&sheets=wallet",
    )
    .await;
    let mut names = sheet_names(&per_wallet);
    names.sort();
    assert_eq!(names, vec!["Bank (2)".to_owned(), "Cash (1)".to_owned()]);

    // Bob, with wallets of the same names, imports Alice's workbook: the same rows.
    let bob = app.register("xlsx-bob@example.com").await;
    app.create_wallet(&bob, "Cash", "USD").await;
    app.create_wallet(&bob, "Bank", "USD").await;
    let response = app
        .request(Method::POST, "/api/v1/imports?auto_approve=true")
        .bearer_auth(&bob.access_token)
        .header("content-type", XLSX)
        .body(per_wallet)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["format"], "xlsx");
    assert_eq!(body["data"]["created"], 4, "{body}");
    let shape = |rows: &Value| {
        let mut rows: Vec<(String, String, String, String, usize)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["date"].as_str().unwrap().to_owned(),
                    r["type"].as_str().unwrap().to_owned(),
                    r["amount"].to_string(),
                    r["description"].as_str().unwrap().to_owned(),
                    r["splits"].as_array().map_or(0, Vec::len),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let theirs = app.data(&alice, "/api/v1/transactions?per_page=50").await;
    let ours = app.data(&bob, "/api/v1/transactions?per_page=50").await;
    assert_eq!(shape(&ours), shape(&theirs));

    // A locale that is no language tag is refused.
    assert_error(
        app.get_as(
            "/api/v1/transactions/export?format=xlsx&locale=not_a_tag!",
            &alice.access_token,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_import_template_lists_the_ledgers_own_names_and_what_is_filled_in_imports() {
    let app = spawn_app().await;
    let user = app.register("template@example.com").await;
    let cash = app.create_wallet(&user, "Ví tiền mặt", "VND").await;
    let (content_type, disposition, bytes) =
        file(&app, &user, "/api/v1/imports/template.xlsx").await;
    assert_eq!(content_type, XLSX);
    assert!(disposition.contains("template"), "{disposition}");
    assert_eq!(
        sheet_names(&bytes),
        vec!["Transactions", "Lists", "Instructions"]
    );
    let header: Vec<String> = sheet(&bytes, "Transactions")[0].iter().map(text).collect();
    assert_eq!(
        header,
        vec![
            "date",
            "type",
            "amount",
            "currency",
            "description",
            "category",
            "splits",
            "merchant",
            "notes",
            "wallet",
            "to_wallet",
            "tags",
            "tax_rate",
            "tax_deductible"
        ]
    );
    let lists = sheet(&bytes, "Lists");
    let categories: Vec<String> = lists.iter().skip(1).map(|r| text(&r[0])).collect();
    let wallets: Vec<String> = lists.iter().skip(1).map(|r| text(&r[1])).collect();
    assert!(
        categories.contains(&"Groceries".to_owned()),
        "{categories:?}"
    );
    assert!(wallets.contains(&"Ví tiền mặt".to_owned()), "{wallets:?}");

    // Filled in (here by rust_xlsxwriter, as a spreadsheet program would save it) and sent.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet_ = workbook.add_worksheet();
    sheet_.set_name("Transactions").unwrap();
    for (i, title) in header.iter().enumerate() {
        sheet_.write_string(0, i as u16, title).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
    sheet_.write_datetime_with_format(1, 0, day, &date).unwrap();
    sheet_.write_string(1, 1, "expense").unwrap();
    sheet_.write_number(1, 2, 45000).unwrap();
    sheet_.write_string(1, 4, "Bún chả").unwrap();
    sheet_.write_string(1, 5, "Restaurants").unwrap();
    sheet_.write_string(1, 9, "Ví tiền mặt").unwrap();
    // A row with no amount is reported by its row number.
    sheet_.write_string(2, 0, "2026-05-05").unwrap();
    sheet_.write_string(2, 4, "No amount").unwrap();
    let filled = workbook.save_to_buffer().unwrap();
    let response = app
        .request(Method::POST, "/api/v1/imports")
        .bearer_auth(&user.access_token)
        .header("content-type", "application/octet-stream")
        .body(filled)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let batch = &body["data"];
    assert_eq!(
        (batch["created"].as_i64(), batch["failed"].as_i64()),
        (Some(1), Some(1))
    );
    // Every line is in the report: the one created (with its transaction), then the bad one.
    assert_eq!(
        (
            batch["report"][0]["line"].clone(),
            batch["report"][0]["outcome"].clone()
        ),
        (json!(2), json!("created")),
        "{batch}"
    );
    assert!(batch["report"][0]["transaction_id"].is_string(), "{batch}");
    assert_eq!(batch["report"][1]["line"], 3, "{batch}");
    let rows = app
        .data(&user, &format!("/api/v1/transactions?wallet_id={cash}"))
        .await;
    assert_eq!(rows[0]["date"], "2026-05-04");
    assert_eq!(rows[0]["amount"], json!(45000));
    assert_eq!(rows[0]["description"], "Bún chả");
    assert_eq!(rows[0]["status"], "pending");
}

#[tokio::test]
async fn every_report_comes_as_pdf_and_xlsx_with_the_figures_of_its_json() {
    let app = spawn_app().await;
    let user = app.register("report-files@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let food = app.category_id(&user, "Restaurants").await;
    let salary = app.category_id(&user, "Salary").await;
    spend(
        &app,
        &user,
        &wallet,
        json!({"type": "expense", "amount": 1234.56, "date": "2026-02-03",
        "description": "Dinner", "category_id": food}),
    )
    .await;
    spend(
        &app,
        &user,
        &wallet,
        json!({"type": "income", "amount": 5000, "date": "2026-02-01",
        "description": "Pay", "category_id": salary}),
    )
    .await;
    let period = "from=2026-01-01&to=2026-03-31";
    for report in [
        "summary",
        "spending-by-category",
        "trend",
        "cash-flow",
        "budget-progress",
        "by-member",
    ] {
        let (content_type, disposition, pdf) = file(
            &app,
            &user,
            &format!("/api/v1/reports/{report}?{period}&format=pdf"),
        )
        .await;
        assert_eq!(content_type, "application/pdf", "{report}");
        assert!(
            disposition.contains(&format!("{report}.pdf")),
            "{disposition}"
        );
        assert!(pdf.starts_with(b"%PDF-") && pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
        assert!(
            pdf.windows(9).any(|w| w == b"ToUnicode"),
            "{report}: text can be extracted"
        );
        let (content_type, _, workbook) = file(
            &app,
            &user,
            &format!("/api/v1/reports/{report}?{period}&format=xlsx"),
        )
        .await;
        assert_eq!(content_type, XLSX, "{report}");
        assert_eq!(sheet_names(&workbook), vec!["Report"], "{report}");
    }
    // The summary's workbook holds the JSON's figures as numbers.
    let summary = app
        .data(&user, &format!("/api/v1/reports/summary?{period}"))
        .await;
    let (_, _, workbook) = file(
        &app,
        &user,
        &format!("/api/v1/reports/summary?{period}&format=xlsx"),
    )
    .await;
    let cells = sheet(&workbook, "Report");
    let figure = |label: &str| {
        cells
            .iter()
            .find(|r| text(&r[0]) == label)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{label} in {cells:?}"))
    };
    assert_eq!(figure("Income"), Data::Float(5000.0));
    assert_eq!(figure("Expense"), Data::Float(1234.56));
    assert_eq!(summary["expense"], json!(1234.56));
    let category_row = cells
        .iter()
        .find(|r| text(&r[0]) == "Restaurants")
        .expect("the category's row");
    assert_eq!(category_row[1], Data::Float(1234.56));
    assert_eq!(category_row[2], Data::Float(100.0));
    // JSON stays the default, and a bad locale is refused.
    let (status, body) = json(
        app.get_as(
            &format!("/api/v1/reports/summary?{period}&format=json"),
            &user.access_token,
        )
        .await,
    )
    .await;
    assert_eq!((status, body["data"]["income"].clone()), (200, json!(5000)));
    assert_error(
        app.get_as(
            &format!("/api/v1/reports/trend?{period}&format=pdf&locale=x"),
            &user.access_token,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.get_as(
            &format!("/api/v1/reports/trend?{period}&format=docx"),
            &user.access_token,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn the_budget_progress_file_adds_up_with_what_rolled_over() {
    use chrono::Datelike;
    let app = spawn_app().await;
    let user = app.register("rollover-file@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let food = app.category_id(&user, "Restaurants").await;
    let first = chrono::Utc::now().date_naive().with_day(1).unwrap();
    let last_month = first.checked_sub_months(chrono::Months::new(1)).unwrap();
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/budgets",
        json!({"name": "Eating out", "amount": 100, "period": "monthly", "rollover": true,
               "category_ids": [food], "start_date": last_month}),
    )
    .await;
    // 130 last month: 30 over, so this month starts 30 short.
    spend(
        &app,
        &user,
        &wallet,
        json!({"type": "expense", "amount": 130, "date": last_month, "category_id": food}),
    )
    .await;
    spend(
        &app,
        &user,
        &wallet,
        json!({"type": "expense", "amount": 5, "date": first, "category_id": food}),
    )
    .await;
    let json_line = &app.data(&user, "/api/v1/reports/budget-progress").await[0];
    assert_eq!(json_line["rolled_over"], json!(-30), "{json_line}");
    assert_eq!(json_line["remaining"], json!(65), "{json_line}");
    let (_, _, workbook) = file(&app, &user, "/api/v1/reports/budget-progress?format=xlsx").await;
    let cells = sheet(&workbook, "Report");
    let header = cells
        .iter()
        .find(|r| text(&r[0]) == "Budget")
        .expect("the header row");
    let column = |name: &str| {
        header
            .iter()
            .position(|c| text(c) == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let row = cells
        .iter()
        .find(|r| text(&r[0]) == "Eating out")
        .expect("the budget's row");
    let figure = |name: &str| row[column(name)].clone();
    assert_eq!(figure("Budget amount"), Data::Float(100.0));
    assert_eq!(figure("Rolled over"), Data::Float(-30.0), "{row:?}");
    assert_eq!(figure("Spent"), Data::Float(5.0));
    assert_eq!(figure("Remaining"), Data::Float(65.0));
}

/// The number formats of a workbook's styles (`#,##0.00 "USD";...`).
fn number_formats(bytes: &[u8]) -> Vec<String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a zip");
    let mut styles = String::new();
    archive
        .by_name("xl/styles.xml")
        .expect("styles")
        .read_to_string(&mut styles)
        .unwrap();
    styles
        .split("formatCode=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|code| code.replace("&quot;", "\""))
        .collect()
}

#[tokio::test]
async fn a_workbook_shows_every_decimal_an_amount_has() {
    let app = spawn_app().await;
    let user = app.register("exact@example.com").await;
    let usd = app.create_wallet(&user, "Cash", "USD").await;
    let vnd = app.create_wallet(&user, "Ví", "VND").await;
    let groceries = app.category_id(&user, "Groceries").await;
    for (wallet, amount) in [
        (&usd, json!(0.0001)),
        (&usd, json!(12.5)),
        (&vnd, json!(1000.5)),
    ] {
        spend(
            &app,
            &user,
            wallet,
            json!({"type": "expense", "amount": amount, "date": "2026-03-01",
                   "description": "Exact", "category_id": groceries}),
        )
        .await;
    }
    spend(
        &app,
        &user,
        &vnd,
        json!({"type": "expense", "amount": 50000, "date": "2026-03-02", "description": "Whole",
               "category_id": groceries}),
    )
    .await;
    let (_, _, bytes) = file(&app, &user, "/api/v1/transactions/export?format=xlsx").await;
    let formats = number_formats(&bytes);
    for expected in [
        r#"#,##0.0000 "USD";-#,##0.0000 "USD""#,
        r#"#,##0.00 "USD";-#,##0.00 "USD""#,
        r#"#,##0.0 "VND";-#,##0.0 "VND""#,
        r#"#,##0 "VND";-#,##0 "VND""#,
    ] {
        assert!(
            formats.iter().any(|f| f == expected),
            "{expected} in {formats:?}"
        );
    }
    // A report's workbook too: the summary's total of 0.0001 + 12.5 USD.
    let (_, _, report) = file(
        &app,
        &user,
        "/api/v1/reports/summary?from=2026-03-01&to=2026-03-31&currency=USD&format=xlsx",
    )
    .await;
    let formats = number_formats(&report);
    assert!(
        formats
            .iter()
            .any(|f| f == r#"#,##0.0000 "USD";-#,##0.0000 "USD""#),
        "{formats:?}"
    );
}
