use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::transactions::TransactionView;
use crate::domain::ledger::{TransactionStatus, TransactionType};
use crate::domain::money::Money;
use crate::domain::transaction::{
    MAX_DESCRIPTION, MAX_MERCHANT, MAX_NOTES, MAX_SPLIT_NOTE, MAX_TAG, MAX_TAGS,
};
use crate::services;

/// One part of a split transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SplitView {
    pub category_id: Uuid,
    pub category_name: String,
    pub amount: Money,
    pub note: Option<String>,
}

/// A transaction, with the names a list screen shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionResponse {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub transaction_type: TransactionType,
    pub amount: Money,
    #[schema(example = "VND")]
    pub currency: String,
    pub date: NaiveDate,
    #[schema(example = "Lunch at restaurant")]
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    /// Empty for transfers and for split transactions (see `splits`).
    pub category_id: Option<Uuid>,
    pub category_name: Option<String>,
    pub wallet_id: Uuid,
    pub wallet_name: String,
    pub to_wallet_id: Option<Uuid>,
    pub to_wallet_name: Option<String>,
    pub tags: Vec<String>,
    pub splits: Vec<SplitView>,
    /// `user` (chosen by a member, or named by an imported file), `ml` (applied from a
    /// suggestion, `auto_categorize`), `rule` (set by one of the ledger's rules) or `default`
    /// (an import's `Uncategorized`). Rules replace any but `user`.
    #[schema(example = "user")]
    pub category_source: String,
    /// The suggestion's probability when `category_source` is `ml`.
    #[schema(example = json!(null))]
    pub category_confidence: Option<f64>,
    /// Flagged as unusual against the user's history when it was recorded.
    pub is_unusual: bool,
    pub unusual_reason: Option<String>,
    /// The member who recorded it; `null` when FinAI did (a recurring template, autopay) or
    /// the member's account is gone.
    pub created_by: Option<Uuid>,
    /// The member who last changed it (as `created_by`).
    pub updated_by: Option<Uuid>,
    /// The tax rate (percent) the amount includes, if any.
    #[schema(value_type = Option<f64>)]
    pub tax_rate: Option<Money>,
    pub tax_deductible: bool,
    /// `pending` until an imported transaction is approved (`POST /transactions/review`);
    /// `cleared` otherwise, or `reconciled` once the user checked it against a statement.
    /// Pending transactions count in balances, budgets and reports.
    pub status: TransactionStatus,
    /// The import batch (`GET /imports/{id}`) that brought it, if one did.
    pub import_id: Option<Uuid>,
    /// A pending transaction that looks like the other half of a transfer (an outflow from one
    /// wallet and an inflow of the same amount into another within 3 days, both imported):
    /// approving either makes the pair one transfer. Changing either's amount, date, wallet or
    /// type ends the match on both.
    pub transfer_match_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TransactionView> for TransactionResponse {
    fn from(row: TransactionView) -> Self {
        TransactionResponse {
            id: row.id,
            transaction_type: TransactionType::parse(&row.transaction_type)
                .unwrap_or(TransactionType::Expense),
            amount: Money(row.amount),
            currency: row.currency,
            date: row.date,
            description: row.description,
            merchant: row.merchant,
            notes: row.notes,
            category_id: row.category_id,
            category_name: row.category_name,
            wallet_id: row.wallet_id,
            wallet_name: row.wallet_name,
            to_wallet_id: row.to_wallet_id,
            to_wallet_name: row.to_wallet_name,
            tags: row.tags.into_iter().flatten().collect(),
            splits: serde_json::from_value(row.splits).unwrap_or_default(),
            category_source: row.category_source,
            category_confidence: row
                .category_confidence
                .and_then(|c| rust_decimal::prelude::ToPrimitive::to_f64(&c)),
            is_unusual: row.is_unusual,
            unusual_reason: row.unusual_reason,
            created_by: row.created_by,
            updated_by: row.updated_by,
            tax_rate: row.tax_rate.map(|r| Money(r.normalize())),
            tax_deductible: row.tax_deductible,
            status: TransactionStatus::parse(&row.status).unwrap_or(TransactionStatus::Cleared),
            import_id: row.import_batch_id,
            transfer_match_id: row.transfer_match_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn valid_tax_rate(rate: &Money) -> Result<(), ValidationError> {
    if crate::domain::money::is_tax_rate(rate.0) {
        Ok(())
    } else {
        Err(ValidationError::new("range")
            .with_message("must be a percentage from 0 to 100 with at most 4 decimals".into()))
    }
}

/// A PATCH's rate, once validator has looked through its two `Option`s.
fn valid_tax_rate_patch(rate: &&Money) -> Result<(), ValidationError> {
    valid_tax_rate(rate)
}

fn text_up_to(value: &str, max: usize) -> Result<(), ValidationError> {
    if value.chars().count() <= max {
        Ok(())
    } else {
        Err(ValidationError::new("length")
            .with_message(format!("must be at most {max} characters long").into()))
    }
}

pub fn valid_description(value: &str) -> Result<(), ValidationError> {
    text_up_to(value, MAX_DESCRIPTION)
}

pub fn valid_merchant(value: &str) -> Result<(), ValidationError> {
    text_up_to(value, MAX_MERCHANT)
}

pub fn valid_notes(value: &str) -> Result<(), ValidationError> {
    text_up_to(value, MAX_NOTES)
}

pub fn valid_split_note(value: &str) -> Result<(), ValidationError> {
    text_up_to(value, MAX_SPLIT_NOTE)
}

pub fn valid_tags(values: &[String]) -> Result<(), ValidationError> {
    if values.len() > MAX_TAGS {
        return Err(
            ValidationError::new("length").with_message(format!("at most {MAX_TAGS} tags").into())
        );
    }
    if values
        .iter()
        .any(|tag| tag.trim().is_empty() || tag.chars().count() > MAX_TAG)
    {
        return Err(ValidationError::new("length")
            .with_message(format!("each tag must be 1 to {MAX_TAG} characters long").into()));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub category_id: Uuid,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    #[validate(custom(function = "valid_split_note"))]
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// A new transaction. For `/expenses`, `type` may be left out (it is `expense`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "type": "expense", "amount": 50000, "date": "2026-03-07", "description": "Lunch at restaurant",
    "merchant": "Pho 24", "category_id": "7f0e6a3e-5b4c-4f6a-9a51-2b8f3c1d2e4f",
    "wallet_id": "1c9d7e2a-4b3f-4e8a-8d2c-6a5b4c3d2e1f", "tags": ["work"]
}))]
pub struct CreateTransactionRequest {
    #[serde(rename = "type")]
    pub transaction_type: Option<TransactionType>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Money,
    /// Must be the wallet's currency (the default).
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Defaults to today in the user's time zone.
    #[validate(custom(function = "crate::http::validate::date"))]
    pub date: Option<NaiveDate>,
    #[validate(custom(function = "valid_description"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[validate(custom(function = "valid_merchant"))]
    #[schema(max_length = 200)]
    pub merchant: Option<String>,
    #[validate(custom(function = "valid_notes"))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Required for expense and income unless `splits` are given; empty for transfers.
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    /// The receiving wallet of a transfer.
    pub to_wallet_id: Option<Uuid>,
    #[validate(custom(function = "valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Divide the amount over categories; the parts must add up to `amount` exactly.
    #[validate(nested)]
    pub splits: Option<Vec<SplitRequest>>,
    /// Without `category_id` (and `splits`): apply the best category suggestion when its
    /// probability clears the threshold (`category_source` becomes `ml`); 422 when none does.
    pub auto_categorize: Option<bool>,
    /// The `suggestion_id` of a `POST /predictions/categorize` answer this transaction used:
    /// the suggestion log records the category finally chosen.
    pub suggestion_id: Option<Uuid>,
    /// The tax rate (percent, 0 to 100) the amount includes, e.g. 10 for 10 % VAT: the tax
    /// summary of a business ledger counts `amount × rate / (100 + rate)` of it as tax.
    /// Income and expenses only.
    #[validate(custom(function = "valid_tax_rate"))]
    #[schema(value_type = Option<f64>, example = 10)]
    pub tax_rate: Option<Money>,
    /// An expense the business may deduct. Income and expenses only.
    pub tax_deductible: Option<bool>,
    /// Record it even when it looks like a transaction an import recorded (the same wallet,
    /// type and amount within 3 days), which is otherwise 409 `possible_duplicate`.
    pub allow_duplicate: Option<bool>,
}

/// Changes to a transaction; absent fields stay. `null` clears `merchant`, `notes`,
/// `category_id` and `to_wallet_id`. `splits` replaces all parts (`[]` removes the split).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 65000, "description": "Lunch with the team"}))]
pub struct UpdateTransactionRequest {
    #[serde(rename = "type")]
    pub transaction_type: Option<TransactionType>,
    #[validate(custom(function = "crate::http::validate::positive"))]
    pub amount: Option<Money>,
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(custom(function = "crate::http::validate::date"))]
    pub date: Option<NaiveDate>,
    #[validate(custom(function = "valid_description"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "valid_merchant"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub merchant: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "valid_notes"))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    pub wallet_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub to_wallet_id: Option<Option<Uuid>>,
    #[validate(custom(function = "valid_tags"))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[validate(nested)]
    pub splits: Option<Vec<SplitRequest>>,
    /// As on create; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "valid_tax_rate_patch"))]
    #[schema(value_type = Option<f64>)]
    pub tax_rate: Option<Option<Money>>,
    pub tax_deductible: Option<bool>,
}

