//! `/api/v1/rules`: the ledger's import rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::rules::Rule;
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::dto::transactions::TransactionResponse;

/// A rule: when every condition given holds, its actions apply. At least one condition and one
/// action.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Coffee shops", "payee_contains": "starbucks", "type": "expense",
    "category_id": "6f1c2a52-1d7e-4a53-9d55-2f0a3c2b9e10", "add_tags": ["coffee"], "rename_payee": "Starbucks"}))]
pub struct CreateRuleRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Rules apply in this order (ascending); default: after the last.
    #[validate(range(min = 0, max = 1000000))]
    pub position: Option<i32>,
    /// Default `true`.
    pub active: Option<bool>,
    /// Case-insensitive text in the payee (the merchant, else the description).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub payee_contains: Option<String>,
    /// Case-insensitive, the whole payee.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub payee_equals: Option<String>,
    /// A case-insensitive regular expression (Rust `regex` syntax, linear time) on the payee.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub payee_regex: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub min_amount: Option<Money>,
    #[schema(value_type = Option<f64>)]
    pub max_amount: Option<Money>,
    pub wallet_id: Option<Uuid>,
    /// `expense` or `income`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub transaction_type: Option<TransactionType>,
    /// Action: set this category (of the transaction's kind). A category a member chose by hand
    /// is never replaced.
    pub category_id: Option<Uuid>,
    /// Action: add these tags.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub add_tags: Option<Vec<String>>,
    /// Action: the payee's name (description and merchant).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub rename_payee: Option<String>,
    /// Action: make it a transfer with this wallet (an expense moves money to it, an income
    /// from it).
    pub transfer_to_wallet_id: Option<Uuid>,
}

/// Changes to a rule: absent fields stay, `null` clears a condition or an action.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateRuleRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(range(min = 0, max = 1000000))]
    pub position: Option<i32>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub payee_contains: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub payee_equals: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub payee_regex: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<f64>)]
    pub min_amount: Option<Option<Money>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<f64>)]
    pub max_amount: Option<Option<Money>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub wallet_id: Option<Option<Uuid>>,
    #[serde(
        rename = "type",
        default,
        deserialize_with = "crate::http::validate::double_option"
    )]
    #[schema(rename = "type", value_type = Option<TransactionType>)]
    pub transaction_type: Option<Option<TransactionType>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(max = 20))]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub add_tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub rename_payee: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub transfer_to_wallet_id: Option<Option<Uuid>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    pub id: Uuid,
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub payee_contains: Option<String>,
    pub payee_equals: Option<String>,
    pub payee_regex: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub min_amount: Option<Money>,
    #[schema(value_type = Option<f64>)]
    pub max_amount: Option<Money>,
    pub wallet_id: Option<Uuid>,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub transaction_type: Option<String>,
    pub category_id: Option<Uuid>,
    pub add_tags: Vec<String>,
    pub rename_payee: Option<String>,
    pub transfer_to_wallet_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Rule> for RuleResponse {
    fn from(rule: Rule) -> Self {
        RuleResponse {
            id: rule.id,
            name: rule.name,
            position: rule.position,
            active: rule.active,
            payee_contains: rule.payee_contains,
            payee_equals: rule.payee_equals,
            payee_regex: rule.payee_regex,
            min_amount: rule.min_amount.map(Money),
            max_amount: rule.max_amount.map(Money),
            wallet_id: rule.wallet_id,
            transaction_type: rule.transaction_type,
            category_id: rule.category_id,
            add_tags: rule.add_tags.into_iter().flatten().collect(),
            rename_payee: rule.rename_payee,
            transfer_to_wallet_id: rule.transfer_to_wallet_id,
            created_at: rule.created_at,
            updated_at: rule.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dry_run": true}))]
pub struct ApplyRuleRequest {
    /// Count and show what would change, change nothing (default `false`).
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyRuleResponse {
    pub dry_run: bool,
    /// Transactions the conditions match.
    pub matched: usize,
    /// Of those, the ones the actions change (or would change).
    pub changed: usize,
    /// Matches the rule would make a transfer of, kept as they are: the other side of the
    /// movement is recorded in the other wallet already (a transfer would count it twice).
    pub transfers_held_back: usize,
    /// Up to 10 of the changed ones, as they are (after the change, unless `dry_run`).
    pub sample: Vec<TransactionResponse>,
}
