//! The OpenAPI document, generated from the same route configuration the server mounts.
//!
//! The error responses every operation can give (401 when secured, 404 on a path with an id,
//! 413/415/422 with a body, 429, 500, 503) are added here once, from the shape of each
//! operation, instead of being repeated on every handler.

use actix_web::{App, HttpResponse};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Spec, Ref, RefOr, ResponseBuilder, Server,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::ErrorBody;
use crate::http::PageMeta;

pub const BEARER: &str = "bearer_auth";
pub const PERSONAL_TOKEN: &str = "personal_access_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "FinAI API",
        description = "A headless JSON REST API for personal and small-business finance: \
            wallets, categories, transactions, budgets, bills, reports and predictions.\n\n\
            Every answer uses one envelope: `{\"status\":\"success\",\"data\":...,\"meta\":...}` \
            or `{\"status\":\"error\",\"code\":\"...\",\"message\":\"...\",\"errors\":{...}}`. \
            Amounts are exact decimals (JSON numbers with at most 4 decimal places); dates are \
            `YYYY-MM-DD`; timestamps RFC 3339 UTC. Every response carries `X-Request-Id`.\n\n\
            Rate limits (per minute, shared by every server of a deployment): 600 reads and 120 \
            writes per user or personal access token, 120 requests per address without a valid \
            credential, 20 per address under `/auth`. Answers carry `RateLimit-Limit`, \
            `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the bucket is full again) and \
            `RateLimit-Policy`; a refused request is 429 `rate_limited` with `Retry-After`.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "This server")),
    modifiers(&SecurityAddon),
    // Schemas only query parameters refer to (bodies and responses register their own).
    components(schemas(
        ErrorBody,
        PageMeta,
        crate::dto::reports::Granularity,
        crate::dto::reports::Level,
        crate::dto::reports::ReportFormat,
        crate::dto::transactions::ExportFormat,
        crate::dto::transactions::ExportSheets,
        crate::dto::notifications::NotificationSort,
        crate::db::audit::Action,
        // The event stream's frames and payloads (the WebSocket and SSE bodies).
        crate::dto::events::EventFrame,
        crate::dto::events::ControlFrame,
        crate::dto::events::Command,
        crate::dto::events::TransactionUpdateData,
        crate::dto::events::BalanceUpdateData,
        crate::dto::events::NotificationEventData,
        crate::dto::events::AlertData,
        crate::dto::events::BillPaidData,
        crate::dto::events::ImportFinishedData,
        crate::dto::events::ReceiptProcessedData,
        crate::dto::receipts::ReceiptStatus
    )),
    tags(
        (name = "auth", description = "Registration, login, tokens, password reset, email verification"),
        (name = "users", description = "The caller's own account"),
        (name = "admin", description = "Accounts, statistics and the audit log (admins only)"),
        (name = "wallets", description = "Cash, bank, card, savings, e-wallet and investment accounts"),
        (name = "categories", description = "Hierarchical expense and income categories, with quick-pick descriptions"),
        (name = "transactions", description = "Expenses, income and transfers, with splits, filters and search"),
        (name = "expenses", description = "The transactions of type expense (same resource, narrowed)"),
        (name = "sync", description = "Delta sync for offline clients"),
        (name = "imports", description = "Bank statement files (OFX/QFX, QIF, CAMT.053, CSV) as import batches: accounts linked to wallets, duplicates recognised, a review queue"),
        (name = "receipts", description = "Receipt photos and PDFs read by OCR (Tesseract, English and Vietnamese) into merchant, date, total, tax, tip and line items; corrected, recorded as split expenses or matched to what the bank recorded"),
        (name = "attachments", description = "Files attached to transactions (JPEG, PNG, WebP, HEIC, PDF), told by their bytes"),
        (name = "rules", description = "Import rules: conditions on payee, amount, wallet and type; actions that set a category, add tags, rename the payee or make a transfer"),
        (name = "webhooks", description = "URLs that receive the ledger's events: signed, retried for a day, logged"),
        (name = "events", description = "The ledger's events pushed as they happen: WebSocket and Server-Sent Events, resumable from a cursor"),
        (name = "budgets", description = "Budgets with live progress, rollover and history"),
        (name = "bills", description = "Bills with reminders, payment and history"),
        (name = "recurring", description = "Recurring transactions, materialised on their due dates"),
        (name = "notifications", description = "Budget alerts, bill reminders and unusual spending"),
        (name = "reports", description = "Summary, spending by category, trend, budget progress and cash flow"),
        (name = "predictions", description = "Spending forecasts checked against baselines, and category suggestions that learn"),
        (name = "goals", description = "Savings goals: a wallet's balance or explicit contributions against a target and date, with pace and on_track/behind/reached"),
        (name = "scenarios", description = "What-if simulations: projected balances month by month under added incomes and expenses, cancelled payments and changed budgets; nothing is written"),
        (name = "assistant", description = "Questions in plain English or Vietnamese answered from the ledger's own figures, with the figures and the query behind every number"),
        (name = "insights", description = "Spending changes, recurring payments, seasonality and budget recommendations"),
        (name = "health", description = "Liveness and readiness probes")
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `POST /api/v1/auth/login` or `/auth/register`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            PERSONAL_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("finai_pat_...")
                    .description(Some(
                        "A personal access token from `POST /api/v1/users/me/tokens`: \
                         `read` tokens may only GET (anything else is 403 \
                         `insufficient_scope`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Builds the spec from `routes::configure`.
pub fn spec() -> Spec {
    let (_, mut spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure())
        .split_for_parts();
    spec.servers = Some(vec![Server::new("/")]);
    add_ledger_paths(&mut spec);
    accept_personal_tokens(&mut spec);
    refer_to_envelope_data(&mut spec);
    add_error_responses(&mut spec);
    add_idempotency(&mut spec);
    add_links(&mut spec);
    open_simulated_flow(&mut spec);
    spec
}

/// A scenario's income or expense is a `SimulatedFlow` with its `kind` beside it (`allOf`):
/// the flow's own `additionalProperties: false` (from `deny_unknown_fields`) would refuse that
/// `kind`, and no change of those kinds could validate. The server still refuses unknown fields.
fn open_simulated_flow(spec: &mut Spec) {
    let flow = spec
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("SimulatedFlow"));
    if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(flow))) = flow {
        flow.additional_properties = None;
    }
}

