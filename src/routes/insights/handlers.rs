//! `/api/v1/insights`: what the caller's history says: changes by category, recurring
//! payments, seasonality, and budget recommendations (`crate::services::insights`; the
//! analysis itself is in `crate::ml::insights`).

use actix_web::{get, web, HttpResponse};

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::services;
use crate::state::AppState;

/// Spending changes by category from the month before last to last month, recurring payments
/// detected over the last 400 days, the fixed and variable shares of spending, and
/// seasonality when a year of history exists.
#[utoipa::path(
    tag = "insights",
    operation_id = "spending_insights",
    summary = "Spending insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Insights over the caller's history", body = Envelope<SpendingInsights>),
        (status = 422, description = "`validation_failed`: `at` is in the future", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/insights/spending")]
pub async fn spending_insights(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InsightsQuery>,
) -> ApiResult<HttpResponse> {
    let InsightsQuery {
        currency: requested,
        at,
    } = query.into_inner();
    let insights = db::run(&state.pool, move |conn| {
        services::insights::spending(conn, &caller, requested.as_deref(), at)
    })
    .await?;
    Ok(Envelope::new(insights).ok())
}

/// Budget suggestions per category from the last six complete months, budgets that are always
/// exceeded or never half used (last three periods), and budgets whose current pace crosses
/// their limit before the period ends ("at this pace you exceed X on DATE").
#[utoipa::path(
    tag = "insights",
    operation_id = "recommendations",
    summary = "Budget recommendations",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Suggestions, reviews and warnings", body = Envelope<Recommendations>),
        (status = 422, description = "`validation_failed`: `at` is in the future", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/insights/recommendations")]
pub async fn recommendations(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InsightsQuery>,
) -> ApiResult<HttpResponse> {
    let InsightsQuery {
        currency: requested,
        at,
    } = query.into_inner();
    let answer = db::run(&state.pool, move |conn| {
        services::insights::recommendations(conn, &caller, requested.as_deref(), at)
    })
    .await?;
    Ok(Envelope::new(answer).ok())
}
