//! Queries on `notifications`, and the checks that create them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::budgets;
use super::schema::notifications;
use crate::domain::money::Money;
use crate::domain::period::{moves_period_at, BudgetState};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: Uuid,
    #[diesel(column_name = type_)]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Creates the notification unless one with `dedupe_key` exists. Returns whether it did.
pub fn insert_once(
    conn: &mut PgConnection,
    user_id: Uuid,
    notification_type: &str,
    title: &str,
    body: &str,
    data: serde_json::Value,
    dedupe_key: &str,
) -> QueryResult<bool> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::type_.eq(notification_type),
            notifications::title.eq(title),
            notifications::body.eq(body),
            notifications::data.eq(data),
            notifications::dedupe_key.eq(dedupe_key),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

pub fn list(
    conn: &mut PgConnection,
    user_id: Uuid,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Notification>, i64)> {
    let query = || {
        let mut query = notifications::table
            .filter(notifications::user_id.eq(user_id))
            .into_boxed();
        if unread_only {
            query = query.filter(notifications::read_at.is_null());
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .select(Notification::as_select())
        .order((notifications::created_at.desc(), notifications::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

pub fn mark_read(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Notification>> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::id.eq(id)),
    )
    .set(notifications::read_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("COALESCE(read_at, now())")))
    .returning(Notification::as_returning())
    .get_result(conn)
    .optional()
}

pub fn mark_all_read(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Utc::now()))
    .execute(conn)
}

/// What a write added to a user's spending: the categories of its expense lines (own and split
/// categories) and their dates. Only budgets it can move are checked after it.
#[derive(Debug, Default, Clone)]
pub struct NewSpending {
    pub categories: Vec<Uuid>,
    pub dates: Vec<NaiveDate>,
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
}

/// Which budgets a check looks at.
#[derive(Debug, Clone, Copy)]
pub enum BudgetsToCheck<'a> {
    /// One budget (just created or changed).
    One(Uuid),
    /// Those new spending can move: budgets tracking one of its categories, in whose current
    /// period (or, with rollover, the one before) one of its dates falls.
    MovedBy(&'a NewSpending),
}

/// After spending or a budget changed: a notification for every budget checked that is, in its
/// current period, at or past its alert threshold (`budget_threshold`) or over its limit
/// (`budget_exceeded`) — once per budget, period and level. The budgets checked are evaluated
/// together in one spending query.
pub fn check_budgets(
    conn: &mut PgConnection,
    user_id: Uuid,
    today: NaiveDate,
    which: BudgetsToCheck,
) -> QueryResult<()> {
    let rows: Vec<budgets::BudgetRow> = match which {
        BudgetsToCheck::One(id) => budgets::find(conn, user_id, id)?.into_iter().collect(),
        BudgetsToCheck::MovedBy(spending) if spending.categories.is_empty() => return Ok(()),
        BudgetsToCheck::MovedBy(spending) => {
            budgets::tracking(conn, user_id, &spending.categories)?
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
    for evaluation in budgets::evaluate(conn, user_id, rows, today)? {
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
        insert_once(
            conn,
            user_id,
            kind,
            &title,
            &body,
            json!({"budget_id": budget.id, "period_start": span.start, "period_end": span.end,
                   "spent": Money(evaluation.spent), "limit": Money(evaluation.limit)}),
            &format!("budget:{}:{}:{level}", budget.id, span.start),
        )?;
    }
    Ok(())
}
