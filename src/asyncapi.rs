//! The AsyncAPI 3.0 document of the event streams (`openapi/asyncapi.json`), built from the code
//! the way [`crate::openapi`] is: the payload schemas are the component schemas utoipa generates
//! for `dto::events` (taken from [`crate::openapi::spec`]), the event types are
//! `services::events::TYPES`, the control frames and commands are the variants of
//! `ControlFrame` and `Command`, the query parameters those of the OpenAPI operations, and the
//! close codes `realtime::session::Ending::ALL`. A test keeps the checked-in file equal to
//! [`document_json`].
//!
//! The operations are the client's: it receives what the server sends and sends commands.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::config::StreamSettings;
use crate::dto::events::{
    AlertData, BalanceUpdateData, BillPaidData, Command, ControlFrame, EventFrame,
    ImportFinishedData, NotificationEventData, ReceiptProcessedData, TransactionUpdateData,
};
use crate::http::ledger_scope::SCOPED_PREFIX;
use crate::realtime::session::Ending;
use crate::realtime::websocket::MAX_FRAME_BYTES;
use crate::services::events::TYPES;

/// The prefix of every route; the servers' `pathname`.
const API_PREFIX: &str = "/api/v1";

const SCHEMAS: &str = "#/components/schemas/";

/// Control frames that only answer a command, so only a WebSocket gets them.
const WEBSOCKET_ONLY_CONTROL: &[&str] = &["pong"];

/// The SSE stream's last event, `close` (built in `realtime::sse`, not a DTO).
const SSE_CLOSE: &str = "close";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSocket,
    ServerSentEvents,
}

/// (channel id, OpenAPI path, transport).
fn channels() -> [(&'static str, String, Transport); 4] {
    [
        (
            "events_ws",
            format!("{API_PREFIX}/events/ws"),
            Transport::WebSocket,
        ),
        (
            "events_stream",
            format!("{API_PREFIX}/events/stream"),
            Transport::ServerSentEvents,
        ),
        (
            "ledger_events_ws",
            format!("{SCOPED_PREFIX}{{ledger_id}}/events/ws"),
            Transport::WebSocket,
        ),
        (
            "ledger_events_stream",
            format!("{SCOPED_PREFIX}{{ledger_id}}/events/stream"),
            Transport::ServerSentEvents,
        ),
    ]
}

/// The component schema of an event type's `data`.
fn data_schema(event_type: &str) -> Option<String> {
    let name = match event_type {
        "transaction_update" => TransactionUpdateData::name(),
        "balance_update" => BalanceUpdateData::name(),
        "budget_alert" | "bill_reminder" | "unusual_spending" => AlertData::name(),
        "bill_paid" => BillPaidData::name(),
        "notification" => NotificationEventData::name(),
        "import_finished" => ImportFinishedData::name(),
        "receipt_processed" => ReceiptProcessedData::name(),
        _ => return None,
    };
    Some(name.into_owned())
}

/// What an ending means to a client. Exhaustive on purpose: a new `Ending` stops the build here,
/// and belongs in `Ending::ALL` too.
fn meaning(ending: Ending) -> &'static str {
    match ending {
        Ending::ClientGone => "The client closed the stream or went away.",
        Ending::TokenExpired => {
            "The access token behind the stream expired: reconnect with a fresh one and resume."
        }
        Ending::AccessRevoked => {
            "The account was disabled or deleted, logged out everywhere, or removed from the \
             ledger."
        }
        Ending::SlowConsumer => {
            "The client did not accept frames for longer than the send timeout: resume from the \
             cursor."
        }
        Ending::HeartbeatTimeout => "A WebSocket that answered nothing for two heartbeats.",
        Ending::FrameTooLarge => "The client sent a frame larger than the server accepts.",
        Ending::ServerError => "The database could not be read: reconnect and resume.",
    }
}