/// Listing filters. Amounts and dates are checked (400 `invalid_query` when malformed).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub transaction_type: Option<TransactionType>,
    /// This category and its sub-categories (also inside splits).
    pub category_id: Option<Uuid>,
    /// Either side of the transaction.
    pub wallet_id: Option<Uuid>,
    /// From this date (inclusive).
    pub from: Option<NaiveDate>,
    /// Up to this date (inclusive).
    pub to: Option<NaiveDate>,
    /// The last N days including today (instead of from/to), e.g. 15 or 30.
    #[param(minimum = 1, maximum = 36600)]
    pub days: Option<u32>,
    /// Smallest amount, e.g. `10.5`.
    #[param(value_type = Option<String>, example = "10.5")]
    pub min_amount: Option<String>,
    /// Largest amount.
    #[param(value_type = Option<String>, example = "1000000")]
    pub max_amount: Option<String>,
    /// Case-insensitive text in description, merchant or notes.
    pub q: Option<String>,
    /// Transactions carrying this tag.
    pub tag: Option<String>,
    /// Changed after this instant (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// `pending` lists the review queue of imported transactions.
    pub status: Option<TransactionStatus>,
    /// Brought by this import batch.
    pub import_id: Option<Uuid>,
    /// `date`, `-date` (default), `amount`, `-amount`, `created_at`, `-created_at`.
    #[param(example = "-date", value_type = Option<TransactionSort>, inline)]
    pub sort: Option<String>,
}

