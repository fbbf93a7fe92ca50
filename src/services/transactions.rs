//! Reading the ledger: a filtered, sorted page of transactions with its true total, and one
//! transaction. (Writes are in [`super::ledger`].)

use chrono::Days;
use diesel::PgConnection;
use uuid::Uuid;

use super::caller::Caller;
use std::sync::{Arc, LazyLock};

use super::cache::LedgerCache;
use crate::db::transactions::{self, Filter, Names, Page, Sort, TransactionView};
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
    let ledger = caller.ledger.id;
    let filter = prepare_filter(conn, caller, &mut list)?;
    let Page {
        mut rows,
        total,
        unnamed_at,
    } = transactions::page(conn, ledger, filter, sort, limit, offset)?;
    let Some(version) = unnamed_at else {
        return Ok((rows, total));
    };
    let stamp = version.to_string();
    let names = match NAMES.get(ledger, &stamp) {
        Some(kept) => kept,
        None => {
            let read = Arc::new(transactions::names(conn, ledger)?);
            // Names read after a later rename are right for this page too, but kept only
            // under the version they are.
            NAMES.put(ledger, read.version.to_string(), read.clone());
            read
        }
    };
    if !names.too_many && name(&names, &mut rows) {
        return Ok((rows, total));
    }
    // A ledger with too many names to keep, or a wallet or category newer than the names read
    // (added after them, in a write that committed between the two reads): the page with its
    // names joined.
    Ok(transactions::named_page(
        conn, ledger, filter, sort, limit, offset,
    )?)
}

/// The names of the ledgers' wallets and categories, as their first pages of transactions
/// show them (read without them), each at the version of the ledger's names it was read at:
/// at most [`NAMES_BUDGET`] bytes of them in all.
static NAMES: LazyLock<LedgerCache<Names>> =
    LazyLock::new(|| LedgerCache::with_budget(NAMES_BUDGET, Names::weight));

/// 16 MiB: about 100,000 names of usual length (a thousand ledgers of a hundred, or a few
/// ledgers of thousands), where a thousand ledgers of 2,000 long names would take 900 MB.
const NAMES_BUDGET: usize = 16 << 20;

/// Fills in the wallet and category names of `rows` from `names`; false if one is missing.
fn name(names: &Names, rows: &mut [TransactionView]) -> bool {
    for row in rows {
        let Some(wallet) = names.wallets.get(&row.wallet_id) else {
            return false;
        };
        row.wallet_name.clone_from(wallet);
        row.to_wallet_name = match row.to_wallet_id {
            Some(id) => match names.wallets.get(&id) {
                Some(name) => Some(name.clone()),
                None => return false,
            },
            None => None,
        };
        row.category_name = match row.category_id {
            Some(id) => match names.categories.get(&id) {
                Some(name) => Some(name.clone()),
                None => return false,
            },
            None => None,
        };
    }
    true
}

/// One of the caller's transactions.
pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<TransactionView>, ApiError> {
    Ok(transactions::find_view(conn, caller.ledger.id, id)?)
}
