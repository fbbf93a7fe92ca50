//! `/api/v1/predictions`: train the caller's models, forecast spending, the stored forecasts
//! with their actuals, and category suggestions. The work is in `crate::ml`.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db::{self, categories};
use crate::domain::money::Money;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, PageQuery, ValidatedJson};
use crate::ml::categorizer::AUTO_APPLY_THRESHOLD;
use crate::ml::insights::money;
use crate::services::predictions::{self as ml, Period, StoredSeries};
use crate::state::AppState;

fn series_report(series: &StoredSeries, names: &HashMap<Uuid, String>) -> SeriesReport {
    let model = &series.model;
    let periods = model.series.values.len();
    let mut end = series.first_period;
    for _ in 0..periods {
        end = series.period.next(end);
    }
    SeriesReport {
        period: series.period,
        category_id: series.category_id,
        category_name: series.category_id.and_then(|c| names.get(&c).cloned()),
        method: model.method,
        mae: model.mae.map(|m| Money(money(m))),
        mape: model.mape.map(|m| (m * 100.0).round() / 100.0),
        candidates: model
            .candidates
            .iter()
            .map(|(method, mae)| MethodScore {
                method: *method,
                mae: Money(money(*mae)),
            })
            .collect(),
        confidence: model.confidence,
        history_periods: periods,
        data_from: (periods > 0).then_some(series.first_period),
        data_to: (periods > 0).then(|| end.pred_opt()).flatten(),
        backtest_origins: model.origins,
        training_ms: series.training_ms,
    }
}