/// Every operation on a resource that lives in a ledger is served at
/// `/api/v1/ledgers/{ledger_id}/...` too (see `http::ledger_scope`): each gets its copy there,
/// with the ledger parameter, an operation id prefixed `ledger_`, and its tag.
fn add_ledger_paths(spec: &mut Spec) {
    use crate::http::ledger_scope::{LEDGER_RESOURCES, SCOPED_PREFIX};
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::Required;

    let parameter = ParameterBuilder::new()
        .name("ledger_id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(
            "A ledger the caller is a member of (`GET /api/v1/ledgers`). The same path without \
             `/ledgers/{ledger_id}` works on the caller's personal ledger. A viewer's writes \
             get 403 `ledger_read_only`; a ledger the caller is not a member of is 404.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        ))
        .build();
    let copies: Vec<(String, PathItem)> = spec
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let rest = path.strip_prefix("/api/v1/")?;
            let resource = rest.split('/').next()?;
            if !LEDGER_RESOURCES.contains(&resource) {
                return None;
            }
            let mut item = item.clone();
            for operation in operations(&mut item) {
                operation.operation_id = operation
                    .operation_id
                    .as_ref()
                    .map(|id| format!("ledger_{id}"));
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .insert(0, RefOr::T(parameter.clone()));
            }
            Some((format!("{SCOPED_PREFIX}{{ledger_id}}/{rest}"), item))
        })
        .collect();
    spec.paths.paths.extend(copies);
}

/// A personal access token goes wherever an access token does, except to the management of
/// personal access tokens (a login session only).
fn accept_personal_tokens(spec: &mut Spec) {
    use utoipa::openapi::security::SecurityRequirement;
    let bearer = SecurityRequirement::new(BEARER, Vec::<String>::new());
    let personal = SecurityRequirement::new(PERSONAL_TOKEN, Vec::<String>::new());
    for (path, item) in spec.paths.paths.iter_mut() {
        if path.starts_with("/api/v1/users/me/tokens") {
            continue;
        }
        for operation in operations(item) {
            if let Some(security) = operation.security.as_mut() {
                if security.contains(&bearer) && !security.contains(&personal) {
                    security.push(personal.clone());
                }
            }
        }
    }
}

/// Every POST outside `/auth` takes an optional `Idempotency-Key` (see `http::idempotency`):
/// the parameter, its 400 and its 409 answers are declared here once.
fn add_idempotency(spec: &mut Spec) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;

    let components = spec.components.get_or_insert_with(Default::default);
    components.responses.insert(
        "IdempotencyConflict".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "`idempotency_key_reused`: the key was used for another request; \
                     `idempotency_request_in_progress`: the first request with it is still \
                     running (retry shortly)",
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        ),
    );
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key and request within 24 hours get the first \
             answer again (with `Idempotent-Replayed: true`) and change nothing. 1 to 255 \
             printable ASCII characters; a UUID is ideal. Keys are per user.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]+$"))
                .examples(["5f0c6f4e-8f0a-4a43-9a52-3f1d2c7e9b10"]),
        ))
        .build();
    for (path, item) in spec.paths.paths.iter_mut() {
        if path.starts_with("/api/v1/auth/") {
            continue;
        }
        let Some(operation) = item.post.as_mut() else {
            continue;
        };
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(parameter.clone()));
        let responses = &mut operation.responses.responses;
        responses
            .entry("400".to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name("BadRequest")));
        responses
            .entry("409".to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name("IdempotencyConflict")));
    }
}

