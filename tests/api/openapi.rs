//! The spec is part of the API: every change to it shows up as a reviewed diff of
//! `openapi/openapi.json`, and of the event streams' `openapi/asyncapi.json`.
//! `UPDATE_OPENAPI=1 cargo test` rewrites both files.

use std::path::Path;

use crate::helpers::spawn_app;

#[test]
fn the_checked_in_spec_matches_the_code() {
    let generated = finai::openapi::spec_json();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/openapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "openapi/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test` and review the diff"
    );
}

#[test]
fn the_checked_in_asyncapi_document_matches_the_code() {
    let generated = finai::asyncapi::document_json();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/asyncapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/asyncapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "openapi/asyncapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test` and review the diff"
    );
}

#[tokio::test]
async fn the_server_serves_the_generated_spec() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let served: serde_json::Value = response.json().await.unwrap();
    let generated: serde_json::Value = serde_json::from_str(&finai::openapi::spec_json()).unwrap();
    assert_eq!(served, generated);
}

#[test]
fn every_operation_is_documented_with_errors_and_security() {
    let spec: serde_json::Value = serde_json::from_str(&finai::openapi::spec_json()).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer_auth"]["scheme"],
        "bearer"
    );
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(operation["operationId"].is_string(), "{name}: operationId");
            assert!(operation["summary"].is_string(), "{name}: summary");
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tag"
            );
            assert!(operation["security"].is_array(), "{name}: security");
            let responses = operation["responses"].as_object().unwrap();
            for status in ["429", "500"] {
                assert!(responses.contains_key(status), "{name}: {status}");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{name}: 404");
            }
            if let Some(body) = operation.get("requestBody") {
                assert!(responses.contains_key("422"), "{name}: 422");
                for (media_type, content) in body["content"].as_object().unwrap() {
                    let schema_example = content["schema"]["$ref"]
                        .as_str()
                        .and_then(|r| spec.pointer(r.trim_start_matches('#')))
                        .and_then(|schema| schema.get("example"));
                    assert!(
                        content.get("example").or(schema_example).is_some(),
                        "{name}: {media_type} request example"
                    );
                }
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{name}: 401");
            }
        }
    }
}

#[test]
fn every_reference_in_the_spec_resolves() {
    let spec: serde_json::Value = serde_json::from_str(&finai::openapi::spec_json()).unwrap();
    fn walk(value: &serde_json::Value, spec: &serde_json::Value, missing: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = target.trim_start_matches('#');
                    if spec.pointer(pointer).is_none() {
                        missing.push(target.to_owned());
                    }
                }
                map.values().for_each(|v| walk(v, spec, missing));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, spec, missing)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&spec, &spec, &mut missing);
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "dangling references: {missing:?}");
}

#[test]
fn every_create_links_to_what_can_be_done_with_the_new_row() {
    let spec: serde_json::Value = serde_json::from_str(&finai::openapi::spec_json()).unwrap();
    let mut operations = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(id) = operation["operationId"].as_str() {
                operations.insert(id.to_owned(), (path.clone(), method.clone()));
            }
        }
    }
    let mut linked = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(links) = item["post"]["responses"]["201"]["links"].as_object() else {
            continue;
        };
        for (name, link) in links {
            let target = link["operationId"].as_str().unwrap();
            let (target_path, _) = operations
                .get(target)
                .unwrap_or_else(|| panic!("{path}: link {name} to an unknown operation"));
            // Every path parameter of the target is filled, the new row's from the answer.
            let wanted: Vec<&str> = target_path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            let given = link["parameters"].as_object().unwrap();
            assert_eq!(given.len(), wanted.len(), "{path} -> {target}");
            assert!(
                wanted.iter().all(|p| given.contains_key(*p)),
                "{path} -> {target}"
            );
            assert!(
                given.values().any(|v| v == "$response.body#/data/id"),
                "{path} -> {target}"
            );
            linked.push(target.to_owned());
        }
    }
    for expected in [
        "get_wallet",
        "update_transaction",
        "delete_budget",
        "pay_bill",
        "delete_category_description",
    ] {
        assert!(
            linked.iter().any(|l| l == expected),
            "no link to {expected}"
        );
    }
}

/// Every `$ref` in `document` that points nowhere in it.
fn dangling_references(document: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, root: &serde_json::Value, missing: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = target.trim_start_matches('#');
                    if root.pointer(pointer).is_none() {
                        missing.push(target.to_owned());
                    }
                }
                map.values().for_each(|v| walk(v, root, missing));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, root, missing)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(document, document, &mut missing);
    missing.sort();
    missing.dedup();
    missing
}

