//! `/api/v1/recurring`: transaction templates materialised by the background job.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::Datelike;
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::recurring::{self, Recurring, RecurringFields};
use crate::domain::ledger::TransactionType;
use crate::domain::transaction::Draft;
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult};
use crate::http::{Envelope, Page, PageQuery, ValidatedJson};
use crate::services::bills::not_long_ago;
use crate::services::caller::stored;
use crate::services::ledger::{check_draft, clean_tags, non_empty};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::not_found("Recurring transaction")
}

fn draft_of(fields: &RecurringFields) -> Result<Draft, ApiError> {
    Ok(Draft {
        transaction_type: stored(
            "transaction type",
            &fields.transaction_type,
            TransactionType::parse,
        )?,
        amount: fields.amount,
        category_id: fields.category_id,
        wallet_id: fields.wallet_id,
        to_wallet_id: fields.to_wallet_id,
        splits: Vec::new(),
    })
}

fn check_dates(fields: &RecurringFields) -> Result<(), ApiError> {
    if fields.end_date.is_some_and(|end| end < fields.next_date) {
        return Err(ApiError::invalid_field(
            "end_date",
            "must not be before next_date",
        ));
    }
    Ok(())
}

/// The caller's recurring transactions.
#[utoipa::path(
    tag = "recurring",
    operation_id = "list_recurring",
    summary = "List recurring transactions",
    params(PageQuery),
    responses((status = 200, description = "A page of templates", body = Envelope<Vec<RecurringResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/recurring")]
pub async fn list_recurring(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        recurring::list(conn, caller.ledger.id, page.limit(), page.offset())
    })
    .await?;
    let data: Vec<RecurringResponse> = rows.into_iter().map(RecurringResponse::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Set up a recurring expense, income or transfer. The server creates the transaction on each
/// due date (in the background), exactly once.
#[utoipa::path(
    tag = "recurring",
    operation_id = "create_recurring",
    summary = "Create a recurring transaction",
    request_body = CreateRecurringRequest,
    responses((status = 201, description = "The new template", body = Envelope<RecurringResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/recurring")]
pub async fn create_recurring(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateRecurringRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let template = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let next_date = match body.next_date {
                Some(date) => date,
                None => caller.today(),
            };
            let mut fields = RecurringFields {
                transaction_type: body.transaction_type.as_str().to_owned(),
                amount: body.amount.0,
                currency: String::new(),
                description: body.description.unwrap_or_default().trim().to_owned(),
                merchant: non_empty(body.merchant),
                notes: non_empty(body.notes),
                category_id: body.category_id,
                wallet_id: body.wallet_id,
                to_wallet_id: body.to_wallet_id,
                tags: clean_tags(body.tags.unwrap_or_default()),
                frequency: body.frequency.as_str().to_owned(),
                next_date,
                end_date: body.end_date,
                anchor_day: next_date.day() as i16,
                active: body.active.unwrap_or(true),
            };
            let draft = draft_of(&fields)?;
            check_dates(&fields)?;
            not_long_ago(caller.today(), fields.next_date, "next_date")?;
            fields.currency = check_draft(
                conn,
                caller.ledger.id,
                &draft,
                body.currency.as_deref(),
                &[],
            )?;
            recurring::insert(conn, caller.ledger.id, &fields).map_err(ApiError::from)
        })
    })
    .await?;
    let location = format!("/api/v1/recurring/{}", template.id);
    Ok(Envelope::new(RecurringResponse::from(template)).created(&location))
}

/// One recurring transaction.
#[utoipa::path(
    tag = "recurring",
    operation_id = "get_recurring",
    summary = "Get a recurring transaction",
    params(("id" = Uuid, Path, description = "Template id")),
    responses((status = 200, description = "The template", body = Envelope<RecurringResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/recurring/{id}")]
pub async fn get_recurring(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| {
        recurring::find(conn, caller.ledger.id, id)
    })
    .await?
    .ok_or_else(not_found)?;
    Ok(Envelope::new(RecurringResponse::from(row)).ok())
}

/// Change a recurring transaction (future occurrences only).
#[utoipa::path(
    tag = "recurring",
    operation_id = "update_recurring",
    summary = "Update a recurring transaction",
    params(("id" = Uuid, Path, description = "Template id")),
    request_body = UpdateRecurringRequest,
    responses((status = 200, description = "The updated template", body = Envelope<RecurringResponse>)),
    security(("bearer_auth" = []))
)]
#[patch("/recurring/{id}")]
pub async fn update_recurring(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateRecurringRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let row = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let current: Recurring =
                recurring::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            let next_date = body.next_date.unwrap_or(current.next_date);
            // Only a new date or rhythm re-anchors the day of month (a client sending the
            // shown date back, clamped to a short month, must not move it).
            let reanchors = next_date != current.next_date
                || body
                    .frequency
                    .is_some_and(|f| f.as_str() != current.frequency);
            let mut fields = RecurringFields {
                transaction_type: current.transaction_type,
                amount: body.amount.map_or(current.amount, |a| a.0),
                currency: current.currency,
                description: body
                    .description
                    .map_or(current.description, |d| d.trim().to_owned()),
                merchant: current.merchant,
                notes: current.notes,
                category_id: body.category_id.or(current.category_id),
                wallet_id: body.wallet_id.unwrap_or(current.wallet_id),
                to_wallet_id: current.to_wallet_id,
                tags: current.tags,
                frequency: body
                    .frequency
                    .map_or(current.frequency, |f| f.as_str().to_owned()),
                next_date,
                end_date: body.end_date.unwrap_or(current.end_date),
                anchor_day: if reanchors {
                    next_date.day() as i16
                } else {
                    current.anchor_day
                },
                active: body.active.unwrap_or(current.active),
            };
            let draft = draft_of(&fields)?;
            check_dates(&fields)?;
            if body.next_date.is_some() {
                not_long_ago(caller.today(), fields.next_date, "next_date")?;
            }
            let kept: Vec<Uuid> = [Some(current.wallet_id), current.to_wallet_id]
                .into_iter()
                .flatten()
                .collect();
            // Moved to another wallet, the template keeps its currency (see bills).
            let kept_currency =
                (fields.wallet_id != current.wallet_id).then(|| fields.currency.clone());
            fields.currency = check_draft(
                conn,
                caller.ledger.id,
                &draft,
                kept_currency.as_deref(),
                &kept,
            )?;
            recurring::update(conn, caller.ledger.id, id, &fields).map_err(ApiError::from)
        })
    })
    .await?;
    Ok(Envelope::new(RecurringResponse::from(row)).ok())
}

/// Stop and delete a recurring transaction (the transactions it created stay).
#[utoipa::path(
    tag = "recurring",
    operation_id = "delete_recurring",
    summary = "Delete a recurring transaction",
    params(("id" = Uuid, Path, description = "Template id")),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/recurring/{id}")]
pub async fn delete_recurring(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // The row and its tombstone together.
    let deleted = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            Ok(recurring::delete(conn, caller.ledger.id, id)?)
        })
    })
    .await?;
    if deleted == 0 {
        return Err(not_found());
    }
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}
