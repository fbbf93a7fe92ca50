use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::budgets::Evaluation;
use crate::domain::money::Money;
use crate::domain::period::{BudgetPeriod, BudgetState};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BudgetCategory {
    pub id: Uuid,
    pub name: String,
}

/// A budget and where it stands in its current period.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetResponse {
    pub id: Uuid,
    #[schema(example = "Eating out")]
    pub name: String,
    /// The limit per period.
    pub amount: Money,
    #[schema(example = "VND")]
    pub currency: String,
    pub period: BudgetPeriod,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    /// Percent of the limit at which the budget turns `warning`.
    #[schema(value_type = f64, example = 80)]
    pub alert_threshold: Money,
    pub rollover: bool,
    pub categories: Vec<BudgetCategory>,
    /// Whether the budget runs on the evaluation date (`at`, default today).
    pub active: bool,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Expenses (and expense splits) in these categories and their sub-categories, this period.
    pub spent: Money,
    /// The unspent (positive) or overspent (negative) rest of the previous period, with rollover.
    pub rolled_over: Money,
    /// `amount + rolled_over` − `spent`.
    pub remaining: Money,
    /// Percent of the limit, two decimals, capped at 100.
    #[schema(value_type = f64, example = 91.67)]
    pub progress: Money,
    pub is_exceeded: bool,
    pub state: BudgetState,
    pub days_left: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Evaluation> for BudgetResponse {
    fn from(e: Evaluation) -> Self {
        let b = e.budget;
        let categories = serde_json::from_value(b.categories.clone()).unwrap_or_default();
        BudgetResponse {
            id: b.id,
            period: b.period(),
            name: b.name,
            amount: Money(b.amount),
            currency: b.currency,
            start_date: b.start_date,
            end_date: b.end_date,
            alert_threshold: Money(b.alert_threshold),
            rollover: b.rollover,
            categories,
            active: e.span.is_some(),
            period_start: e.span.map(|s| s.start),
            period_end: e.span.map(|s| s.end),
            spent: Money(e.spent),
            rolled_over: Money(e.rolled_over),
            remaining: Money(e.status.remaining),
            progress: Money(e.status.progress),
            is_exceeded: e.status.is_exceeded,
            state: e.status.state,
            days_left: e.days_left,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// The compact budget-vs-actual line of `GET /budgets/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetStatusLine {
    pub id: Uuid,
    pub name: String,
    /// The limit per period.
    pub amount: Money,
    /// With rollover: what the periods before carried into this one.
    pub rolled_over: Money,
    pub currency: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub spent: Money,
    pub remaining: Money,
    #[schema(value_type = f64, example = 91.67)]
    pub progress: Money,
    pub is_exceeded: bool,
    pub state: BudgetState,
    pub days_left: i64,
}

impl BudgetStatusLine {
    /// The line of a budget running on the evaluation date (`None` when it is not).
    pub fn from_evaluation(e: Evaluation) -> Option<Self> {
        let span = e.span?;
        Some(BudgetStatusLine {
            id: e.budget.id,
            name: e.budget.name,
            amount: Money(e.budget.amount),
            rolled_over: Money(e.rolled_over),
            currency: e.budget.currency,
            period_start: span.start,
            period_end: span.end,
            spent: Money(e.spent),
            remaining: Money(e.status.remaining),
            progress: Money(e.status.progress),
            is_exceeded: e.status.is_exceeded,
            state: e.status.state,
            days_left: e.days_left,
        })
    }
}

/// One past period of a budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetHistoryLine {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The limit per period.
    pub amount: Money,
    /// With rollover: what the periods before carried into this one (as `GET /budgets/{id}`
    /// reported it then).
    pub rolled_over: Money,
    /// `amount + rolled_over`: what `progress` and `is_exceeded` are measured against.
    pub limit: Money,
    pub spent: Money,
    #[schema(value_type = f64, example = 91.67)]
    pub progress: Money,
    pub is_exceeded: bool,
}

fn threshold(value: &Money) -> Result<(), ValidationError> {
    let ok = value.0 > rust_decimal::Decimal::ZERO
        && value.0 <= rust_decimal::Decimal::ONE_HUNDRED
        && value.0.scale() <= 2;
    ok.then_some(()).ok_or_else(|| {
        ValidationError::new("range").with_message(
            "must be a percentage above 0 and at most 100, with at most 2 decimals".into(),
        )
    })
}

fn category_list(ids: &[Uuid]) -> Result<(), ValidationError> {
    if ids.is_empty() || ids.len() > 50 {
        return Err(
            ValidationError::new("length").with_message("must name 1 to 50 categories".into())
        );
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Eating out", "amount": 3000000, "currency": "VND",
    "category_ids": ["7f0e6a3e-5b4c-4f6a-9a51-2b8f3c1d2e4f"], "period": "monthly",
    "start_date": "2026-03-05", "alert_threshold": 80, "rollover": false}))]
pub struct CreateBudgetRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    /// Defaults to the user's currency; only transactions in it count.
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Expense categories; their sub-categories count too.
    #[validate(custom(function = "category_list"))]
    #[schema(min_items = 1, max_items = 50)]
    pub category_ids: Vec<Uuid>,
    pub period: BudgetPeriod,
    /// Anchors the periods (a monthly budget from the 5th runs 5th to 4th). Defaults to today.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub start_date: Option<NaiveDate>,
    /// Required for `custom`; optional last day for the others.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub end_date: Option<NaiveDate>,
    /// Percent (default 80).
    #[validate(custom(function = "threshold"))]
    #[schema(value_type = Option<f64>, example = 80)]
    pub alert_threshold: Option<Money>,
    #[serde(default)]
    pub rollover: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 3500000, "alert_threshold": 90}))]
pub struct UpdateBudgetRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(custom(function = "category_list"))]
    #[schema(min_items = 1, max_items = 50)]
    pub category_ids: Option<Vec<Uuid>>,
    pub period: Option<BudgetPeriod>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    #[validate(custom(function = "threshold"))]
    #[schema(value_type = Option<f64>)]
    pub alert_threshold: Option<Money>,
    pub rollover: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Evaluate the periods as of this date (default today in the user's time zone).
    pub at: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// Evaluate as of this date (default today in the user's time zone).
    pub at: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// How many past periods, 1 to 120 (default 12).
    #[param(minimum = 1, maximum = 120, example = 12)]
    pub periods: Option<u32>,
    /// Count back from the period containing this date (default today).
    pub at: Option<NaiveDate>,
}
