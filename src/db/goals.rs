//! Queries on `goals` and `goal_contributions`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Numeric, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{goal_contributions, goals};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = goals)]
pub struct Goal {
    pub id: Uuid,
    pub ledger_id: Uuid,
    pub name: String,
    pub target_amount: Decimal,
    pub currency: String,
    pub target_date: Option<NaiveDate>,
    pub wallet_id: Option<Uuid>,
    pub announced_state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = goals)]
pub struct NewGoal {
    pub ledger_id: Uuid,
    pub name: String,
    pub target_amount: Decimal,
    pub currency: String,
    pub target_date: Option<NaiveDate>,
    pub wallet_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = goals)]
pub struct GoalChanges {
    pub name: Option<String>,
    pub target_amount: Option<Decimal>,
    pub target_date: Option<Option<NaiveDate>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = goal_contributions)]
pub struct Contribution {
    pub id: Uuid,
    pub goal_id: Uuid,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = goal_contributions)]
pub struct NewContribution {
    pub ledger_id: Uuid,
    pub goal_id: Uuid,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
}

pub fn insert(conn: &mut PgConnection, goal: &NewGoal) -> QueryResult<Goal> {
    diesel::insert_into(goals::table)
        .values(goal)
        .returning(Goal::as_returning())
        .get_result(conn)
}

pub fn count(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    goals::table
        .filter(goals::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)
}

/// The ledger's goals, oldest first.
pub fn all(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Goal>> {
    goals::table
        .filter(goals::ledger_id.eq(ledger_id))
        .order((goals::created_at, goals::id))
        .select(Goal::as_select())
        .load(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Goal>> {
    goals::table
        .filter(goals::ledger_id.eq(ledger_id).and(goals::id.eq(id)))
        .select(Goal::as_select())
        .first(conn)
        .optional()
}

/// Goals whose state may have moved since it was announced (not yet reached), a batch after
/// `after` in id order.
pub fn open_batch(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Goal>> {
    let mut query = goals::table
        .filter(goals::announced_state.ne("reached"))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(goals::id.gt(after));
    }
    query
        .order(goals::id)
        .limit(limit)
        .select(Goal::as_select())
        .load(conn)
}

/// The goal, locked until the transaction ends (its contributions and state change together).
pub fn find_for_update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Goal>> {
    goals::table
        .filter(goals::ledger_id.eq(ledger_id).and(goals::id.eq(id)))
        .select(Goal::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    changes: &GoalChanges,
) -> QueryResult<Goal> {
    diesel::update(goals::table.filter(goals::ledger_id.eq(ledger_id).and(goals::id.eq(id))))
        .set(changes)
        .returning(Goal::as_returning())
        .get_result(conn)
}

pub fn set_announced_state(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    state: &str,
) -> QueryResult<usize> {
    diesel::update(goals::table.filter(goals::ledger_id.eq(ledger_id).and(goals::id.eq(id))))
        .set(goals::announced_state.eq(state))
        .execute(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(goals::table.filter(goals::ledger_id.eq(ledger_id).and(goals::id.eq(id))))
        .execute(conn)
}

pub fn add_contribution(
    conn: &mut PgConnection,
    row: &NewContribution,
) -> QueryResult<Contribution> {
    diesel::insert_into(goal_contributions::table)
        .values(row)
        .returning(Contribution::as_returning())
        .get_result(conn)
}

pub fn contributions(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    goal_id: Uuid,
) -> QueryResult<Vec<Contribution>> {
    goal_contributions::table
        .filter(
            goal_contributions::ledger_id
                .eq(ledger_id)
                .and(goal_contributions::goal_id.eq(goal_id)),
        )
        .order((
            goal_contributions::date.desc(),
            goal_contributions::created_at.desc(),
        ))
        .select(Contribution::as_select())
        .load(conn)
}

pub fn contribution_count(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    goal_id: Uuid,
) -> QueryResult<i64> {
    goal_contributions::table
        .filter(
            goal_contributions::ledger_id
                .eq(ledger_id)
                .and(goal_contributions::goal_id.eq(goal_id)),
        )
        .count()
        .get_result(conn)
}

/// What is saved towards a goal up to `today`, and how much of it since `since`: its
/// contributions, or, for a goal that tracks a wallet, the wallet's balance and its net inflow.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Saved {
    #[diesel(sql_type = Numeric)]
    pub saved: Decimal,
    #[diesel(sql_type = Numeric)]
    pub recent: Decimal,
}

pub fn saved(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    goal: &Goal,
    since: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Saved> {
    match goal.wallet_id {
        None => diesel::sql_query(
            "SELECT COALESCE(sum(amount), 0) AS saved, \
                    COALESCE(sum(amount) FILTER (WHERE date >= $3), 0) AS recent \
             FROM goal_contributions WHERE ledger_id = $1 AND goal_id = $2 AND date <= $4",
        )
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<SqlUuid, _>(goal.id)
        .bind::<Date, _>(since)
        .bind::<Date, _>(today)
        .get_result(conn),
        // The wallet's derived balance (as GET /wallets/{id} shows it) and its movements since.
        Some(wallet) => diesel::sql_query(
            "WITH moved AS ( \
                 SELECT f.day, CASE WHEN f.type = 'income' THEN f.amount ELSE -f.amount END AS delta \
                 FROM daily_flows f WHERE f.ledger_id = $1 AND f.wallet_id = $2 AND f.day <= $4 \
                 UNION ALL \
                 SELECT f.day, f.amount FROM daily_flows f \
                 WHERE f.ledger_id = $1 AND f.to_wallet_id = $2 AND f.day <= $4) \
             SELECT w.opening_balance + COALESCE((SELECT sum(delta) FROM moved), 0) AS saved, \
                    COALESCE((SELECT sum(delta) FROM moved WHERE day >= $3), 0) AS recent \
             FROM wallets w WHERE w.ledger_id = $1 AND w.id = $2",
        )
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<SqlUuid, _>(wallet)
        .bind::<Date, _>(since)
        .bind::<Date, _>(today)
        .get_result(conn),
    }
}