/// Links from each create (a `201` at path P) to every operation on `P/{id}...`: the new row's
/// `data.id` fills the one path parameter P does not have (P's own come from the request). A
/// client, or schemathesis's stateful phase, can follow them from a create to read, change,
/// delete and act on what it made.
fn add_links(spec: &mut Spec) {
    use utoipa::openapi::link::LinkBuilder;
    let params_of = |path: &str| -> Vec<String> {
        path.split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect()
    };
    // (target path, operation id) of every operation.
    let mut targets: Vec<(String, String)> = Vec::new();
    for (path, item) in &spec.paths.paths {
        for operation in [&item.get, &item.patch, &item.put, &item.post, &item.delete] {
            if let Some(id) = operation.as_ref().and_then(|o| o.operation_id.clone()) {
                targets.push((path.clone(), id));
            }
        }
    }
    for (path, item) in spec.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else {
            continue;
        };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        let own = params_of(path);
        let prefix = format!("{path}/{{");
        for (target, operation_id) in &targets {
            let Some(rest) = target.strip_prefix(&prefix) else {
                continue;
            };
            let new_params: Vec<String> = params_of(target)
                .into_iter()
                .filter(|p| !own.contains(p))
                .collect();
            // Only the first segment after P may name the new row.
            let [new_param] = new_params.as_slice() else {
                continue;
            };
            if !rest.starts_with(&format!("{new_param}}}")) {
                continue;
            }
            let mut link = LinkBuilder::new()
                .operation_id(operation_id.clone())
                .parameter(new_param.clone(), "$response.body#/data/id");
            for param in &own {
                link = link.parameter(param.clone(), format!("$request.path.{param}"));
            }
            created
                .links
                .insert(operation_id.clone(), RefOr::T(link.build()));
        }
    }
}

/// The spec as checked in at `openapi/openapi.json`: pretty JSON with a final newline.
pub fn spec_json() -> String {
    let mut json = serde_json::to_string_pretty(&spec()).expect("the spec serialises");
    json.push('\n');
    json
}

/// The spec the server serves at `/api/v1/openapi.json`: the checked-in file, compiled in. A
/// test keeps it equal to [`spec_json`], so the server need not build the spec (a large,
/// short-lived heap) at start, and serving it copies nothing.
pub const SERVED: &str = include_str!("../openapi/openapi.json");

pub async fn serve_spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SERVED)
}

/// utoipa inlines a generic's type argument: `Envelope_TransactionResponse.data` is a copy of
/// `TransactionResponse`, and a generated client gets one class per copy. Every such copy that
/// equals a component schema becomes a `$ref` to it (`data`, or `data.items` for lists).
fn refer_to_envelope_data(spec: &mut Spec) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    let named: std::collections::HashMap<String, String> = components
        .schemas
        .iter()
        .filter(|(name, _)| !name.starts_with("Envelope"))
        .filter_map(|(name, schema)| Some((serde_json::to_string(schema).ok()?, name.clone())))
        .collect();
    let reference = |schema: &RefOr<Schema>| {
        let json = serde_json::to_string(schema).ok()?;
        named
            .get(&json)
            .map(|name| RefOr::Ref(Ref::from_schema_name(name.as_str())))
    };
    for (name, schema) in components.schemas.iter_mut() {
        if !name.starts_with("Envelope") {
            continue;
        }
        let RefOr::T(Schema::Object(envelope)) = schema else {
            continue;
        };
        let Some(data) = envelope.properties.get_mut("data") else {
            continue;
        };
        if let RefOr::T(Schema::Array(array)) = data {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                if let Some(found) = reference(items) {
                    **items = found;
                }
            }
        } else if let Some(found) = reference(data) {
            *data = found;
        }
    }
}

