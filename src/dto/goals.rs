use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::goals::{Contribution, Goal};
use crate::domain::goal::{GoalStatus, Progress};
use crate::domain::money::Money;

/// A savings goal and where it stands today.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalResponse {
    pub id: Uuid,
    #[schema(example = "Trip to Japan")]
    pub name: String,
    pub target_amount: Money,
    #[schema(example = "USD")]
    pub currency: String,
    pub target_date: Option<NaiveDate>,
    /// The wallet whose balance is what is saved; without one, the contributions are.
    pub wallet_id: Option<Uuid>,
    pub saved: Money,
    /// `target_amount − saved`, never below 0.
    pub remaining: Money,
    /// Percent of the target, two decimals, capped at 100.
    #[schema(value_type = f64, example = 40.5)]
    pub progress: Money,
    /// Saved per month over the last 90 days (or since the goal was created, at least a month).
    pub monthly_pace: Money,
    /// What must still be saved each month to reach the target by its date.
    pub monthly_needed: Option<Money>,
    /// Months (started ones count) until the target date.
    pub months_left: Option<i64>,
    pub status: GoalStatus,
    /// When the current pace reaches the target.
    pub projected_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GoalResponse {
    pub fn new(goal: Goal, progress: Progress) -> Self {
        GoalResponse {
            id: goal.id,
            name: goal.name,
            target_amount: Money(goal.target_amount),
            currency: goal.currency,
            target_date: goal.target_date,
            wallet_id: goal.wallet_id,
            saved: Money(progress.saved),
            remaining: Money(progress.remaining),
            progress: Money(progress.percent),
            monthly_pace: Money(progress.monthly_pace),
            monthly_needed: progress.monthly_needed.map(Money),
            months_left: progress.months_left,
            status: progress.status,
            projected_date: progress.projected_date,
            created_at: goal.created_at,
            updated_at: goal.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Trip to Japan", "target_amount": 3000, "currency": "USD",
    "target_date": "2027-04-01"}))]
pub struct CreateGoalRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub target_amount: Money,
    /// Defaults to the linked wallet's currency, else the ledger's.
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub target_date: Option<NaiveDate>,
    /// Track this wallet's balance instead of explicit contributions.
    pub wallet_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target_amount": 3500, "target_date": null}))]
pub struct UpdateGoalRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub target_amount: Option<Money>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "crate::http::validate::date"))]
    #[schema(value_type = Option<NaiveDate>)]
    pub target_date: Option<Option<NaiveDate>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 250, "date": "2026-06-01", "note": "June"}))]
pub struct CreateContributionRequest {
    /// In the goal's currency.
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    /// `true`: money taken back out of the goal (stored as a negative contribution).
    #[serde(default)]
    pub withdrawal: bool,
    /// Defaults to today; not in the future.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub date: Option<NaiveDate>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionResponse {
    pub id: Uuid,
    pub goal_id: Uuid,
    /// Negative for a withdrawal.
    pub amount: Money,
    pub date: NaiveDate,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Contribution> for ContributionResponse {
    fn from(c: Contribution) -> Self {
        ContributionResponse {
            id: c.id,
            goal_id: c.goal_id,
            amount: Money(c.amount),
            date: c.date,
            note: c.note,
            created_at: c.created_at,
        }
    }
}

/// A contribution and the goal as it stands after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionAdded {
    pub contribution: ContributionResponse,
    pub goal: GoalResponse,
}
