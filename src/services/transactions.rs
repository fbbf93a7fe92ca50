//! Reading the ledger: a filtered, sorted page of transactions with its true total, and one
//! transaction. (Writes are in [`super::ledger`].)

use chrono::Days;
use diesel::PgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::transactions::{self, Filter, Sort, TransactionView};
use crate::db::{categories, wallets};
use crate::error::ApiError;

/// A list's filters as a client gives them: `days` still to be turned into dates in the
/// caller's time zone.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub filter: Filter,
    pub days: Option<u32>,
}

/// Resolves `days` and checks that filtered wallets and categories are the caller's (another
/// user's id is not found, as everywhere).
pub fn prepare_filter<'a>(
    conn: &mut PgConnection,
    caller: &Caller,
    list: &'a mut ListFilter,
) -> Result<&'a Filter, ApiError> {
    if let Some(days) = list.days.take() {
        let today = caller.today();
        list.filter.from = today.checked_sub_days(Days::new(u64::from(days) - 1));
        list.filter.to = Some(today);
    }
    if let Some(category) = list.filter.category_id {
        categories::find(conn, caller.ledger.id, category)?
            .ok_or_else(|| ApiError::not_found("Category"))?;
    }
    if let Some(wallet) = list.filter.wallet_id {
        wallets::find(conn, caller.ledger.id, wallet)?
            .ok_or_else(|| ApiError::not_found("Wallet"))?;
    }
    if let Some(batch) = list.filter.import_batch_id {
        crate::db::imports::find(conn, caller.ledger.id, batch)?
            .ok_or_else(|| ApiError::not_found("Import"))?;
    }
    Ok(&list.filter)
}

/// A page of the caller's transactions and how many match in all.
pub fn page(
    conn: &mut PgConnection,
    caller: &Caller,
    mut list: ListFilter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<TransactionView>, i64), ApiError> {
    let filter = prepare_filter(conn, caller, &mut list)?;
    Ok(transactions::page(
        conn,
        caller.ledger.id,
        filter,
        sort,
        limit,
        offset,
    )?)
}

/// One of the caller's transactions.
pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<TransactionView>, ApiError> {
    Ok(transactions::find_view(conn, caller.ledger.id, id)?)
}
