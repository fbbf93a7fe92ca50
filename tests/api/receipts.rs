//! Receipts and attachments, read by the real Tesseract and Poppler from rendered files
//! (`scripts/fixtures/make_receipts.py`).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/receipts/{name}")).unwrap()
}

/// Sends a file as the body of a `POST` to `path`.
pub async fn upload(app: &TestApp, user: &TestUser, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = app
        .request(Method::POST, path)
        .bearer_auth(&user.access_token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    json(response).await
}

async fn read_receipt(app: &TestApp, user: &TestUser, name: &str) -> Value {
    let (status, body) = upload(app, user, "/api/v1/receipts?file_name=r.bin", fixture(name)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["status"], "processing");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    app.wait_for_receipt(&user.access_token, &id).await
}

#[tokio::test]
async fn a_photographed_receipt_is_read_corrected_and_recorded_as_a_split_expense() {
    let app = spawn_app().await;
    let user = app.register("receipts@example.com").await;
    let wallet = app.create_wallet(&user, "Card", "USD").await;
    let receipt = read_receipt(&app, &user, "cafe.png").await;
    assert_eq!(receipt["status"], "parsed", "{receipt}");
    let parsed = &receipt["parsed"];
    assert_eq!(parsed["merchant"]["value"], "BLUE BOTTLE CAFE");
    assert_eq!(parsed["date"]["value"], "2026-03-14");
    assert_eq!(parsed["total"]["value"], json!(21.49));
    assert!(parsed["total"]["confidence"].as_f64().unwrap() > 0.9);
    assert_eq!(parsed["tax"]["value"], json!(1.49));
    assert_eq!(parsed["tip"]["value"].as_f64(), Some(3.0));
    assert_eq!(parsed["currency"]["value"], "USD");
    let items = parsed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0]["description"], "Latte");
    assert_eq!(items[0]["quantity"], json!(2));
    assert!(receipt["text"].as_str().unwrap().contains("Croissant"));
    assert_eq!(receipt["file"]["content_type"], "image/png");

    // The user puts the pastries in another category; the tax and tip are spread.
    let id = receipt["id"].as_str().unwrap();
    let coffee = app.category_id(&user, "Food & Dining").await;
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/categories",
            &user.access_token,
            Some(&json!({"name": "Bakery", "kind": "expense"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let bakery = body["data"]["id"].as_str().unwrap().to_owned();
    let corrected = app
        .data_of(&user, Method::PATCH, &format!("/api/v1/receipts/{id}"), json!({
            "merchant": "Blue Bottle Cafe",
            "items": [
                {"description": "Latte", "quantity": 2, "amount": 9.0, "category_id": coffee},
                {"description": "Croissant", "quantity": 1, "amount": 4.25, "category_id": bakery},
                {"description": "Blueberry Muffin", "quantity": 1, "amount": 3.75, "category_id": bakery},
            ]
        }))
        .await;
    assert_eq!(corrected["parsed"]["merchant"]["value"], "Blue Bottle Cafe");
    assert_eq!(corrected["parsed"]["merchant"]["confidence"], json!(1.0));
    assert_eq!(corrected["corrections"]["merchant"], "Blue Bottle Cafe");
    assert_eq!(corrected["parsed"]["items"][1]["category"], "Bakery");
    // The categoriser learnt the lines: a croissant is bakery now.
    let suggested = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/predictions/categorize",
            json!({"description": "Croissant", "type": "expense"}),
        )
        .await;
    assert_eq!(
        suggested["suggestions"][0]["category_id"],
        json!(bakery),
        "{suggested}"
    );

    let (status, body) = json(
        app.send_as(
            Method::POST,
            &format!("/api/v1/receipts/{id}/transaction"),
            &user.access_token,
            Some(&json!({"wallet_id": wallet})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let transaction = &body["data"]["transaction"];
    assert_eq!(transaction["amount"], json!(21.49));
    assert_eq!(transaction["date"], "2026-03-14");
    assert_eq!(transaction["merchant"], "Blue Bottle Cafe");
    let splits = transaction["splits"].as_array().unwrap();
    assert_eq!(splits.len(), 2, "{transaction}");
    let sum: f64 = splits.iter().map(|s| s["amount"].as_f64().unwrap()).sum();
    assert!((sum - 21.49).abs() < 1e-9, "{splits:?}");
    let tx = transaction["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["receipt"]["transaction_id"], json!(tx));

    // The receipt's image is among the transaction's files, and downloads as it was sent.
    let files = app
        .data(&user, &format!("/api/v1/transactions/{tx}/attachments"))
        .await;
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    let response = app
        .get_as(files[0]["url"].as_str().unwrap(), &user.access_token)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        fixture("cafe.png").as_slice()
    );

    // Recorded once: a second time is a conflict.
    let again = app
        .send_as(
            Method::POST,
            &format!("/api/v1/receipts/{id}/transaction"),
            &user.access_token,
            Some(&json!({"wallet_id": wallet})),
        )
        .await;
    assert_error(again, 409, "receipt_matched").await;
    let unmatched = app.data(&user, "/api/v1/receipts?unmatched=true").await;
    assert_eq!(unmatched.as_array().unwrap().len(), 0);
    let found = app.data(&user, "/api/v1/receipts?q=croissant").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["file"]["content_type"], "image/png", "{found}");
}

#[tokio::test]
async fn a_degraded_vietnamese_photo_and_a_pdf_invoice_are_read() {
    let app = spawn_app().await;
    let user = app.register("vi-receipts@example.com").await;
    let receipt = read_receipt(&app, &user, "vietnamese.jpg").await;
    assert_eq!(receipt["status"], "parsed", "{receipt}");
    let parsed = &receipt["parsed"];
    assert_eq!(parsed["currency"]["value"], "VND");
    assert_eq!(parsed["total"]["value"], json!(90000));
    assert_eq!(parsed["date"]["value"], "2026-03-05");
    assert!(
        parsed["merchant"]["value"]
            .as_str()
            .unwrap()
            .ends_with("AN KHANG"),
        "{parsed}"
    );
    assert_eq!(parsed["items"].as_array().unwrap().len(), 3, "{parsed}");

    let invoice = read_receipt(&app, &user, "invoice.pdf").await;
    assert_eq!(invoice["status"], "parsed", "{invoice}");
    let parsed = &invoice["parsed"];
    assert_eq!(parsed["merchant"]["value"], "NORTHWIND OFFICE SUPPLY");
    assert_eq!(parsed["total"]["value"], json!(114.48));
    assert_eq!(parsed["tax"]["value"], json!(19.08));
    assert_eq!(parsed["currency"]["value"], "EUR");
    assert_eq!(parsed["date"]["value"], "2026-02-20");
    assert_eq!(invoice["file"]["content_type"], "application/pdf");
}

#[tokio::test]
async fn a_receipt_matches_the_expense_the_bank_recorded() {
    let app = spawn_app().await;
    let user = app.register("match@example.com").await;
    let wallet = app.create_wallet(&user, "Card", "USD").await;
    let food = app.category_id(&user, "Food & Dining").await;
    // The card was charged before the tip was added; another expense is a week off.
    let bank = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 18.49, "date": "2026-03-15",
            "category_id": food, "wallet_id": wallet, "description": "BLUE BOTTLE SF"}),
        )
        .await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 21.49, "date": "2026-03-24",
        "category_id": food, "wallet_id": wallet, "description": "Other"}),
    )
    .await;
    let receipt = read_receipt(&app, &user, "cafe.png").await;
    let id = receipt["id"].as_str().unwrap();
    let matches = app
        .data(&user, &format!("/api/v1/receipts/{id}/matches"))
        .await;
    let matches = matches.as_array().unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(matches[0]["transaction_id"], bank["id"]);
    assert_eq!(matches[0]["amount_is_total_less_tip"], json!(true));
    let matched = app
        .data_of(
            &user,
            Method::POST,
            &format!("/api/v1/receipts/{id}/transaction"),
            json!({"transaction_id": bank["id"]}),
        )
        .await;
    assert_eq!(matched["receipt"]["transaction_id"], bank["id"]);
    assert!(matched["transaction"].is_null());
    // One purchase, one receipt: a second receipt cannot claim the same expense, nor match
    // income, nor an expense in another currency than its own.
    let second = read_receipt(&app, &user, "cafe.png").await;
    let second_id = second["id"].as_str().unwrap();
    let salary = app.category_id(&user, "Salary").await;
    let income = app
        .create_transaction(
            &user,
            json!({"type": "income", "amount": 18.49, "date": "2026-03-15",
            "category_id": salary, "wallet_id": wallet}),
        )
        .await;
    let euros = app.create_wallet(&user, "Euro card", "EUR").await;
    let in_euros = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 18.49, "date": "2026-03-15",
            "category_id": food, "wallet_id": euros}),
        )
        .await;
    let match_to = |transaction: &Value| {
        app.send_as(
            Method::POST,
            &format!("/api/v1/receipts/{second_id}/transaction"),
            &user.access_token,
            Some(&json!({"transaction_id": transaction["id"]})),
        )
    };
    assert_error(match_to(&bank).await, 409, "transaction_has_receipt").await;
    assert_error(match_to(&income).await, 422, "validation_failed").await;
    assert_eq!(second["parsed"]["currency"]["value"], "USD", "{second}");
    assert_error(match_to(&in_euros).await, 422, "validation_failed").await;
    let offered = app
        .data(&user, &format!("/api/v1/receipts/{second_id}/matches"))
        .await;
    assert_eq!(offered, json!([]), "{offered}");
    // Deleting the transaction keeps the receipt, unmatched.
    let tx = bank["id"].as_str().unwrap();
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{tx}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let again = app.data(&user, &format!("/api/v1/receipts/{id}")).await;
    assert!(again["transaction_id"].is_null());
}

