//! Budgets as clients read them: one budget evaluated as of a day, and budgets' spending kept
//! between writes for the readers that ask for it again and again (the assistant, simulations).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::NaiveDate;
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::cache::LedgerCache;
use super::caller::Caller;
use crate::db::budgets::{self, BudgetFields, BudgetRow, Evaluation, SpanRequest};
use crate::db::categories;
use crate::domain::ledger::CategoryKind;
use crate::domain::period::BudgetPeriod;
use crate::error::ApiError;

/// One of the caller's budgets with its spending in the period holding `at` (else today).
pub fn evaluate_one(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    at: Option<NaiveDate>,
) -> Result<Option<Evaluation>, ApiError> {
    let Some(row) = budgets::find(conn, caller.ledger.id, id)? else {
        return Ok(None);
    };
    let at = at.unwrap_or(caller.today());
    Ok(budgets::evaluate(conn, caller.ledger.id, vec![row], at)?.pop())
}

/// Checks the fields together and the categories against the caller's.
pub fn check(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    fields: &BudgetFields,
    category_ids: &[Uuid],
) -> Result<(), ApiError> {
    let period = super::caller::stored("budget period", &fields.period, BudgetPeriod::parse)?;
    if period == BudgetPeriod::Custom && fields.end_date.is_none() {
        return Err(ApiError::invalid_field(
            "end_date",
            "is required for a custom period",
        ));
    }
    if fields.end_date.is_some_and(|end| end < fields.start_date) {
        return Err(ApiError::invalid_field(
            "end_date",
            "must not be before start_date",
        ));
    }
    for (index, id) in category_ids.iter().enumerate() {
        let category = categories::find(conn, ledger_id, *id)?
            .ok_or_else(|| ApiError::not_found("Category"))?;
        if CategoryKind::parse(&category.kind) != Some(CategoryKind::Expense) {
            return Err(ApiError::invalid_field(
                &format!("category_ids[{index}]"),
                "must be an expense category",
            ));
        }
    }
    Ok(())
}

/// Spending reads kept per ledger while its data version stands (a write of a transaction or a
/// category moves it), by what was asked: the periods and the budgets' categories.
type Kept = Mutex<HashMap<u64, Arc<Vec<Decimal>>>>;
static SPENDING: LazyLock<LedgerCache<Kept>> = LazyLock::new(LedgerCache::default);
/// Most different reads kept per ledger and version.
const KEPT_READS: usize = 32;

/// What a spending read depends on besides the ledger's data: the budgets (their categories,
/// and their last change) and the periods asked for.
fn fingerprint(rows: &[BudgetRow], requests: &[SpanRequest]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for row in rows {
        row.id.hash(&mut hasher);
        row.categories.to_string().hash(&mut hasher);
        row.updated_at.hash(&mut hasher);
    }
    requests.hash(&mut hasher);
    hasher.finish()
}

/// `db::budgets::spending` of `requests` for the budgets `rows`, read once per data version.
/// For reads only: a write path must read its own uncommitted figures.
pub fn spending_kept(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    rows: &[BudgetRow],
    requests: &[SpanRequest],
) -> Result<Arc<Vec<Decimal>>, ApiError> {
    let version = crate::db::ml::data_version(conn, ledger_id)?;
    let kept = SPENDING.get_or_read(ledger_id, version.to_string(), || {
        Ok(Mutex::new(HashMap::new()))
    })?;
    let key = fingerprint(rows, requests);
    if let Some(spent) = kept.lock().ok().and_then(|k| k.get(&key).cloned()) {
        return Ok(spent);
    }
    let spent = Arc::new(budgets::spending(conn, ledger_id, requests)?);
    if let Ok(mut kept) = kept.lock() {
        if kept.len() >= KEPT_READS {
            kept.clear();
        }
        kept.insert(key, spent.clone());
    }
    Ok(spent)
}

/// `db::budgets::evaluate` with the spending read through `spending_kept`.
pub fn evaluate_kept(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    rows: Vec<BudgetRow>,
    at: NaiveDate,
) -> Result<Vec<Evaluation>, ApiError> {
    let budgets = rows.clone();
    budgets::evaluate_with(conn, rows, at, |conn, requests| {
        spending_kept(conn, ledger_id, &budgets, requests).map(|spent| spent.to_vec())
    })
}
