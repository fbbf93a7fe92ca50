//! `/api/v1/rules`: the ledger's import rules, applied to imported entries before the
//! categoriser and on demand to existing transactions. The work is in `services::rules`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::transactions::TransactionResponse;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{Envelope, ValidatedJson};
use crate::services::rules;
use crate::state::AppState;

/// The ledger's rules, in the order they apply.
#[utoipa::path(
    tag = "rules",
    operation_id = "list_rules",
    summary = "List rules",
    responses((status = 200, description = "The rules, in order", body = Envelope<Vec<RuleResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/rules")]
pub async fn list_rules(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = db::run(&state.pool, move |conn| rules::list(conn, &caller)).await?;
    let rows: Vec<RuleResponse> = rows.into_iter().map(RuleResponse::from).collect();
    Ok(Envelope::new(rows).ok())
}

/// Create a rule. Imported entries go through the active rules in order before the
/// categoriser: each field (category, payee, transfer) comes from the first matching rule that
/// sets it, tags from all of them.
#[utoipa::path(
    tag = "rules",
    operation_id = "create_rule",
    summary = "Create a rule",
    request_body = CreateRuleRequest,
    responses(
        (status = 201, description = "The rule", body = Envelope<RuleResponse>),
        (status = 404, description = "`not_found`: no such wallet or category", body = ErrorBody),
        (status = 409, description = "`rule_limit`: the ledger has 500 rules", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no condition or no action, a bad pattern, a category of the other kind", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/rules")]
pub async fn create_rule(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateRuleRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let rule = db::run(&state.pool, move |conn| rules::create(conn, &caller, body)).await?;
    let location = format!("/api/v1/rules/{}", rule.id);
    Ok(Envelope::new(RuleResponse::from(rule)).created(&location))
}

#[utoipa::path(
    tag = "rules",
    operation_id = "get_rule",
    summary = "Get a rule",
    params(("id" = Uuid, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = Envelope<RuleResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/rules/{id}")]
pub async fn get_rule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rule = db::run(&state.pool, move |conn| rules::get(conn, &caller, id)).await?;
    Ok(Envelope::new(RuleResponse::from(rule)).ok())
}

#[utoipa::path(
    tag = "rules",
    operation_id = "update_rule",
    summary = "Update a rule",
    params(("id" = Uuid, Path, description = "Rule id")),
    request_body = UpdateRuleRequest,
    responses(
        (status = 200, description = "The rule", body = Envelope<RuleResponse>),
        (status = 404, description = "`not_found`: no such rule, wallet or category", body = ErrorBody),
        (status = 422, description = "`validation_failed`: as on create", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/rules/{id}")]
pub async fn update_rule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateRuleRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let rule = db::run(&state.pool, move |conn| {
        rules::update(conn, &caller, id, body)
    })
    .await?;
    Ok(Envelope::new(RuleResponse::from(rule)).ok())
}

#[utoipa::path(
    tag = "rules",
    operation_id = "delete_rule",
    summary = "Delete a rule",
    params(("id" = Uuid, Path, description = "Rule id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/rules/{id}")]
pub async fn delete_rule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| rules::delete(conn, &caller, id)).await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Apply a rule to the ledger's existing expenses and incomes (whether it is active or not),
/// each change through the ledger's write path, all at once. A category a member chose by hand
/// is never replaced. `dry_run` counts and shows, and changes nothing.
#[utoipa::path(
    tag = "rules",
    operation_id = "apply_rule",
    summary = "Apply a rule to existing transactions",
    params(("id" = Uuid, Path, description = "Rule id")),
    request_body = ApplyRuleRequest,
    responses(
        (status = 200, description = "How many matched and changed, and a sample", body = Envelope<ApplyRuleResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a change the ledger's rules refuse (e.g. a transfer into an archived wallet)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/rules/{id}/apply")]
pub async fn apply_rule(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<ApplyRuleRequest>,
) -> ApiResult<HttpResponse> {
    let (id, dry_run) = (id.into_inner(), body.into_inner().dry_run);
    let applied = db::run(&state.pool, move |conn| {
        rules::apply(conn, &caller, id, dry_run)
    })
    .await?;
    Ok(Envelope::new(ApplyRuleResponse {
        dry_run,
        matched: applied.matched,
        changed: applied.changed,
        transfers_held_back: applied.transfers_held_back,
        sample: applied
            .sample
            .into_iter()
            .map(TransactionResponse::from)
            .collect(),
    })
    .ok())
}
