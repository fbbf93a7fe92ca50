use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::wallets::WalletBalance;
use crate::domain::ledger::WalletType;
use crate::domain::money::Money;

/// A wallet: cash, a bank account, a card... Its balance is derived from its transactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletResponse {
    pub id: Uuid,
    #[schema(example = "Cash")]
    pub name: String,
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    #[schema(example = "VND")]
    pub currency: String,
    pub opening_balance: Money,
    /// Opening balance + income − expense ± transfers.
    pub balance: Money,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WalletBalance> for WalletResponse {
    fn from(row: WalletBalance) -> Self {
        WalletResponse {
            id: row.id,
            name: row.name,
            wallet_type: WalletType::parse(&row.wallet_type).unwrap_or(WalletType::Cash),
            currency: row.currency,
            opening_balance: Money(row.opening_balance),
            balance: Money(row.balance),
            archived: row.archived,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Cash", "type": "cash", "currency": "VND", "opening_balance": 500000}))]
pub struct CreateWalletRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    /// ISO 4217; defaults to the user's currency.
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// May be negative (a credit card's debt). Defaults to 0.
    pub opening_balance: Option<Money>,
    #[serde(default)]
    pub archived: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Everyday cash", "archived": false}))]
pub struct UpdateWalletRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub wallet_type: Option<WalletType>,
    /// Only while the wallet has no transactions.
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    pub opening_balance: Option<Money>,
    pub archived: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WalletListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Only archived (`true`) or only active (`false`) wallets.
    pub archived: Option<bool>,
}
