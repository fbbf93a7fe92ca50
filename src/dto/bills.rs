use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::bills::{Bill, Payment};
use crate::domain::money::Money;
use crate::domain::period::Frequency;
use crate::dto::transactions::TransactionResponse;

#[derive(Debug, Serialize, ToSchema)]
pub struct BillResponse {
    pub id: Uuid,
    #[schema(example = "Electricity")]
    pub name: String,
    pub amount: Money,
    pub currency: String,
    pub category_id: Uuid,
    pub wallet_id: Uuid,
    #[schema(value_type = BillFrequency)]
    pub frequency: Frequency,
    pub next_due_date: NaiveDate,
    pub reminder_days_before: i32,
    pub notes: Option<String>,
    pub autopay: bool,
    /// `pending`, `overdue`, `paid` (a one-off bill that was paid) or `cancelled`.
    #[schema(example = "pending")]
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BillResponse {
    pub fn new(bill: Bill, today: NaiveDate) -> Self {
        BillResponse {
            status: bill.status(today),
            frequency: bill.frequency(),
            id: bill.id,
            name: bill.name,
            amount: Money(bill.amount),
            currency: bill.currency,
            category_id: bill.category_id,
            wallet_id: bill.wallet_id,
            next_due_date: bill.next_due_date,
            reminder_days_before: bill.reminder_days_before,
            notes: bill.notes,
            autopay: bill.autopay,
            created_at: bill.created_at,
            updated_at: bill.updated_at,
        }
    }
}

// Read as its own type, so that a wrong value is answered with the bill's choices, not those
// of budgets and recurring rules.
/// How often a bill comes back (a bill is never daily).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillFrequency {
    Once,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl From<BillFrequency> for Frequency {
    fn from(value: BillFrequency) -> Frequency {
        match value {
            BillFrequency::Once => Frequency::Once,
            BillFrequency::Weekly => Frequency::Weekly,
            BillFrequency::Monthly => Frequency::Monthly,
            BillFrequency::Quarterly => Frequency::Quarterly,
            BillFrequency::Yearly => Frequency::Yearly,
        }
    }
}

fn reminder(value: i32) -> Result<(), ValidationError> {
    (0..=365).contains(&value).then_some(()).ok_or_else(|| {
        ValidationError::new("range").with_message("must be between 0 and 365".into())
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Rent", "amount": 5000000, "category_id": "7f0e6a3e-5b4c-4f6a-9a51-2b8f3c1d2e4f",
    "wallet_id": "1c9d7e2a-4b3f-4e8a-8d2c-6a5b4c3d2e1f", "frequency": "monthly", "next_due_date": "2027-03-31",
    "reminder_days_before": 3, "autopay": false}))]
pub struct CreateBillRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    /// The wallet's currency (the default).
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// An expense category.
    pub category_id: Uuid,
    pub wallet_id: Uuid,
    pub frequency: BillFrequency,
    /// A bill due on the 31st falls on the last day of shorter months.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub next_due_date: NaiveDate,
    #[validate(custom(function = "reminder"))]
    #[schema(minimum = 0, maximum = 365)]
    pub reminder_days_before: Option<i32>,
    #[validate(custom(function = "crate::dto::transactions::valid_notes"))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    pub autopay: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 5200000, "reminder_days_before": 5}))]
pub struct UpdateBillRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Option<Uuid>,
    pub frequency: Option<BillFrequency>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub next_due_date: Option<NaiveDate>,
    #[validate(custom(function = "reminder"))]
    #[schema(minimum = 0, maximum = 365)]
    pub reminder_days_before: Option<i32>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "crate::dto::transactions::valid_notes"))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    pub autopay: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_date": "2026-03-31", "paid_on": "2026-03-30"}))]
pub struct PayBillRequest {
    /// The due date being paid (defaults to the next one). Sending it makes a retried payment
    /// safe: a due date already paid is 409.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub due_date: Option<NaiveDate>,
    /// Defaults to today.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub paid_on: Option<NaiveDate>,
    /// Defaults to the bill's amount.
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    /// Defaults to the bill's wallet.
    pub wallet_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayBillResponse {
    pub bill: BillResponse,
    pub transaction: TransactionResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResponse {
    pub id: Uuid,
    pub due_date: NaiveDate,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub transaction_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Payment> for PaymentResponse {
    fn from(p: Payment) -> Self {
        PaymentResponse {
            id: p.id,
            due_date: p.due_date,
            paid_on: p.paid_on,
            amount: Money(p.amount),
            transaction_id: p.transaction_id,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpcomingQuery {
    /// The window in days, 1 to 366 (default 30). Overdue bills are always included.
    #[param(minimum = 1, maximum = 366, example = 30)]
    pub days: Option<u32>,
}
