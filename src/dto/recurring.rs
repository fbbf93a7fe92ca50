use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::recurring::Recurring;
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::domain::period::Frequency;

/// A transaction template that the server turns into a real transaction on each due date.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecurringResponse {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub transaction_type: TransactionType,
    pub amount: Money,
    pub currency: String,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub frequency: Frequency,
    /// The next date a transaction will be created for.
    pub next_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Recurring> for RecurringResponse {
    fn from(r: Recurring) -> Self {
        RecurringResponse {
            id: r.id,
            transaction_type: TransactionType::parse(&r.transaction_type)
                .unwrap_or(TransactionType::Expense),
            amount: Money(r.amount),
            currency: r.currency,
            description: r.description,
            merchant: r.merchant,
            notes: r.notes,
            category_id: r.category_id,
            wallet_id: r.wallet_id,
            to_wallet_id: r.to_wallet_id,
            tags: r.tags.into_iter().flatten().collect(),
            frequency: Frequency::parse(&r.frequency).unwrap_or(Frequency::Monthly),
            next_date: r.next_date,
            end_date: r.end_date,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// How often a recurring transaction comes back (never `once`: a one-off is a transaction).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RecurringFrequency {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

fn repeating(value: &Frequency) -> Result<(), ValidationError> {
    (*value != Frequency::Once).then_some(()).ok_or_else(|| {
        ValidationError::new("frequency")
            .with_message("must be daily, weekly, monthly, quarterly or yearly".into())
    })
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "expense", "amount": 250000, "description": "Gym membership",
    "category_id": "7f0e6a3e-5b4c-4f6a-9a51-2b8f3c1d2e4f", "wallet_id": "1c9d7e2a-4b3f-4e8a-8d2c-6a5b4c3d2e1f",
    "frequency": "monthly", "next_date": "2027-04-01"}))]
pub struct CreateRecurringRequest {
    #[serde(rename = "type")]
    pub transaction_type: TransactionType,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(custom(function = "crate::dto::transactions::valid_description"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[validate(custom(function = "crate::dto::transactions::valid_merchant"))]
    #[schema(max_length = 200)]
    pub merchant: Option<String>,
    #[validate(custom(function = "crate::dto::transactions::valid_notes"))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    #[validate(custom(function = "crate::dto::transactions::valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[validate(custom(function = "repeating"))]
    #[schema(value_type = RecurringFrequency)]
    pub frequency: Frequency,
    /// The first date (default today); a monthly template keeps its day of month.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub next_date: Option<NaiveDate>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub end_date: Option<NaiveDate>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 300000, "active": true}))]
pub struct UpdateRecurringRequest {
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    #[validate(custom(function = "crate::dto::transactions::valid_description"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Option<Uuid>,
    #[validate(custom(function = "repeating"))]
    #[schema(value_type = Option<RecurringFrequency>)]
    pub frequency: Option<Frequency>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub next_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
}