/// (component name, status, description, extra header)
const ERROR_RESPONSES: [(&str, &str, &str, Option<&str>); 10] = [
    ("BadRequest", "400", "Malformed JSON, an invalid path or query parameter, or a query string no request may carry (`invalid_query`: a NUL character, invalid percent-encoding)", None),
    ("Unauthorized", "401", "Missing, invalid or expired access token (`missing_token`, `invalid_token`, `token_expired`)", None),
    ("Forbidden", "403", "The caller's role does not allow this, or the account is disabled", None),
    ("NotFound", "404", "No such resource (or it belongs to another user)", None),
    ("PayloadTooLarge", "413", "The request body is larger than the limit", None),
    ("UnsupportedMediaType", "415", "The request body is not `application/json`", None),
    ("ValidationFailed", "422", "Invalid fields; `errors` names each one", None),
    ("TooManyRequests", "429", "Rate limited (`rate_limited`) or locked (`account_locked`); retry after `Retry-After` seconds", Some("Retry-After")),
    ("InternalError", "500", "Unexpected error; quote `X-Request-Id` when reporting it", None),
    ("ServiceUnavailable", "503", "The database is unavailable; retry after `Retry-After` seconds", Some("Retry-After")),
];

/// What every counted answer carries (IETF draft `ratelimit-headers`), documented on the 429.
const RATE_LIMIT_HEADERS: [(&str, &str); 4] = [
    (
        "RateLimit-Limit",
        "Requests allowed per window in the bucket this request counted against",
    ),
    ("RateLimit-Remaining", "Requests left in that bucket now"),
    ("RateLimit-Reset", "Seconds until the bucket is full again"),
    (
        "RateLimit-Policy",
        "The bucket's limit, window and name, e.g. `600;w=60;name=\"reads\"`",
    ),
];

fn add_error_responses(spec: &mut Spec) {
    let components = spec.components.get_or_insert_with(Default::default);
    for (name, status, description, header) in ERROR_RESPONSES {
        let mut response = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
        if status == "429" {
            for (name, description) in RATE_LIMIT_HEADERS {
                response = response.header(
                    name,
                    HeaderBuilder::new()
                        .schema(Some(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::String)
                                .build(),
                        ))
                        .description(Some(description))
                        .build(),
                );
            }
        }
        if let Some(header) = header {
            response = response.header(
                header,
                HeaderBuilder::new()
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::Integer)
                            .build(),
                    ))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response.build()));
    }

    let id_bodies = schemas_with_id_fields(spec);
    for (path, item) in spec.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for operation in operations(item) {
            let secured = operation
                .security
                .as_ref()
                .is_some_and(|reqs| !reqs.is_empty() && !reqs.iter().all(is_empty_requirement));
            if !secured {
                // Public: `security: []` says "no authentication" (utoipa writes `[{}]`,
                // "authentication optional", which makes generators ask for a token).
                operation.security = Some(Vec::new());
            }
            let has_body = operation.request_body.is_some();
            // Any id the client names (path, `*_id` filter or `*_id(s)` body field) may be
            // unknown or another user's: 404.
            let names_ids = has_path_params
                || query_names(operation).any(|name| name.ends_with("_id"))
                || body_schema_name(operation).is_some_and(|name| id_bodies.contains(name));
            for (name, status, _, _) in ERROR_RESPONSES {
                let applies = match status {
                    // Any query string is read before the handler, parameters or not.
                    "400" => true,
                    "401" => secured,
                    "404" => names_ids,
                    "413" | "415" | "422" => has_body,
                    "403" => secured,
                    _ => true,
                };
                if applies {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                }
            }
        }
    }
}

/// Names of the component schemas with a property that refers to another resource by id.
fn schemas_with_id_fields(spec: &Spec) -> std::collections::BTreeSet<String> {
    use utoipa::openapi::schema::Schema;
    let Some(components) = spec.components.as_ref() else {
        return Default::default();
    };
    components
        .schemas
        .iter()
        .filter(|(_, schema)| match schema {
            RefOr::T(Schema::Object(object)) => object
                .properties
                .keys()
                .any(|key| key.ends_with("_id") || key.ends_with("_ids")),
            _ => false,
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn query_names(operation: &Operation) -> impl Iterator<Item = &str> {
    operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query) => {
                Some(p.name.as_str())
            }
            _ => None,
        })
}

/// The component name of the operation's JSON request body, when it is a reference.
fn body_schema_name(operation: &Operation) -> Option<&str> {
    let RefOr::T(body) = operation.request_body.as_ref()? else {
        return None;
    };
    let RefOr::T(content) = body.content.get("application/json")? else {
        return None;
    };
    match content.schema.as_ref()? {
        RefOr::Ref(reference) => reference.ref_location.rsplit('/').next(),
        RefOr::T(_) => None,
    }
}

fn is_empty_requirement(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(requirement).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
    ]
    .into_iter()
    .flatten()
}