/// The document, built from the code.
pub fn document() -> Value {
    let spec = serde_json::to_value(crate::openapi::spec()).expect("the spec serialises");
    let openapi_schemas = &spec["components"]["schemas"];
    let schema_of = |name: &str| -> Value {
        openapi_schemas
            .get(name)
            .unwrap_or_else(|| panic!("the OpenAPI document has no schema `{name}`"))
            .clone()
    };

    // Messages: every event type, every control frame, every command, SSE's `close`.
    let mut messages = Map::new();
    let mut add_message = |id: &str, message: Value| {
        let previous = messages.insert(id.to_owned(), message);
        assert!(previous.is_none(), "two messages are called `{id}`");
    };
    let event_frame = EventFrame::name();
    let mut roots: Vec<String> = vec![
        event_frame.to_string(),
        ControlFrame::name().into_owned(),
        Command::name().into_owned(),
    ];
    let mut event_messages = Vec::new();
    for &event_type in TYPES {
        let data = data_schema(event_type).unwrap_or_else(|| {
            panic!("event type `{event_type}` has no `data` schema in asyncapi::data_schema")
        });
        let description = schema_of(&data)["description"].clone();
        add_message(
            event_type,
            json!({
                "name": event_type,
                "title": format!("Event `{event_type}`"),
                "description": description,
                "contentType": "application/json",
                "payload": {
                    "allOf": [
                        {"$ref": format!("{SCHEMAS}{event_frame}")},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": event_type},
                                "data": {"$ref": format!("{SCHEMAS}{data}")},
                            },
                        },
                    ],
                },
            }),
        );
        event_messages.push(event_type.to_owned());
        roots.push(data);
    }
    let mut control_messages = Vec::new();
    for (tag, variant) in variants(&schema_of(&ControlFrame::name())) {
        add_message(&tag, variant_message(&tag, "Control frame", variant));
        control_messages.push(tag);
    }
    for name in WEBSOCKET_ONLY_CONTROL {
        assert!(
            control_messages.iter().any(|tag| tag == name),
            "`{name}` is no control frame (asyncapi::WEBSOCKET_ONLY_CONTROL)"
        );
    }
    let mut command_messages = Vec::new();
    for (tag, variant) in variants(&schema_of(&Command::name())) {
        add_message(&tag, variant_message(&tag, "Command", variant));
        command_messages.push(tag);
    }
    add_message(SSE_CLOSE, sse_close_message());

    // The component schemas: the roots and everything they refer to, as utoipa made them.
    let mut schemas = Map::new();
    let mut pending = roots;
    while let Some(name) = pending.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let schema = to_asyncapi_schema(schema_of(&name));
        pending.extend(references(&schema));
        schemas.insert(name, schema);
    }

    // Channels and the operations on them.
    let mut channels_map = Map::new();
    let mut operations = Map::new();
    for (id, path, transport) in channels() {
        let operation = spec["paths"][&path]["get"].clone();
        assert!(
            operation.is_object(),
            "the OpenAPI document has no GET {path}"
        );
        let address = path
            .strip_prefix(API_PREFIX)
            .expect("every route is under /api/v1");
        let received: Vec<String> = match transport {
            Transport::WebSocket => event_messages
                .iter()
                .chain(&control_messages)
                .cloned()
                .collect(),
            Transport::ServerSentEvents => event_messages
                .iter()
                .chain(
                    control_messages
                        .iter()
                        .filter(|tag| !WEBSOCKET_ONLY_CONTROL.contains(&tag.as_str())),
                )
                .cloned()
                .chain(std::iter::once(SSE_CLOSE.to_owned()))
                .collect(),
        };
        let sent: &[String] = match transport {
            Transport::WebSocket => &command_messages,
            Transport::ServerSentEvents => &[],
        };
        let mut channel_messages = Map::new();
        for message in received.iter().chain(sent) {
            channel_messages.insert(
                message.clone(),
                json!({"$ref": format!("#/components/messages/{message}")}),
            );
        }
        let query = query_schema(&operation);
        let mut channel = json!({
            "address": address,
            "title": operation["summary"],
            "description": channel_description(transport),
            "messages": channel_messages,
        });
        let server = match transport {
            Transport::WebSocket => "ws",
            Transport::ServerSentEvents => "http",
        };
        channel["servers"] = json!([{"$ref": format!("#/servers/{server}")}]);
        let parameters = path_parameters(&operation);
        if !parameters.is_empty() {
            channel["parameters"] = Value::Object(parameters);
        }
        let on_channel = |names: &mut dyn Iterator<Item = &String>| -> Vec<Value> {
            names
                .map(|name| json!({"$ref": format!("#/channels/{id}/messages/{name}")}))
                .collect()
        };
        let mut receive = json!({
            "action": "receive",
            "channel": {"$ref": format!("#/channels/{id}")},
            "summary": "The frames the server sends: events, control frames.",
            "messages": on_channel(&mut received.iter()),
        });
        match transport {
            Transport::WebSocket => {
                channel["bindings"] =
                    json!({"ws": {"method": "GET", "query": query, "bindingVersion": "0.1.0"}});
                channel["x-close-codes"] = Value::Array(
                    Ending::ALL
                        .iter()
                        .map(|&ending| {
                            json!({"code": ending.code(), "name": ending.name(),
                                   "description": meaning(ending)})
                        })
                        .collect(),
                );
                operations.insert(
                    format!("send_{id}"),
                    json!({
                        "action": "send",
                        "channel": {"$ref": format!("#/channels/{id}")},
                        "summary": "The commands a client may send (JSON text frames).",
                        "messages": on_channel(&mut sent.iter()),
                    }),
                );
            }
            Transport::ServerSentEvents => {
                receive["bindings"] =
                    json!({"http": {"method": "GET", "query": query, "bindingVersion": "0.3.0"}});
            }
        }
        operations.insert(format!("receive_{id}"), receive);
        channels_map.insert(id.to_owned(), channel);
    }

    let bearer = crate::openapi::BEARER;
    let security = json!([
        {"$ref": format!("#/components/securitySchemes/{bearer}")},
        {"$ref": "#/components/securitySchemes/ticket"},
    ]);
    let ticket_description = spec["paths"][format!("{API_PREFIX}/events/ws")]["get"]["parameters"]
        .as_array()
        .and_then(|parameters| parameters.iter().find(|p| p["name"] == "ticket"))
        .map(|p| p["description"].clone())
        .expect("the WebSocket takes a ticket");
    let host_description = "The address the server listens on (`FINAI_BIND`, 127.0.0.1:8080 by \
                            default), or its public host.";
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "FinAI events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": info_description(),
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "ws": {
                "host": "localhost:8080",
                "protocol": "ws",
                "pathname": API_PREFIX,
                "title": "WebSocket",
                "description": format!("{host_description} `wss` behind TLS."),
                "security": security,
            },
            "http": {
                "host": "localhost:8080",
                "protocol": "http",
                "pathname": API_PREFIX,
                "title": "Server-Sent Events",
                "description": format!("{host_description} `https` behind TLS."),
                "security": security,
            },
        },
        "channels": channels_map,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                bearer: spec["components"]["securitySchemes"][bearer],
                "ticket": {
                    "type": "httpApiKey",
                    "name": "ticket",
                    "in": "query",
                    "description": ticket_description,
                },
            },
        },
    })
}

