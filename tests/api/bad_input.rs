//! Bad input never gets past the door: for every operation of the generated spec that takes a
//! JSON body, a corpus of broken requests, built from the operation's own example body —
//! malformed JSON, wrong types, missing required fields, unknown fields, negative, huge and
//! over-precise amounts, impossible dates, 100 KB strings, invalid UTF-8 and a 20 MiB body.
//! Every answer is a 400, 413, 415 or 422 error envelope (a panic would be a 500; a 401 or 404
//! would mean the body got past its checks), and the database holds exactly what it held before.

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spec_operations, Ledger, TestUser};

/// The broken variants of one example body: (what, raw body). Field by field from the body's
/// schema (`x-json-fields`), whether or not the example sets the field.
fn corpus(example: &Value, schema: &Value, fields: &Value) -> Vec<(String, Vec<u8>)> {
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("malformed JSON".into(), b"{\"amount\": 12,".to_vec()),
        ("a JSON array, not an object".into(), b"[1, 2, 3]".to_vec()),
        (
            "invalid UTF-8".into(),
            b"{\"name\": \"caf\xe9 \xff\xfe\"}".to_vec(),
        ),
        ("20 MiB".into(), {
            let mut big = b"{\"description\": \"".to_vec();
            big.resize(20 * 1024 * 1024, b'a');
            big.extend_from_slice(b"\"}");
            big
        }),
    ];
    if !example.is_object() {
        return cases;
    }
    let mut with = |what: String, body: Value| cases.push((what, body.to_string().into_bytes()));

    let mut unknown = example.clone();
    unknown["surprise_field"] = json!(1);
    with("an unknown field".into(), unknown);

    let required = schema["required"].as_array().cloned().unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str) {
        let mut missing = example.clone();
        if missing
            .as_object_mut()
            .and_then(|o| o.remove(name))
            .is_some()
        {
            with(format!("without required `{name}`"), missing);
        }
    }

    for (name, field) in fields.as_object().into_iter().flatten() {
        let set = |value: Value| {
            let mut body = example.clone();
            body[name] = value;
            body
        };
        let kind = field["kind"].as_str().unwrap_or_default();
        let wrong_type = match kind {
            "string" => json!([1, 2]),
            "number" | "integer" | "boolean" | "array" | "object" => json!("nonsense"),
            _ => continue,
        };
        with(format!("`{name}` of the wrong type"), set(wrong_type));
        match kind {
            "number" | "integer" => {
                with(format!("`{name}` = 1e30"), set(json!(1e30)));
                if name.contains("amount") {
                    with(format!("`{name}` negative"), set(json!(-25.5)));
                    with(format!("`{name}` with 5 decimals"), set(json!(12.34567)));
                }
            }
            "string" => {
                with(
                    format!("`{name}` of 100 KB"),
                    set(json!("x".repeat(100 * 1024))),
                );
                if field["format"] == "date" {
                    with(format!("`{name}` = 2026-02-30"), set(json!("2026-02-30")));
                }
            }
            "array" => {
                let item = if field["items_format"] == "uuid" {
                    json!("not-a-uuid")
                } else {
                    json!("x".repeat(100 * 1024))
                };
                with(format!("`{name}` with a bad item"), set(json!([item])));
            }
            _ => {}
        }
    }
    cases
}

#[tokio::test]
async fn every_json_body_rejects_the_corpus_and_writes_nothing() {
    let app = spawn_app().await;
    let user = app.register("corpus@example.com").await;
    let admin = app
        .register_with_role("corpus-admin@example.com", "admin")
        .await;
    let ledger: Ledger = app.seed_ledger(&user).await;
    let before = app.fingerprint();

    let mut failures = Vec::new();
    let mut sent = 0;
    let mut operations = 0;
    for (method, path, operation) in spec_operations() {
        let Some(example) = operation.get("x-json-example") else {
            continue;
        };
        let Some(url) = (if path.contains('{') {
            ledger.fill(&path)
        } else {
            Some(path.clone())
        }) else {
            panic!("{method} {path}: the ledger holds no row for its path");
        };
        let caller: &TestUser =
            if path.starts_with("/api/v1/users/{") || path.starts_with("/api/v1/admin/") {
                &admin
            } else {
                &user
            };
        let mut example = example.clone();
        ledger.own_body(&mut example);
        operations += 1;
        for (what, body) in corpus(
            &example,
            &operation["x-json-schema"],
            &operation["x-json-fields"],
        ) {
            sent += 1;
            let response = app
                .request(method.clone(), &url)
                .bearer_auth(&caller.access_token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("request sent");
            let status = response.status().as_u16();
            let envelope: Value = response.json().await.unwrap_or(Value::Null);
            let is_envelope = envelope["status"] == "error"
                && envelope["code"].is_string()
                && envelope["message"].as_str().is_some_and(|m| !m.is_empty());
            // Refused by the body's own checks: not by a credential, ownership or state check
            // that a broken body should never reach.
            if !matches!(status, 400 | 413 | 415 | 422) || !is_envelope {
                failures.push(format!("{method} {path}, {what}: {status} {envelope}"));
            }
        }
    }

    assert!(
        operations >= 30,
        "only {operations} operations take a JSON body?"
    );
    assert!(
        sent >= 10 * operations,
        "only {sent} requests for {operations} operations"
    );
    eprintln!("bad input: {sent} requests to {operations} operations");
    assert!(
        failures.is_empty(),
        "{} of {sent} broken requests were not a 4xx envelope:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        app.fingerprint(),
        before,
        "a rejected request changed the database"
    );
    // The server is still up and serving.
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn a_nul_character_in_a_query_string_is_400_invalid_query() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    for path in [
        "/api/v1/users?q=%F3%92%AA%99%00-%3E0",
        "/api/v1/transactions?q=a%00b",
        "/api/v1/categories?search=%00",
    ] {
        assert_error(
            app.get_as(path, &admin.access_token).await,
            400,
            "invalid_query",
        )
        .await;
    }
}
