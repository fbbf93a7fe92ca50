use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::domain::money::Money;
use crate::ml::forecast::{Confidence, Method};
use crate::services::predictions::Period;

/// A candidate's backtest error.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodScore {
    pub method: Method,
    /// Mean absolute error of one-period-ahead forecasts over the backtest origins.
    #[schema(value_type = f64)]
    pub mae: Money,
}

/// What training chose for one series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesReport {
    pub period: Period,
    /// Empty for total spending.
    pub category_id: Option<Uuid>,
    pub category_name: Option<String>,
    /// The method served: the best baseline unless a model beat it.
    pub method: Method,
    #[schema(value_type = Option<f64>)]
    pub mae: Option<Money>,
    /// Mean absolute percentage error, percent.
    pub mape: Option<f64>,
    /// Every candidate's backtest MAE, baselines included.
    pub candidates: Vec<MethodScore>,
    pub confidence: Confidence,
    /// Complete periods of history the series has, and the first one's start.
    pub history_periods: usize,
    pub data_from: Option<NaiveDate>,
    /// The last day of data used.
    pub data_to: Option<NaiveDate>,
    pub backtest_origins: usize,
    pub training_ms: u64,
}

/// The category suggester's training.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategorizerReport {
    /// Categorised transactions learnt from (the most recent 5,000 at most).
    pub examples: usize,
    pub categories: usize,
    /// `personal` (own transactions) or `default` (category names and common merchants only).
    pub source: String,
    /// Top-1 accuracy on the latest quarter of the examples when trained on the rest (20+).
    pub holdout_top1: Option<f64>,
    pub holdout_rows: usize,
    pub training_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrainResponse {
    pub trained_at: DateTime<Utc>,
    #[schema(example = "VND")]
    pub currency: String,
    pub training_ms: u64,
    pub series: Vec<SeriesReport>,
    pub categorizer: CategorizerReport,
}

/// Forecast spending.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "month", "horizon": 3}))]
pub struct PredictRequest {
    /// One category (with its sub-categories); all spending when left out.
    pub category_id: Option<Uuid>,
    /// `month` (default) or `week` (from Monday).
    pub period: Option<Period>,
    /// Periods to forecast, 1 to 12 (default 1).
    #[validate(range(min = 1, max = 12))]
    #[schema(minimum = 1, maximum = 12)]
    pub horizon: Option<u32>,
    /// Forecast as if on this date, from the data of the periods before it only (default
    /// today; not in the future).
    #[validate(custom(function = "crate::http::validate::date"))]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastPoint {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub amount: Money,
    /// The low end of the 80 % interval: the 10th percentile of the backtest errors around the
    /// forecast, widened when they are few (never below zero).
    pub lower: Money,
    /// The high end: the 90th percentile, or the 80th when the low end is zero.
    pub upper: Money,
    pub method: Method,
    pub confidence: Confidence,
}

/// A stored forecast, with what happened once its period is over.
#[derive(Debug, Serialize, ToSchema)]
pub struct PredictionRecord {
    pub id: Uuid,
    pub category_id: Option<Uuid>,
    pub category_name: Option<String>,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    pub amount: Money,
    pub lower: Money,
    pub upper: Money,
    pub method: String,
    pub confidence: String,
    pub as_of: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// The spending in the period, once it has ended (null before).
    pub actual: Option<Money>,
    /// `actual − amount`.
    pub error: Option<Money>,
    pub within_interval: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuggestFor {
    Expense,
    Income,
}

/// A transaction to suggest a category for.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "STARBUCKS #1234", "merchant": "Starbucks", "amount": 5.4}))]
pub struct CategorizeRequest {
    #[validate(
        length(min = 1, max = 500),
        custom(function = "crate::http::validate::not_blank")
    )]
    pub description: String,
    #[validate(custom(function = "crate::dto::transactions::valid_merchant"))]
    #[schema(max_length = 200)]
    pub merchant: Option<String>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    /// Only categories of this kind (default: any).
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: Option<SuggestFor>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    pub category_id: Uuid,
    pub name: String,
    #[schema(example = 0.87)]
    pub probability: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategorizeResponse {
    /// Pass as `suggestion_id` when creating the transaction, so the log learns the choice.
    pub suggestion_id: Uuid,
    /// Up to three, best first; probabilities sum to at most 1.
    pub suggestions: Vec<SuggestionView>,
    /// `personal` or `default` (before the user has categorised transactions).
    pub model: String,
    /// `auto_categorize` applies the top suggestion from this probability up.
    pub auto_apply_threshold: f64,
}
