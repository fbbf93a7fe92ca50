//! Budget alerts: after spending or a budget changed, a notification (and a `budget_alert`
//! event) for every budget checked that reached its alert threshold or went over its limit in
//! its current period, once per budget, period and level.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::db::budgets;
use crate::db::notifications::{self, NewNotification};
use crate::domain::money::Money;
use crate::domain::period::{moves_period_at, BudgetState};
use crate::error::ApiError;

/// What a write added to a user's spending: the categories of its expense lines (own and split
/// categories) and their dates. Only budgets it can move are checked after it.
#[derive(Debug, Default, Clone)]
pub struct NewSpending {
    pub categories: Vec<Uuid>,
    pub dates: Vec<NaiveDate>,
    /// The budgets tracking those categories, when the write already read them (a new
    /// expense does, with its other checks); else they are looked up after the write.
    pub tracked_by: Option<Vec<Uuid>>,
}

impl NewSpending {
    pub fn add(&mut self, date: NaiveDate, categories: impl IntoIterator<Item = Uuid>) {
        for category in categories {
            if !self.categories.contains(&category) {
                self.categories.push(category);
            }
        }
        if !self.dates.contains(&date) {
            self.dates.push(date);
        }
    }

    /// Adds what another write added (the budgets tracking them are then looked up).
    pub fn merge(&mut self, other: &NewSpending) {
        self.tracked_by = None;
        for date in &other.dates {
            self.add(*date, other.categories.iter().copied());
        }
    }
}

/// Which budgets a check looks at.
#[derive(Debug, Clone, Copy)]
pub enum BudgetsToCheck<'a> {
    /// One budget (just created or changed).
    One(Uuid),
    /// Those new spending can move: budgets tracking one of its categories, in whose current
    /// period (or, with rollover, the one before) one of its dates falls.
    MovedBy(&'a NewSpending),
    /// Those tracking one of these categories, directly or through an ancestor: after
    /// spending moved between categories (a category moved under another, or its rows
    /// reassigned), without a write of its own.
    Tracking(&'a [Uuid]),
}

/// After spending or a budget changed: a notification for every budget checked that is, in its
/// current period, at or past its alert threshold (`budget_threshold`) or over its limit
/// (`budget_exceeded`) — once per budget, period and level. The budgets checked are evaluated
/// together in one spending query.
pub fn check_budgets(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
    which: BudgetsToCheck,
) -> Result<(), ApiError> {
    let rows: Vec<budgets::BudgetRow> = match which {
        BudgetsToCheck::One(id) => budgets::find(conn, ledger_id, id)?.into_iter().collect(),
        BudgetsToCheck::Tracking(categories) => budgets::tracking(conn, ledger_id, categories)?,
        BudgetsToCheck::MovedBy(spending) if spending.categories.is_empty() => return Ok(()),
        BudgetsToCheck::MovedBy(spending) => {
            let tracking = match &spending.tracked_by {
                Some(ids) if ids.is_empty() => return Ok(()),
                Some(ids) => budgets::by_ids(conn, ledger_id, ids)?,
                None => budgets::tracking(conn, ledger_id, &spending.categories)?,
            };
            tracking
                .into_iter()
                .filter(|b| {
                    spending.dates.iter().any(|date| {
                        moves_period_at(
                            b.period(),
                            b.start_date,
                            b.end_date,
                            b.rollover,
                            today,
                            *date,
                        )
                    })
                })
                .collect()
        }
    };
    if rows.is_empty() {
        return Ok(());
    }
    // Every alert due, in one statement: a budget past its threshold asks again after each
    // write, and only the first ask of a period and level creates anything.
    let mut due = Vec::new();
    for evaluation in budgets::evaluate(conn, ledger_id, rows, today)? {
        let Some(span) = evaluation.span else {
            continue;
        };
        let budget = &evaluation.budget;
        let (kind, level, title) = match evaluation.status.state {
            BudgetState::OnTrack => continue,
            BudgetState::Warning => (
                "budget_threshold",
                "warning",
                format!(
                    "{} is at {} %",
                    budget.name,
                    evaluation.status.progress.normalize()
                ),
            ),
            BudgetState::Exceeded => (
                "budget_exceeded",
                "exceeded",
                format!("{} is over its limit", budget.name),
            ),
        };
        let body = format!(
            "Spent {} of {} {} ({} to {}).",
            Money(evaluation.spent),
            Money(evaluation.limit),
            budget.currency,
            span.start,
            span.end
        );
        due.push(NewNotification {
            notification_type: kind,
            title,
            body,
            data: json!({"budget_id": budget.id, "period_start": span.start,
                         "period_end": span.end, "spent": Money(evaluation.spent),
                         "limit": Money(evaluation.limit)}),
            dedupe_key: format!("budget:{}:{}:{level}", budget.id, span.start),
        });
    }
    notifications::insert_many_once(conn, ledger_id, &due)?;
    Ok(())
}
