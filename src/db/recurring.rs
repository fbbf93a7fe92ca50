//! Queries on `recurring_transactions` (templates) and the occurrences they materialise.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{recurring_occurrences, recurring_transactions};
use super::tombstones;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recurring_transactions)]
pub struct Recurring {
    pub id: Uuid,
    pub ledger_id: Uuid,
    #[diesel(column_name = type_)]
    pub transaction_type: String,
    pub amount: Decimal,
    pub currency: String,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<Option<String>>,
    pub frequency: String,
    pub next_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub anchor_day: i16,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = recurring_transactions, treat_none_as_null = true)]
pub struct RecurringFields {
    #[diesel(column_name = type_)]
    pub transaction_type: String,
    pub amount: Decimal,
    pub currency: String,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<Option<String>>,
    pub frequency: String,
    pub next_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub anchor_day: i16,
    pub active: bool,
}

pub fn insert(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    fields: &RecurringFields,
) -> QueryResult<Recurring> {
    diesel::insert_into(recurring_transactions::table)
        .values((recurring_transactions::ledger_id.eq(ledger_id), fields))
        .returning(Recurring::as_returning())
        .get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    fields: &RecurringFields,
) -> QueryResult<Recurring> {
    diesel::update(
        recurring_transactions::table
            .filter(recurring_transactions::ledger_id.eq(ledger_id))
            .filter(recurring_transactions::id.eq(id)),
    )
    .set(fields)
    .returning(Recurring::as_returning())
    .get_result(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Recurring>> {
    recurring_transactions::table
        .filter(recurring_transactions::ledger_id.eq(ledger_id))
        .filter(recurring_transactions::id.eq(id))
        .select(Recurring::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Recurring>, i64)> {
    let total = recurring_transactions::table
        .filter(recurring_transactions::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)?;
    let rows = recurring_transactions::table
        .filter(recurring_transactions::ledger_id.eq(ledger_id))
        .select(Recurring::as_select())
        .order((
            recurring_transactions::created_at.asc(),
            recurring_transactions::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        recurring_transactions::table
            .filter(recurring_transactions::ledger_id.eq(ledger_id))
            .filter(recurring_transactions::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "recurring", id)?;
    }
    Ok(deleted)
}

/// Active templates that may be due (next date no later than `latest`, a day past UTC today
/// covers every time zone), except `skip`; locked, in user order (so two workers take users'
/// locks in the same order), rows another worker holds skipped rather than waited for.
pub fn candidates_for_update(
    conn: &mut PgConnection,
    latest: NaiveDate,
    skip: &[Uuid],
    limit: i64,
) -> QueryResult<Vec<Recurring>> {
    recurring_transactions::table
        .filter(recurring_transactions::active.eq(true))
        .filter(recurring_transactions::next_date.le(latest))
        .filter(diesel::dsl::not(recurring_transactions::id.eq_any(skip)))
        .select(Recurring::as_select())
        .order((
            recurring_transactions::ledger_id.asc(),
            recurring_transactions::id.asc(),
        ))
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
}

pub fn by_ids(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Recurring>> {
    recurring_transactions::table
        .filter(recurring_transactions::ledger_id.eq(ledger_id))
        .filter(recurring_transactions::id.eq_any(ids))
        .select(Recurring::as_select())
        .order((
            recurring_transactions::created_at.asc(),
            recurring_transactions::id.asc(),
        ))
        .load(conn)
}

/// One template, without locking it.
pub fn get(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Recurring>> {
    recurring_transactions::table
        .filter(recurring_transactions::ledger_id.eq(ledger_id))
        .filter(recurring_transactions::id.eq(id))
        .select(Recurring::as_select())
        .first(conn)
        .optional()
}

/// Claims an occurrence; false when it was materialised already.
pub fn claim_occurrence(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    recurring_id: Uuid,
    date: NaiveDate,
) -> QueryResult<bool> {
    diesel::insert_into(recurring_occurrences::table)
        .values((
            recurring_occurrences::ledger_id.eq(ledger_id),
            recurring_occurrences::recurring_id.eq(recurring_id),
            recurring_occurrences::occurrence_date.eq(date),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

pub fn link_occurrence(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    recurring_id: Uuid,
    date: NaiveDate,
    transaction_id: Uuid,
) -> QueryResult<()> {
    diesel::update(recurring_occurrences::table.find((ledger_id, recurring_id, date)))
        .set(recurring_occurrences::transaction_id.eq(transaction_id))
        .execute(conn)
        .map(|_| ())
}

pub fn advance(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    next_date: NaiveDate,
    active: bool,
) -> QueryResult<()> {
    diesel::update(recurring_transactions::table.find((ledger_id, id)))
        .set((
            recurring_transactions::next_date.eq(next_date),
            recurring_transactions::active.eq(active),
        ))
        .execute(conn)
        .map(|_| ())
}