#[tokio::test]
async fn hostile_and_broken_files_get_a_clear_answer_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let user = app.register("hostile@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let tx = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "wallet_id": wallet,
            "category_id": app.category_id(&user, "Food & Dining").await, "description": "x"}),
        )
        .await;
    let attach = format!(
        "/api/v1/transactions/{}/attachments",
        tx["id"].as_str().unwrap()
    );

    // Not an image, whatever its name says.
    let (status, body) = upload(
        &app,
        &user,
        &format!("{attach}?file_name=photo.jpg"),
        b"<html>hi</html>".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type")),
        "{body}"
    );
    // A HEIC header that declares no image size, and a real HEIC photo whose header is made to
    // declare 100,000 x 100,000 pixels: refused before anything decodes them.
    let (status, body) = upload(
        &app,
        &user,
        "/api/v1/receipts",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let mut heic_bomb = fixture("cafe.heic");
    let at = heic_bomb
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("a HEIC file declares its size");
    heic_bomb[at + 8..at + 12].copy_from_slice(&100_000u32.to_be_bytes());
    heic_bomb[at + 12..at + 16].copy_from_slice(&100_000u32.to_be_bytes());
    let (status, body) = upload(&app, &user, "/api/v1/receipts", heic_bomb).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("pixels"), "{body}");
    // A PNG that declares 100,000 x 100,000 pixels is refused by its header.
    let mut bomb = blank_png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    let (status, body) = upload(&app, &user, "/api/v1/receipts", bomb).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["file"][0]
            .as_str()
            .unwrap()
            .contains("pixels"),
        "{body}"
    );
    // A strip of 1 x 20,000 pixels (a few bytes, enormous once enlarged for OCR).
    let (status, body) = upload(&app, &user, "/api/v1/receipts", blank_png(1, 20_000)).await;
    assert_eq!(status, 422, "{body}");
    // 10 MiB and one byte.
    let mut big = blank_png(8, 8);
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, _) = upload(&app, &user, &attach, big).await;
    assert_eq!(status, 413);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM attachments WHERE transaction_id IS NOT NULL"),
        0
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM receipts"), 0);

    // A truncated JPEG and a blank image are taken, then fail with a reason.
    let jpeg = fixture("vietnamese.jpg");
    let truncated = jpeg[..jpeg.len() / 3].to_vec();
    let (status, body) = upload(&app, &user, "/api/v1/receipts", truncated).await;
    assert_eq!(status, 202, "{body}");
    let failed = app
        .wait_for_receipt(&user.access_token, body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["failure"].as_str().unwrap().contains("decoded"),
        "{failed}"
    );
    let (_, body) = upload(&app, &user, "/api/v1/receipts", blank_png(300, 600)).await;
    let blank = app
        .wait_for_receipt(&user.access_token, body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(blank["status"], "failed");
    assert_eq!(blank["failure"], "no text was found on the receipt");
    // A failed receipt cannot become an expense.
    let response = app
        .send_as(
            Method::POST,
            &format!(
                "/api/v1/receipts/{}/transaction",
                blank["id"].as_str().unwrap()
            ),
            &user.access_token,
            Some(&json!({"wallet_id": wallet})),
        )
        .await;
    assert_error(response, 409, "receipt_not_parsed").await;

    // An encrypted PDF and one of 500 pages fail, saying why.
    for (name, reason) in [
        ("encrypted.pdf", "the PDF is encrypted"),
        (
            "pages-500.pdf",
            "the PDF has 500 pages; a receipt may have at most 20",
        ),
    ] {
        let (status, body) = upload(&app, &user, "/api/v1/receipts", fixture(name)).await;
        assert_eq!(status, 202, "{body}");
        let failed = app
            .wait_for_receipt(&user.access_token, body["data"]["id"].as_str().unwrap())
            .await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["failure"], reason, "{failed}");
    }

    // A good file after the bad ones: the readers kept going.
    let good = read_receipt(&app, &user, "cafe.png").await;
    assert_eq!(good["status"], "parsed");
}

