//! `/api/v1/budgets`: budgets with live progress, history and status.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::budgets::{self, BudgetFields};
use crate::domain::money::Money;
use crate::domain::period::{budget_status, period_containing, previous_period};
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, ValidatedJson};
use crate::services;
use crate::services::alerts::{self, BudgetsToCheck};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::not_found("Budget")
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    ids
}

/// The caller's budgets with their current figures, all computed in one query.
#[utoipa::path(
    tag = "budgets",
    operation_id = "list_budgets",
    summary = "List budgets with live progress",
    params(BudgetListQuery),
    responses((status = 200, description = "A page of budgets", body = Envelope<Vec<BudgetResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/budgets")]
pub async fn list_budgets(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<BudgetListQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let at = query.at;
    let (data, total) = db::run(&state.pool, move |conn| {
        let rows = budgets::list(conn, caller.ledger.id, page.limit(), page.offset())?;
        let total = match rows.first() {
            Some(row) => row.total_count,
            None if page.offset() == 0 => 0,
            None => budgets::count(conn, caller.ledger.id)?,
        };
        let at = match at {
            Some(at) => at,
            None => caller.today(),
        };
        let data: Vec<BudgetResponse> = budgets::evaluate(conn, caller.ledger.id, rows, at)?
            .into_iter()
            .map(BudgetResponse::from)
            .collect();
        Ok::<_, ApiError>((data, total))
    })
    .await?;
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Create a budget over one or more expense categories.
#[utoipa::path(
    tag = "budgets",
    operation_id = "create_budget",
    summary = "Create a budget",
    request_body = CreateBudgetRequest,
    responses(
        (status = 201, description = "The new budget with its current figures", body = Envelope<BudgetResponse>),
        (status = 404, description = "A category is not the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/budgets")]
pub async fn create_budget(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateBudgetRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let budget = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let today = caller.today();
            let fields = BudgetFields {
                name: body.name.trim().to_owned(),
                amount: body.amount.0,
                currency: body.currency.unwrap_or_else(|| caller.currency.to_string()),
                period: body.period.as_str().to_owned(),
                start_date: body.start_date.unwrap_or(today),
                end_date: body.end_date,
                alert_threshold: body.alert_threshold.map_or(Decimal::new(80, 0), |t| t.0),
                rollover: body.rollover.unwrap_or(false),
            };
            let category_ids = dedup(body.category_ids);
            services::budgets::check(conn, caller.ledger.id, &fields, &category_ids)?;
            let id = budgets::insert(conn, caller.ledger.id, &fields, &category_ids)?;
            alerts::check_budgets(conn, caller.ledger.id, today, BudgetsToCheck::One(id))?;
            services::budgets::evaluate_one(conn, &caller, id, None)?
                .map(BudgetResponse::from)
                .ok_or_else(not_found)
        })
    })
    .await?;
    let location = format!("/api/v1/budgets/{}", budget.id);
    Ok(Envelope::new(budget).created(&location))
}

/// Budget vs actual for every budget running on the date, compactly.
#[utoipa::path(
    tag = "budgets",
    operation_id = "budget_status",
    summary = "Budget vs actual for all active budgets",
    params(AtQuery),
    responses((status = 200, description = "One line per active budget", body = Envelope<Vec<BudgetStatusLine>>)),
    security(("bearer_auth" = []))
)]
#[get("/budgets/status")]
pub async fn budget_status_list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    let at = query.at;
    let lines = db::run(&state.pool, move |conn| {
        let rows = budgets::all(conn, caller.ledger.id)?;
        let at = match at {
            Some(at) => at,
            None => caller.today(),
        };
        let lines: Vec<BudgetStatusLine> = budgets::evaluate(conn, caller.ledger.id, rows, at)?
            .into_iter()
            .filter_map(BudgetStatusLine::from_evaluation)
            .collect();
        Ok::<_, ApiError>(lines)
    })
    .await?;
    Ok(Envelope::new(lines).ok())
}