/// The document as checked in at `openapi/asyncapi.json`: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).expect("the document serialises");
    json.push('\n');
    json
}

/// The variants of a `#[serde(tag = "type")]` enum's schema, by tag.
fn variants(schema: &Value) -> Vec<(String, Value)> {
    schema["oneOf"]
        .as_array()
        .expect("a tagged enum's schema is a oneOf")
        .iter()
        .map(|variant| {
            let tag = variant["properties"]["type"]["enum"][0]
                .as_str()
                .expect("every variant is tagged by `type`");
            (tag.to_owned(), variant.clone())
        })
        .collect()
}

fn variant_message(tag: &str, kind: &str, variant: Value) -> Value {
    json!({
        "name": tag,
        "title": format!("{kind} `{tag}`"),
        "description": variant["description"],
        "contentType": "application/json",
        "payload": to_asyncapi_schema(variant),
    })
}

fn sse_close_message() -> Value {
    let names: Vec<&str> = Ending::ALL.iter().map(|ending| ending.name()).collect();
    json!({
        "name": SSE_CLOSE,
        "title": "SSE `close`",
        "description": "Server-Sent Events only: the last event when the server ends the stream, \
                        saying why (`code`, the name of a WebSocket close code) and where to \
                        resume (`cursor`). Not sent when the reader is gone or too slow to read \
                        it: it resumes from its `Last-Event-ID`.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["type", "code", "cursor"],
            "properties": {
                "type": {"const": SSE_CLOSE},
                "code": {"type": "string", "enum": names},
                "cursor": {"type": "string", "examples": ["1042"]},
            },
        },
    })
}

/// The query parameters of an OpenAPI operation, as one object schema (the bindings' `query`).
fn query_schema(operation: &Value) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "query" {
            continue;
        }
        let name = parameter["name"].as_str().expect("a parameter has a name");
        let mut schema = parameter["schema"].clone();
        schema["description"] = parameter["description"].clone();
        if let Some(example) = parameter.get("example") {
            schema["example"] = example.clone();
        }
        properties.insert(name.to_owned(), to_asyncapi_schema(schema));
        if parameter["required"] == true {
            required.push(name.to_owned());
        }
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The path parameters of an OpenAPI operation, as channel parameters.
fn path_parameters(operation: &Value) -> Map<String, Value> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|parameter| parameter["in"] == "path")
        .map(|parameter| {
            let name = parameter["name"].as_str().expect("a parameter has a name");
            (
                name.to_owned(),
                json!({"description": parameter["description"]}),
            )
        })
        .collect()
}

