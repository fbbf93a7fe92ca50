use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::domain::money::Money;

/// A change's description: a transaction description's length (it reads like one), and text
/// only, as a question to the assistant is.
fn flow_description(value: &str) -> Result<(), ValidationError> {
    crate::dto::transactions::valid_description(value)?;
    crate::http::validate::plain_text(value)
}

/// How often a simulated income or expense comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    Week,
    Month,
    Year,
}

/// An income or expense added to the simulation.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedFlow {
    /// Positive, in the ledger's currency.
    pub amount: Money,
    /// The (first) date; defaults to the first day of `start`, or today in this month. Not
    /// before today.
    pub date: Option<NaiveDate>,
    /// Repeats from `date` (one-off without).
    pub every: Option<Every>,
    /// The last date a repeating flow may fall on.
    pub until: Option<NaiveDate>,
    /// The wallet it moves; by default the ledger's wallet (in its currency) with the largest
    /// balance.
    pub wallet_id: Option<Uuid>,
    #[validate(custom(function = "flow_description"))]
    #[schema(example = "New job", max_length = 500)]
    pub description: Option<String>,
}

/// One change a scenario makes to the ledger's course.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScenarioChange {
    /// An added income, one-off or repeating.
    Income(SimulatedFlow),
    /// An added expense, one-off or repeating.
    Expense(SimulatedFlow),
    /// A recurring transaction that stops: its coming occurrences are taken out.
    CancelRecurring { recurring_id: Uuid },
    /// A bill that is cancelled: its coming due dates are taken out.
    CancelBill { bill_id: Uuid },
    /// A budget with another limit, assumed kept: spending in its categories above the new
    /// limit (by the last three months' pace) is saved.
    ChangeBudget { budget_id: Uuid, amount: Money },
}

/// A flow's fields sit beside `kind`, so its errors read `changes[i].description`.
impl Validate for ScenarioChange {
    fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            ScenarioChange::Income(flow) | ScenarioChange::Expense(flow) => flow.validate(),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"months": 12, "changes": [
    {"kind": "income", "amount": 500, "every": "month", "description": "Side job"},
    {"kind": "expense", "amount": 2000, "date": "2026-12-01", "description": "New laptop"}]}))]
pub struct SimulateRequest {
    /// The first month shown (any day in it); this month by default, never earlier.
    pub start: Option<NaiveDate>,
    /// How many months to show, 1 to 120.
    #[validate(range(min = 1, max = 120))]
    #[schema(minimum = 1, maximum = 120)]
    pub months: u32,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub changes: Vec<ScenarioChange>,
}

/// A wallet's balance at a month's end.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WalletProjection {
    pub wallet_id: Uuid,
    pub name: String,
    pub balance: Money,
}

/// One month of a simulation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthProjection {
    /// The month's first day.
    pub month: NaiveDate,
    /// Income expected in the rest of the month (this month) or all of it.
    pub income: Money,
    /// Expense expected, from the spending forecast, with the scenario's changes.
    pub expense: Money,
    /// The scenario's own changes in this month (added incomes − expenses, payments taken out).
    pub changes: Money,
    /// Transfers in − out of these wallets at the pace of the months behind (with wallets in
    /// other currencies, or beyond the ledger).
    pub transfers: Money,
    /// Every wallet in the ledger's currency at the month's end: the month before's, plus
    /// `income + transfers + changes − expense`.
    pub wallets: Vec<WalletProjection>,
    pub total: Money,
    /// The 80 % interval of `total`, from the forecast's out-of-sample errors.
    pub low: Money,
    pub high: Money,
}

/// Where a budget is headed under the scenario.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetOutcome {
    pub budget_id: Uuid,
    pub name: String,
    /// The limit per period (the scenario's, if it changes it).
    pub limit: Money,
    /// Spending per period at the pace of its last three periods (capped at a lowered limit,
    /// which the scenario assumes is kept).
    pub projected_spent: Money,
    /// `within` or `over`.
    pub outcome: String,
    pub changed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimulationResponse {
    pub currency: String,
    /// Where the simulation starts: today's balances.
    pub as_of: NaiveDate,
    pub opening_total: Money,
    pub months: Vec<MonthProjection>,
    pub budgets: Vec<BudgetOutcome>,
    /// Average monthly income of the whole months behind the projection.
    pub baseline_income: Money,
    /// How many whole months of history that is (up to 6).
    pub history_months: u32,
    /// What the projection assumes, in words (wallets in other currencies left out, the
    /// method of the spending forecast).
    pub assumptions: Vec<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Side job and a laptop", "scenario": {"months": 12, "changes": [
    {"kind": "income", "amount": 500, "every": "month"},
    {"kind": "expense", "amount": 2000, "date": "2026-12-01"}]}}))]
pub struct SaveScenarioRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[validate(nested)]
    pub scenario: SimulateRequest,
}

/// A saved scenario, and its simulation against today's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioResponse {
    pub id: Uuid,
    pub name: String,
    pub scenario: SimulateRequest,
    pub created_at: DateTime<Utc>,
    /// Re-run on every read; absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SimulationResponse>,
}
