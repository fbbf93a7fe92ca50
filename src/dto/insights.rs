use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::money::Money;
use crate::ml::insights::Cadence;

/// The insights' currency (default the user's; other currencies are left out, never added),
/// and the day they are computed as of (default today in the user's time zone).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    #[param(example = "VND")]
    pub currency: Option<String>,
    /// Compute as of this date (not in the future): its month is the current one; what was
    /// recorded after it is left out.
    #[param(example = "2026-03-10")]
    pub at: Option<NaiveDate>,
}

/// One category's spending in the last complete month against the month before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryChange {
    pub category_id: Uuid,
    pub name: String,
    pub previous: Money,
    pub current: Money,
    pub change: Money,
    /// Percent; null when the earlier month had nothing.
    #[schema(value_type = Option<f64>)]
    pub change_pct: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecurringPayment {
    /// The merchant (or description) as last written.
    pub payee: String,
    pub category_id: Option<Uuid>,
    pub cadence: Cadence,
    pub typical_amount: Money,
    pub occurrences: usize,
    pub last_date: NaiveDate,
    pub next_expected: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonalIndex {
    /// Month of the year, 1–12.
    pub month: u32,
    /// That month's average spending over an average month's (1.0 = average).
    pub index: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendingInsights {
    #[schema(example = "VND")]
    pub currency: String,
    /// The last complete month, compared with the one before.
    pub month: NaiveDate,
    pub previous_month: NaiveDate,
    pub total_current: Money,
    pub total_previous: Money,
    /// Every category with spending in either month, largest change first.
    pub month_over_month: Vec<CategoryChange>,
    /// The three largest changes.
    pub biggest_movers: Vec<CategoryChange>,
    /// Payments that come back at a regular interval with a similar amount (3+ times; 2 for
    /// yearly).
    pub recurring: Vec<RecurringPayment>,
    /// Shares of the last three complete months' spending that went to recurring payments
    /// (fixed) and to everything else (variable), percent.
    #[schema(value_type = Option<f64>)]
    pub fixed_share_pct: Option<Money>,
    #[schema(value_type = Option<f64>)]
    pub variable_share_pct: Option<Money>,
    /// With 12+ months of history: each month of the year against an average month.
    pub seasonality: Option<Vec<SeasonalIndex>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetSuggestion {
    pub category_id: Uuid,
    pub name: String,
    /// The 75th percentile of the last six complete months, rounded up to two significant
    /// digits.
    pub suggested_amount: Money,
    pub average_monthly: Money,
    pub months: usize,
    /// Whether a budget already tracks this category.
    pub has_budget: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewFinding {
    /// Exceeded in each of its last three periods.
    AlwaysExceeded,
    /// Under half used in each of its last three periods.
    RarelyHalfUsed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetReview {
    pub budget_id: Uuid,
    pub name: String,
    pub finding: ReviewFinding,
    pub amount: Money,
    /// Spending in the last three complete periods, oldest first.
    pub recent_spent: Vec<Money>,
    pub suggested_amount: Money,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaceWarning {
    pub budget_id: Uuid,
    pub name: String,
    pub limit: Money,
    pub spent: Money,
    pub period_end: NaiveDate,
    /// The day the current pace crosses the limit.
    pub exceed_on: NaiveDate,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recommendations {
    pub currency: String,
    pub budget_suggestions: Vec<BudgetSuggestion>,
    pub budget_reviews: Vec<BudgetReview>,
    pub pace_warnings: Vec<PaceWarning>,
}