/// An OpenAPI 3.1 schema as an AsyncAPI schema (a superset of JSON Schema draft 7): `example`
/// becomes `examples`, an OpenAPI `discriminator` object its property name. References to
/// `#/components/schemas/` stay as they are: the AsyncAPI document has the same components.
fn to_asyncapi_schema(mut schema: Value) -> Value {
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(example) = object.remove("example") {
        object
            .entry("examples")
            .or_insert_with(|| Value::Array(vec![example]));
    }
    if let Some(property) = object
        .get("discriminator")
        .and_then(|d| d.get("propertyName"))
        .cloned()
    {
        object.insert("discriminator".into(), property);
    }
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        assert!(
            reference.starts_with(SCHEMAS),
            "a schema refers to `{reference}`, outside the component schemas"
        );
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" => {
                if let Some(map) = value.as_object_mut() {
                    for sub in map.values_mut() {
                        *sub = to_asyncapi_schema(sub.take());
                    }
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "propertyNames"
            | "contains"
            | "if"
            | "then"
            | "else" => *value = to_asyncapi_schema(value.take()),
            "allOf" | "oneOf" | "anyOf" | "prefixItems" => {
                if let Some(list) = value.as_array_mut() {
                    for sub in list {
                        *sub = to_asyncapi_schema(sub.take());
                    }
                }
            }
            _ => {}
        }
    }
    schema
}

/// The component schemas a schema refers to.
fn references(schema: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![schema];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(SCHEMAS))
                {
                    found.insert(name.to_owned());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

fn close_code_table() -> String {
    let mut table = String::from("| code | name | meaning |\n|---|---|---|\n");
    for ending in Ending::ALL {
        table.push_str(&format!(
            "| {} | `{}` | {} |\n",
            ending.code(),
            ending.name(),
            meaning(ending)
        ));
    }
    table
}

fn info_description() -> String {
    let settings = StreamSettings::default();
    let types: Vec<String> = TYPES
        .iter()
        .map(|t| {
            let data = data_schema(t).unwrap_or_default();
            format!("`{t}` (`data`: `{data}`)")
        })
        .collect();
    format!(
        "The ledger's event log, pushed as it commits: over a WebSocket \
         (`{API_PREFIX}/events/ws`) or as Server-Sent Events (`{API_PREFIX}/events/stream`); \
         the same under `{SCOPED_PREFIX}{{ledger_id}}/events/...` for a shared ledger. \
         Authenticate with `Authorization: Bearer <access token>`, or, where a client cannot \
         set headers (a browser's `WebSocket` or `EventSource`), with a single-use `?ticket=` \
         from `POST {API_PREFIX}/events/ticket` (see the OpenAPI document). The operations here \
         are the client's: it receives the server's frames and, on a WebSocket, sends commands.\n\n\
         **Frames.** Every frame is one JSON object whose `type` names it. The first is \
         `connected`, with the `cursor` the stream is open at; then every event of the ledger \
         as it commits, in order, once each: {types}. Filter with `?types=` and `?wallet_ids=` \
         (or the `subscribe` command; `subscribed` confirms the filter in force).\n\n\
         **Cursor and resume.** Each event has a `seq`, increasing along the ledger's log. To \
         resume after a disconnect, open the stream with `?cursor=` the last `seq` received \
         (on SSE, `Last-Event-ID` does the same, and wins), or send `resume` on a WebSocket: \
         the events after it are replayed, then the stream goes on live. A cursor the log no \
         longer reaches back to gets `sync_required`: fetch the state afresh \
         (`GET {API_PREFIX}/sync`), then carry on from its `cursor`. A cursor that is not one of \
         this ledger's gets `error` (`invalid_cursor`) and the stream stays open.\n\n\
         **Heartbeats.** The server pings every `heartbeat_seconds` (of `connected`; {heartbeat} s \
         by default): WebSocket ping frames, SSE comment lines. A WebSocket silent for twice as \
         long is closed; a client that does not accept a frame within {send_timeout} s (by \
         default) is closed as `slow_consumer`.\n\n\
         **Endings.** When the server ends a stream it says why and where to resume: on a \
         WebSocket, with the close code and the reason `\"<name>; resume from <cursor>\"`; on \
         SSE, with a last `close` event carrying the name and the cursor.\n\n{table}",
        types = types.join(", "),
        heartbeat = settings.heartbeat.as_secs(),
        send_timeout = settings.send_timeout.as_secs(),
        table = close_code_table(),
    )
}

fn channel_description(transport: Transport) -> String {
    match transport {
        Transport::WebSocket => format!(
            "JSON text frames both ways: the server sends events and control frames, the client \
             may send commands (a refused one gets an `error` frame; the socket stays open). \
             Frames from the client over {} KiB close the socket with 1009. Close codes \
             (reason `\"<name>; resume from <cursor>\"`) are in `x-close-codes`.",
            MAX_FRAME_BYTES / 1024
        ),
        Transport::ServerSentEvents => "`text/event-stream`. An event is `id: <seq>`, \
             `event: <type>`, `data: <the frame>`: a client that authenticates with the \
             `Authorization` header resumes with `Last-Event-ID`; a browser's `EventSource`, \
             whose single-use `ticket` does not open a second time, asks for a new ticket and \
             resumes with `cursor=<the last id>`. Control frames come without an `id`, a comment line is the \
             heartbeat, and a last `close` event says why the server ended the stream. The \
             client sends nothing (filter with the query)."
            .to_owned(),
    }
}