#[test]
fn every_event_type_has_a_message_on_every_channel() {
    let document = finai::asyncapi::document();
    assert_eq!(document["asyncapi"], "3.0.0");
    let channels = document["channels"].as_object().unwrap();
    assert_eq!(channels.len(), 4);
    for &event_type in finai::services::events::TYPES {
        let message = &document["components"]["messages"][event_type];
        assert_eq!(message["name"], event_type, "{event_type}: no message");
        let parts = &message["payload"]["allOf"];
        assert_eq!(parts[0]["$ref"], "#/components/schemas/EventFrame");
        assert_eq!(parts[1]["properties"]["type"]["const"], event_type);
        let data = parts[1]["properties"]["data"]["$ref"].as_str().unwrap();
        assert!(
            data.starts_with("#/components/schemas/") && data.ends_with("Data"),
            "{event_type}: data is {data}"
        );
        for (id, channel) in channels {
            assert!(
                channel["messages"][event_type].is_object(),
                "channel {id} lacks {event_type}"
            );
            let operation = &document["operations"][format!("receive_{id}")];
            assert_eq!(operation["action"], "receive");
            let reference = format!("#/channels/{id}/messages/{event_type}");
            assert!(
                operation["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["$ref"] == reference.as_str()),
                "receive_{id} lacks {event_type}"
            );
        }
    }
    // Commands go only one way, and only over a WebSocket.
    for (id, channel) in channels {
        let send = &document["operations"][format!("send_{id}")];
        if channel["bindings"]["ws"].is_object() {
            assert_eq!(send["action"], "send", "{id}");
            for command in ["subscribe", "resume", "ping"] {
                assert!(channel["messages"][command].is_object(), "{id}: {command}");
            }
        } else {
            assert!(send.is_null(), "{id} takes no commands");
        }
    }
    let codes = document["channels"]["events_ws"]["x-close-codes"]
        .as_array()
        .unwrap();
    assert_eq!(codes.len(), finai::realtime::session::Ending::ALL.len());
    assert_eq!(dangling_references(&document), Vec::<String>::new());
}

/// What the server bounds, the spec bounds too: a generated client or a form then refuses a
/// value before the server answers 422. Every request field under `src/dto` with a length
/// check, a bounded text, a currency, a colour, a list cap or a range carries the matching
/// keyword (`maxLength`, `pattern`, `maxItems`, `maximum`) in its schema's property.
#[test]
fn every_bound_the_server_checks_is_in_the_spec() {
    use std::collections::BTreeSet;
    // The validator functions that bound a field, and the keyword that says so in the spec.
    let keyword_of = |function: &str| -> Option<&'static str> {
        Some(match function.rsplit("::").next()? {
            "name" | "label" | "valid_description" | "valid_merchant" | "valid_notes"
            | "valid_split_note" | "question_text" | "description_text" | "flow_description" => {
                "maxLength"
            }
            "currency" | "color" => "pattern",
            "valid_tags" | "category_list" => "maxItems",
            "reminder" => "maximum",
            _ => return None,
        })
    };
    let spec: serde_json::Value = serde_json::from_str(&finai::openapi::spec_json()).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let has_keyword = |property: &serde_json::Value, keyword: &str| -> bool {
        property.get(keyword).is_some()
            || ["oneOf", "anyOf", "allOf"].iter().any(|k| {
                property[*k]
                    .as_array()
                    .is_some_and(|branches| branches.iter().any(|b| b.get(keyword).is_some()))
            })
    };
    let dto = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/dto");
    let mut files: Vec<_> = std::fs::read_dir(&dto)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut strukt = String::new();
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                strukt = rest.split([' ', '<', '{', '(']).next().unwrap().to_owned();
                wanted.clear();
            } else if line.starts_with("#[validate(") {
                if line.contains("length(") {
                    wanted.insert("length");
                }
                for part in line.split("custom(function = \"").skip(1) {
                    let function = part.split('"').next().unwrap();
                    if let Some(keyword) = keyword_of(function) {
                        wanted.insert(keyword);
                    }
                }
            } else if let Some(rest) = line.strip_prefix("pub ") {
                let Some((field, ty)) = rest.split_once(": ") else {
                    wanted.clear();
                    continue;
                };
                let field = field.trim_start_matches("r#");
                for keyword in std::mem::take(&mut wanted) {
                    let keyword = match keyword {
                        "length" if ty.contains("Vec<") => "maxItems",
                        "length" => "maxLength",
                        other => other,
                    };
                    // Query-string structs are parameters, not schemas.
                    let Some(schema) = schemas.get(&strukt) else {
                        continue;
                    };
                    let property = &schema["properties"][field];
                    checked += 1;
                    if !has_keyword(property, keyword) {
                        missing.push(format!("{strukt}.{field}: no {keyword}"));
                    }
                }
            } else if !line.starts_with("#[") && !line.starts_with("//") {
                wanted.clear();
            }
        }
    }
    assert!(
        missing.is_empty(),
        "bounded on the server, not in the spec: {missing:#?}"
    );
    assert!(
        checked > 80,
        "only {checked} bounded fields found: is the scan still right?"
    );
}
