//! Queries on `bills` and `bill_payments`, and paying a bill.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{bill_payments, bills};
use super::tombstones;
use crate::domain::period::Frequency;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bills)]
pub struct Bill {
    pub id: Uuid,
    pub ledger_id: Uuid,
    pub name: String,
    pub amount: Decimal,
    pub currency: String,
    pub category_id: Uuid,
    pub wallet_id: Uuid,
    pub frequency: String,
    pub next_due_date: NaiveDate,
    pub due_day: i16,
    pub reminder_days_before: i32,
    pub notes: Option<String>,
    pub autopay: bool,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Bill {
    pub fn frequency(&self) -> Frequency {
        Frequency::parse(&self.frequency).unwrap_or(Frequency::Once)
    }

    /// `cancelled`, `paid` (a one-off bill that was paid), `overdue` or `pending`.
    pub fn status(&self, today: NaiveDate) -> &'static str {
        if self.cancelled_at.is_some() {
            "cancelled"
        } else if self.paid_at.is_some() {
            "paid"
        } else if self.next_due_date < today {
            "overdue"
        } else {
            "pending"
        }
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = bills, treat_none_as_null = true)]
pub struct BillFields {
    pub name: String,
    pub amount: Decimal,
    pub currency: String,
    pub category_id: Uuid,
    pub wallet_id: Uuid,
    pub frequency: String,
    pub next_due_date: NaiveDate,
    pub due_day: i16,
    pub reminder_days_before: i32,
    pub notes: Option<String>,
    pub autopay: bool,
}

pub fn insert(conn: &mut PgConnection, ledger_id: Uuid, fields: &BillFields) -> QueryResult<Bill> {
    diesel::insert_into(bills::table)
        .values((bills::ledger_id.eq(ledger_id), fields))
        .returning(Bill::as_returning())
        .get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    fields: &BillFields,
) -> QueryResult<Bill> {
    diesel::update(
        bills::table
            .filter(bills::ledger_id.eq(ledger_id))
            .filter(bills::id.eq(id)),
    )
    .set(fields)
    .returning(Bill::as_returning())
    .get_result(conn)
}

