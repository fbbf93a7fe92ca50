//! Budgets as clients read them: one budget evaluated as of a day.

use chrono::NaiveDate;
use diesel::PgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::budgets::{self, BudgetFields, Evaluation};
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