/// A list's order: a field, descending with `-`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum TransactionSort {
    #[schema(rename = "date")]
    Date,
    #[schema(rename = "-date")]
    DateDescending,
    #[schema(rename = "amount")]
    Amount,
    #[schema(rename = "-amount")]
    AmountDescending,
    #[schema(rename = "created_at")]
    CreatedAt,
    #[schema(rename = "-created_at")]
    CreatedAtDescending,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The wallet of lines without a `wallet` column (its currency applies).
    pub wallet_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSuggestion {
    pub line: u64,
    pub category_id: Uuid,
    pub name: String,
    pub probability: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportFailure {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

impl From<services::csv::ImportOutcome> for ImportReport {
    fn from(outcome: services::csv::ImportOutcome) -> Self {
        ImportReport {
            created: outcome.created,
            duplicates: outcome.duplicates,
            categorized: outcome
                .categorized
                .into_iter()
                .map(|s| ImportSuggestion {
                    line: s.line,
                    category_id: s.category_id,
                    name: s.name,
                    probability: s.probability,
                })
                .collect(),
            failed: outcome
                .failed
                .into_iter()
                .map(|f| ImportFailure {
                    line: f.line,
                    message: f.message,
                })
                .collect(),
        }
    }
}

/// What an import did. Good lines are stored together; bad lines are listed and change nothing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub created: usize,
    /// Lines already imported before (same wallets, date, type, amount, description and
    /// occurrence in the file).
    pub duplicates: usize,
    /// Lines created without a category that got a suggested one (`category_source: ml`);
    /// duplicates are not listed.
    pub categorized: Vec<ImportSuggestion>,
    pub failed: Vec<ImportFailure>,
}

/// The list's filters, for the export (which always exports every matching row), and its file.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub transaction_type: Option<TransactionType>,
    /// This category and its sub-categories (also inside splits).
    pub category_id: Option<Uuid>,
    /// Either side of the transaction.
    pub wallet_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The last N days including today.
    #[param(minimum = 1, maximum = 36600)]
    pub days: Option<u32>,
    #[param(value_type = Option<String>, example = "10.5")]
    pub min_amount: Option<String>,
    #[param(value_type = Option<String>, example = "1000000")]
    pub max_amount: Option<String>,
    pub q: Option<String>,
    pub tag: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub status: Option<TransactionStatus>,
    pub import_id: Option<Uuid>,
    /// `date`, `-date` (default), `amount`, `-amount`, `created_at`, `-created_at`.
    #[param(value_type = Option<TransactionSort>, inline)]
    pub sort: Option<String>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
    /// For xlsx: `one` sheet (default) or one sheet per `wallet`.
    pub sheets: Option<ExportSheets>,
    /// For xlsx: a BCP 47 language tag for the date cells' format (default: the account's
    /// `language`).
    #[param(example = "vi-VN")]
    pub locale: Option<String>,
}

/// The transaction export's file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Xlsx,
}

/// How an xlsx export is split into sheets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportSheets {
    #[default]
    One,
    Wallet,
}

impl From<ExportQuery> for TransactionListQuery {
    fn from(q: ExportQuery) -> Self {
        TransactionListQuery {
            page: None,
            per_page: None,
            transaction_type: q.transaction_type,
            category_id: q.category_id,
            wallet_id: q.wallet_id,
            from: q.from,
            to: q.to,
            days: q.days,
            min_amount: q.min_amount,
            max_amount: q.max_amount,
            q: q.q,
            tag: q.tag,
            updated_since: q.updated_since,
            status: q.status,
            import_id: q.import_id,
            sort: q.sort,
        }
    }
}