#[tokio::test]
async fn files_leave_the_store_when_their_last_row_goes_and_never_reach_another_user() {
    let app = spawn_app().await;
    let owner = app.register("owner-files@example.com").await;
    let other = app.register("other-files@example.com").await;
    let wallet = app.create_wallet(&owner, "Cash", "USD").await;
    let food = app.category_id(&owner, "Food & Dining").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let tx = app
            .create_transaction(
                &owner,
                json!({"type": "expense", "amount": 5, "wallet_id": wallet,
                "category_id": food, "description": "x"}),
            )
            .await;
        ids.push(tx["id"].as_str().unwrap().to_owned());
    }
    // The same photo on two transactions is stored once.
    let png = fixture("cafe.png");
    let mut attachments = Vec::new();
    for tx in &ids {
        let (status, body) = upload(
            &app,
            &owner,
            &format!("/api/v1/transactions/{tx}/attachments"),
            png.clone(),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        attachments.push(body["data"].clone());
    }
    let sha = attachments[0]["sha256"].as_str().unwrap().to_owned();
    let stored =
        |dir: &std::path::Path| walk(dir).into_iter().filter(|p| p.ends_with(&sha)).count();
    let files_dir = app.data_dir.join("files");
    assert_eq!(stored(&files_dir), 1);

    // Another user sees none of it.
    for path in [
        format!(
            "/api/v1/attachments/{}",
            attachments[0]["id"].as_str().unwrap()
        ),
        format!("/api/v1/transactions/{}/attachments", ids[0]),
    ] {
        assert_error(
            app.get_as(&path, &other.access_token).await,
            404,
            "not_found",
        )
        .await;
    }
    let (status, _) = upload(
        &app,
        &other,
        &format!("/api/v1/transactions/{}/attachments", ids[0]),
        png.clone(),
    )
    .await;
    assert_eq!(status, 404);

    // One row goes: the file stays for the other.
    let first = attachments[0]["id"].as_str().unwrap();
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/attachments/{first}"),
            &owner.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    app.execute("SELECT 1");
    let mut conn = app.db.connect();
    let files = finai::storage::LocalStore::new(files_dir.clone());
    finai::services::attachments::sweep(&mut conn, &files, 100).unwrap();
    assert_eq!(stored(&files_dir), 1);
    // The transaction of the other goes: its row, then its file.
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{}", ids[1]),
            &owner.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM attachments"), 0);
    finai::services::attachments::sweep(&mut conn, &files, 100).unwrap();
    assert_eq!(stored(&files_dir), 0);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_stored_file_no_row_ever_used_is_found_and_removed() {
    use finai::storage::{FileKey, FileStore, LocalStore};
    let app = spawn_app().await;
    let user = app.register("orphans@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let tx = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "wallet_id": wallet,
            "category_id": app.category_id(&user, "Food & Dining").await, "description": "x"}),
        )
        .await;
    let (status, attachment) = upload(
        &app,
        &user,
        &format!(
            "/api/v1/transactions/{}/attachments",
            tx["id"].as_str().unwrap()
        ),
        fixture("cafe.png"),
    )
    .await;
    assert_eq!(status, 201, "{attachment}");
    // A file whose row never committed (a failed commit, a crash after the write), and the
    // attachment's own: both an hour old.
    let root = app.data_dir.join("files");
    let store = LocalStore::new(root.clone());
    let ledger: uuid::Uuid = user.id.parse().unwrap();
    let orphan = FileKey::of(ledger, b"never committed");
    store.put(&orphan, b"never committed").unwrap();
    let path = |sha: &str| root.join(&user.id).join(&sha[..2]).join(sha);
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for sha in [
        orphan.sha256.as_str(),
        attachment["data"]["sha256"].as_str().unwrap(),
    ] {
        std::fs::File::options()
            .write(true)
            .open(path(sha))
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }

    let mut conn = app.db.connect();
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(1800);
    let queued = finai::services::attachments::reconcile(&mut conn, &store, cutoff).unwrap();
    assert_eq!(queued, 1, "only the file no row uses");
    finai::services::attachments::sweep(&mut conn, &store, 100).unwrap();
    assert!(!path(&orphan.sha256).exists());
    let kept = app
        .get_as(
            &format!(
                "/api/v1/attachments/{}",
                attachment["data"]["id"].as_str().unwrap()
            ),
            &user.access_token,
        )
        .await;
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.bytes().await.unwrap().to_vec(), fixture("cafe.png"));
}

#[tokio::test]
async fn an_iphone_photo_in_heic_is_read_like_any_receipt_and_kept_as_it_came() {
    let app = spawn_app().await;
    let user = app.register("heic@example.com").await;
    // The cafe receipt as libheif's encoder wrote it (scripts/fixtures/make_receipts.py).
    let receipt = read_receipt(&app, &user, "cafe.heic").await;
    assert_eq!(receipt["status"], "parsed", "{receipt}");
    let parsed = &receipt["parsed"];
    assert_eq!(parsed["merchant"]["value"], "BLUE BOTTLE CAFE");
    assert_eq!(parsed["date"]["value"], "2026-03-14");
    assert_eq!(parsed["total"]["value"], json!(21.49));
    assert_eq!(parsed["tax"]["value"], json!(1.49));
    assert_eq!(receipt["file"]["content_type"], "image/heic");
    let file = app
        .get_as(receipt["file"]["url"].as_str().unwrap(), &user.access_token)
        .await;
    assert_eq!(file.headers()["content-type"], "image/heic");
    assert_eq!(file.bytes().await.unwrap().to_vec(), fixture("cafe.heic"));
}