/// One budget with its current figures.
#[utoipa::path(
    tag = "budgets",
    operation_id = "get_budget",
    summary = "Get a budget",
    params(("id" = Uuid, Path, description = "Budget id"), AtQuery),
    responses((status = 200, description = "The budget", body = Envelope<BudgetResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/budgets/{id}")]
pub async fn get_budget(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    let (id, at) = (id.into_inner(), query.at);
    let budget = db::run(&state.pool, move |conn| {
        services::budgets::evaluate_one(conn, &caller, id, at)?
            .map(BudgetResponse::from)
            .ok_or_else(not_found)
    })
    .await?;
    Ok(Envelope::new(budget).ok())
}

/// Change a budget; `category_ids` replaces the set.
#[utoipa::path(
    tag = "budgets",
    operation_id = "update_budget",
    summary = "Update a budget",
    params(("id" = Uuid, Path, description = "Budget id")),
    request_body = UpdateBudgetRequest,
    responses((status = 200, description = "The updated budget", body = Envelope<BudgetResponse>)),
    security(("bearer_auth" = []))
)]
#[patch("/budgets/{id}")]
pub async fn update_budget(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateBudgetRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let budget = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let current = budgets::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            let fields = BudgetFields {
                name: body
                    .name
                    .map_or(current.name.clone(), |n| n.trim().to_owned()),
                amount: body.amount.map_or(current.amount, |a| a.0),
                currency: body.currency.unwrap_or(current.currency.clone()),
                period: body
                    .period
                    .map_or(current.period.clone(), |p| p.as_str().to_owned()),
                start_date: body.start_date.unwrap_or(current.start_date),
                end_date: body.end_date.unwrap_or(current.end_date),
                alert_threshold: body
                    .alert_threshold
                    .map_or(current.alert_threshold, |t| t.0),
                rollover: body.rollover.unwrap_or(current.rollover),
            };
            let category_ids = dedup(body.category_ids.unwrap_or_else(|| current.category_ids()));
            services::budgets::check(conn, caller.ledger.id, &fields, &category_ids)?;
            budgets::update(conn, caller.ledger.id, id, &fields, &category_ids)?;
            let today = caller.today();
            alerts::check_budgets(conn, caller.ledger.id, today, BudgetsToCheck::One(id))?;
            services::budgets::evaluate_one(conn, &caller, id, None)?
                .map(BudgetResponse::from)
                .ok_or_else(not_found)
        })
    })
    .await?;
    Ok(Envelope::new(budget).ok())
}

/// Delete a budget (its categories and transactions stay).
#[utoipa::path(
    tag = "budgets",
    operation_id = "delete_budget",
    summary = "Delete a budget",
    params(("id" = Uuid, Path, description = "Budget id")),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/budgets/{id}")]
pub async fn delete_budget(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // The row and its tombstone together.
    let deleted = db::run(&state.pool, move |conn| {
        db::ledger_transaction(conn, caller.ledger.id, |conn| {
            budgets::delete(conn, caller.ledger.id, id)
        })
    })
    .await?;
    if deleted == 0 {
        return Err(not_found());
    }
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Past periods of a budget, newest first, with what was spent in each.
#[utoipa::path(
    tag = "budgets",
    operation_id = "budget_history",
    summary = "Past periods of a budget",
    params(("id" = Uuid, Path, description = "Budget id"), HistoryQuery),
    responses((status = 200, description = "One line per past period", body = Envelope<Vec<BudgetHistoryLine>>)),
    security(("bearer_auth" = []))
)]
#[get("/budgets/{id}/history")]
pub async fn budget_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let periods = query.periods.unwrap_or(12);
    if !(1..=120).contains(&periods) {
        return Err(ApiError::BadRequest {
            code: "invalid_query",
            message: "`periods` must be between 1 and 120.".into(),
        });
    }
    let at = query.at;
    let lines = db::run(&state.pool, move |conn| {
        let budget = budgets::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
        let at = match at {
            Some(at) => at,
            None => caller.today(),
        };
        let period = budget.period();
        // The period containing `at` (or the last one, if the budget has ended), then back.
        let anchor = budget.end_date.map_or(at, |end| end.min(at));
        let mut spans = Vec::new();
        let mut cursor = period_containing(period, budget.start_date, budget.end_date, anchor)
            .and_then(|current| {
                previous_period(period, budget.start_date, budget.end_date, current)
            });
        if budget.end_date.is_some_and(|end| end < at) {
            cursor = period_containing(period, budget.start_date, budget.end_date, anchor);
        }
        while let Some(span) = cursor {
            if spans.len() as u32 >= periods {
                break;
            }
            spans.push(span);
            cursor = previous_period(period, budget.start_date, budget.end_date, span);
        }
        Ok::<_, ApiError>(
            budgets::period_figures(conn, caller.ledger.id, &budget, &spans)?
                .into_iter()
                .map(|figures| {
                    let limit = budget.amount + figures.rolled_over;
                    let status = budget_status(figures.spent, limit, budget.alert_threshold);
                    BudgetHistoryLine {
                        period_start: figures.span.start,
                        period_end: figures.span.end,
                        amount: Money(budget.amount),
                        rolled_over: Money(figures.rolled_over),
                        limit: Money(limit),
                        spent: Money(figures.spent),
                        progress: Money(status.progress),
                        is_exceeded: status.is_exceeded,
                    }
                })
                .collect::<Vec<_>>(),
        )
    })
    .await?;
    Ok(Envelope::new(lines).ok())
}