/// The bill, locked for the rest of the transaction.
pub fn find_for_update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Bill>> {
    bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .filter(bills::id.eq(id))
        .select(Bill::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Bill>> {
    bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .filter(bills::id.eq(id))
        .select(Bill::as_select())
        .first(conn)
        .optional()
}

pub fn by_ids(conn: &mut PgConnection, ledger_id: Uuid, ids: &[Uuid]) -> QueryResult<Vec<Bill>> {
    bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .filter(bills::id.eq_any(ids))
        .select(Bill::as_select())
        .order((bills::next_due_date.asc(), bills::id.asc()))
        .load(conn)
}

/// A page of bills, soonest due first.
pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Bill>, i64)> {
    let total = bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)?;
    let rows = bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .select(Bill::as_select())
        .order((bills::next_due_date.asc(), bills::id.asc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

/// Open bills due on or before `until`, soonest (so overdue) first.
pub fn upcoming(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    until: NaiveDate,
) -> QueryResult<Vec<Bill>> {
    bills::table
        .filter(bills::ledger_id.eq(ledger_id))
        .filter(bills::cancelled_at.is_null())
        .filter(bills::paid_at.is_null())
        .filter(bills::next_due_date.le(until))
        .select(Bill::as_select())
        .order((bills::next_due_date.asc(), bills::id.asc()))
        .load(conn)
}

pub fn cancel(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Bill> {
    diesel::update(
        bills::table
            .filter(bills::ledger_id.eq(ledger_id))
            .filter(bills::id.eq(id)),
    )
    .set(bills::cancelled_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("COALESCE(cancelled_at, now())")))
    .returning(Bill::as_returning())
    .get_result(conn)
}

/// Opens a paid one-off bill again (it became recurring).
pub fn reopen(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Bill> {
    diesel::update(
        bills::table
            .filter(bills::ledger_id.eq(ledger_id))
            .filter(bills::id.eq(id)),
    )
    .set(bills::paid_at.eq(None::<DateTime<Utc>>))
    .returning(Bill::as_returning())
    .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        bills::table
            .filter(bills::ledger_id.eq(ledger_id))
            .filter(bills::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "bill", id)?;
    }
    Ok(deleted)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bill_payments)]
pub struct Payment {
    pub id: Uuid,
    pub due_date: NaiveDate,
    pub paid_on: NaiveDate,
    pub amount: Decimal,
    pub transaction_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn payments(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    bill_id: Uuid,
) -> QueryResult<Vec<Payment>> {
    bill_payments::table
        .filter(bill_payments::ledger_id.eq(ledger_id))
        .filter(bill_payments::bill_id.eq(bill_id))
        .select(Payment::as_select())
        .order((bill_payments::due_date.desc(), bill_payments::id.desc()))
        .load(conn)
}

/// Whether the bill's payment for `due` is recorded.
pub fn is_paid(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    bill_id: Uuid,
    due: NaiveDate,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        bill_payments::table
            .filter(bill_payments::ledger_id.eq(ledger_id))
            .filter(bill_payments::bill_id.eq(bill_id))
            .filter(bill_payments::due_date.eq(due)),
    ))
    .get_result(conn)
}

/// Records the payment of the bill's current due date; `None` when it is already recorded.
pub fn insert_payment(
    conn: &mut PgConnection,
    bill: &Bill,
    paid_on: NaiveDate,
    amount: Decimal,
) -> QueryResult<Option<Uuid>> {
    diesel::insert_into(bill_payments::table)
        .values((
            bill_payments::ledger_id.eq(bill.ledger_id),
            bill_payments::bill_id.eq(bill.id),
            bill_payments::due_date.eq(bill.next_due_date),
            bill_payments::paid_on.eq(paid_on),
            bill_payments::amount.eq(amount),
        ))
        .on_conflict_do_nothing()
        .returning(bill_payments::id)
        .get_result(conn)
        .optional()
}

/// Links a payment to the expense that recorded it.
pub fn link_payment(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    payment_id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<()> {
    diesel::update(bill_payments::table.find((ledger_id, payment_id)))
        .set(bill_payments::transaction_id.eq(transaction_id))
        .execute(conn)
        .map(drop)
}

/// Moves a bill to its next due date, or (`None`: a one-off) marks it paid.
pub fn advance(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    bill_id: Uuid,
    next: Option<NaiveDate>,
) -> QueryResult<Bill> {
    match next {
        Some(next) => diesel::update(bills::table.find((ledger_id, bill_id)))
            .set(bills::next_due_date.eq(next))
            .returning(Bill::as_returning())
            .get_result(conn),
        None => diesel::update(bills::table.find((ledger_id, bill_id)))
            .set(bills::paid_at.eq(Utc::now()))
            .returning(Bill::as_returning())
            .get_result(conn),
    }
}

/// Open autopay bills that may be due (no later than `latest`), except `skip`; locked, in user
/// order, rows held elsewhere skipped.
pub fn autopay_candidates_for_update(
    conn: &mut PgConnection,
    latest: NaiveDate,
    skip: &[Uuid],
    limit: i64,
) -> QueryResult<Vec<Bill>> {
    bills::table
        .filter(bills::autopay.eq(true))
        .filter(bills::cancelled_at.is_null())
        .filter(bills::paid_at.is_null())
        .filter(bills::next_due_date.le(latest))
        .filter(diesel::dsl::not(bills::id.eq_any(skip)))
        .select(Bill::as_select())
        .order((bills::ledger_id.asc(), bills::id.asc()))
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
}

/// Open bills whose reminder window may have begun (due no later than `latest` plus their
/// reminder days).
pub fn reminder_candidates(conn: &mut PgConnection, latest: NaiveDate) -> QueryResult<Vec<Bill>> {
    bills::table
        .filter(bills::cancelled_at.is_null())
        .filter(bills::paid_at.is_null())
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("next_due_date - reminder_days_before <= ")
                .bind::<diesel::sql_types::Date, _>(latest),
        )
        .select(Bill::as_select())
        .order((bills::ledger_id.asc(), bills::id.asc()))
        .load(conn)
}
