use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::bills::BillResponse;
use crate::dto::budgets::BudgetResponse;
use crate::dto::categories::CategoryResponse;
use crate::dto::recurring::RecurringResponse;
use crate::dto::transactions::TransactionResponse;
use crate::dto::wallets::WalletResponse;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `cursor` of the previous answer; absent for everything.
    #[param(example = "1042")]
    pub since: Option<String>,
    /// Most changes in one answer, 1 to 1000 (default 500); follow `has_more`.
    #[param(minimum = 1, maximum = 1000, example = 500)]
    pub limit: Option<i64>,
}

/// A deleted row.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tombstone {
    /// `wallet`, `category`, `transaction`, `budget`, `bill` or `recurring`.
    #[serde(rename = "type")]
    #[schema(example = "transaction")]
    pub entity: String,
    pub id: Uuid,
}

/// Rows created or changed after the cursor (their current state) and rows deleted after it.
/// Apply upserts by id, then deletions; then ask again with `cursor` (at once while
/// `has_more`). A wallet comes again whenever money moves in or out of it, with its new
/// balance. A transaction's `category_name` and `wallet_name` are as of its own last change:
/// after a rename, take names from the categories and wallets.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResponse {
    pub wallets: Vec<WalletResponse>,
    pub categories: Vec<CategoryResponse>,
    pub transactions: Vec<TransactionResponse>,
    /// With their figures as of today.
    pub budgets: Vec<BudgetResponse>,
    pub bills: Vec<BillResponse>,
    pub recurring: Vec<RecurringResponse>,
    pub deleted: Vec<Tombstone>,
    /// Pass as `since` next time.
    #[schema(example = "1042")]
    pub cursor: String,
    /// More changes wait after this cursor.
    pub has_more: bool,
}