/// Trains all of the caller's models now: a forecast per series (total and each category with
/// spending in the last year, monthly and weekly) chosen by backtest against the baselines, and
/// the category suggester. Models also retrain by themselves when the data changed.
#[utoipa::path(
    tag = "predictions",
    operation_id = "train_models",
    summary = "Train the caller's prediction models",
    responses((status = 200, description = "What was trained and how each series' method was chosen", body = Envelope<TrainResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/predictions/train")]
pub async fn train_models(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let response = db::run(&state.pool, move |conn| {
        let today = caller.today();
        let (_, categorizer) = ml::train_categorizer(conn, caller.ledger.id)?;
        let (bundle, training_ms) = ml::train_forecasts(conn, caller.ledger.id, today)?;
        let names: HashMap<Uuid, String> = categories::all(conn, caller.ledger.id)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        Ok::<_, ApiError>(TrainResponse {
            trained_at: Utc::now(),
            currency: bundle.currency.clone(),
            training_ms: training_ms + categorizer.training_ms,
            series: bundle
                .series
                .iter()
                .map(|s| series_report(s, &names))
                .collect(),
            categorizer: CategorizerReport {
                examples: categorizer.examples,
                categories: categorizer.categories,
                source: categorizer.source,
                holdout_top1: categorizer.holdout_top1,
                holdout_rows: categorizer.holdout_rows,
                training_ms: categorizer.training_ms,
            },
        })
    })
    .await?;
    Ok(Envelope::new(response).ok())
}

/// Forecasts spending (all, or one category with its sub-categories) for the next `horizon`
/// months or weeks, starting with the period that contains `as_of`. Each answer is stored (see
/// the history). With under three periods of history the answer is the trailing mean, with
/// `method: insufficient_history`.
#[utoipa::path(
    tag = "predictions",
    operation_id = "predict_spending",
    summary = "Forecast spending",
    request_body = PredictRequest,
    responses(
        (status = 200, description = "One forecast per period", body = Envelope<Vec<ForecastPoint>>),
        (status = 404, description = "`not_found`: the category is not the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/predictions/predict")]
pub async fn predict_spending(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<PredictRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let period = body.period.unwrap_or(Period::Month);
    let horizon = body.horizon.unwrap_or(1) as usize;
    let points = db::run(&state.pool, move |conn| {
        let today = caller.today();
        let as_of = body.as_of.unwrap_or(today);
        if as_of > today {
            return Err(ApiError::invalid_field(
                "as_of",
                "must not be in the future",
            ));
        }
        if let Some(category) = body.category_id {
            categories::find(conn, caller.ledger.id, category)?
                .ok_or_else(|| ApiError::not_found("Category"))?;
        }
        let currency = ml::ledger_currency(conn, caller.ledger.id)?;
        let series = ml::series_for(
            conn,
            caller.ledger.id,
            &currency,
            period,
            body.category_id,
            as_of,
            today,
        )?;
        let rows = ml::forecast_rows(&series, as_of, horizon);
        db::ml::insert_predictions(
            conn,
            &rows
                .iter()
                .map(|r| db::ml::NewPrediction {
                    ledger_id: caller.ledger.id,
                    category_id: body.category_id,
                    period: period.as_str().to_owned(),
                    period_start: r.period_start,
                    period_end: r.period_end,
                    currency: currency.clone(),
                    amount: r.amount,
                    lower: r.lower,
                    upper: r.upper,
                    method: r.method.as_str().to_owned(),
                    confidence: r.confidence.as_str().to_owned(),
                    as_of,
                })
                .collect::<Vec<_>>(),
        )?;
        Ok(rows
            .into_iter()
            .map(|r| ForecastPoint {
                period_start: r.period_start,
                period_end: r.period_end,
                amount: Money(r.amount),
                lower: Money(r.lower),
                upper: Money(r.upper),
                method: r.method,
                confidence: r.confidence,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Envelope::new(points).ok())
}

/// The caller's stored forecasts, newest first; once a period is over, the actual spending,
/// the error and whether it fell inside the interval.
#[utoipa::path(
    tag = "predictions",
    operation_id = "prediction_history",
    summary = "List stored forecasts with their actuals",
    params(PageQuery),
    responses((status = 200, description = "A page of stored forecasts", body = Envelope<Vec<PredictionRecord>>)),
    security(("bearer_auth" = []))
)]
#[get("/predictions/history")]
pub async fn prediction_history(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        let today = caller.today();
        let rows =
            db::ml::list_predictions(conn, caller.ledger.id, today, page.limit(), page.offset())?;
        let total = match rows.first() {
            Some(row) => row.total_count,
            None => db::ml::count_predictions(conn, caller.ledger.id)?,
        };
        Ok::<_, ApiError>((rows, total))
    })
    .await?;
    let data: Vec<PredictionRecord> = rows
        .into_iter()
        .map(|r| PredictionRecord {
            error: r.actual.map(|a| Money(a - r.amount)),
            within_interval: r.actual.map(|a| r.lower <= a && a <= r.upper),
            actual: r.actual.map(Money),
            id: r.id,
            category_id: r.category_id,
            category_name: r.category_name,
            period: r.period,
            period_start: r.period_start,
            period_end: r.period_end,
            currency: r.currency,
            amount: Money(r.amount),
            lower: Money(r.lower),
            upper: Money(r.upper),
            method: r.method,
            confidence: r.confidence,
            as_of: r.as_of,
            created_at: r.created_at,
        })
        .collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Suggests categories for a transaction text: the caller's own model (their categorised
/// transactions, latest choices first) or, for new users, one built from category names and
/// common merchant words. The suggestion is logged; pass its `suggestion_id` when creating the
/// transaction so the log records the final choice.
#[utoipa::path(
    tag = "predictions",
    operation_id = "categorize",
    summary = "Suggest categories for a transaction",
    request_body = CategorizeRequest,
    responses((status = 200, description = "Up to three suggestions, best first", body = Envelope<CategorizeResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/predictions/categorize")]
pub async fn categorize(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CategorizeRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let response = db::run(&state.pool, move |conn| {
        let kind = body.kind.map(|k| match k {
            SuggestFor::Expense => "expense",
            SuggestFor::Income => "income",
        });
        let description = body.description.trim().to_owned();
        let merchant = body
            .merchant
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        let amount: Option<Decimal> = body.amount.map(|a| a.0);
        let (suggestions, model) = ml::suggest(
            conn,
            caller.ledger.id,
            &description,
            merchant.as_deref(),
            amount,
            kind,
        )?;
        let suggestion_id = db::ml::log_suggestion(
            conn,
            &db::ml::NewSuggestion {
                ledger_id: caller.ledger.id,
                transaction_id: None,
                description: &description,
                merchant: merchant.as_deref(),
                amount,
                suggestions: serde_json::to_value(&suggestions).map_err(ApiError::internal)?,
                model: &model,
                applied_category_id: None,
            },
        )?;
        Ok::<_, ApiError>(CategorizeResponse {
            suggestion_id,
            suggestions: suggestions
                .into_iter()
                .map(|s| SuggestionView {
                    category_id: s.category_id,
                    name: s.name,
                    probability: s.probability,
                })
                .collect(),
            model,
            auto_apply_threshold: AUTO_APPLY_THRESHOLD,
        })
    })
    .await?;
    Ok(Envelope::new(response).ok())
}
