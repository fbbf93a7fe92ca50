//! Queries on `scenarios`, and the monthly flows per wallet a simulation starts from.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::scenarios;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scenarios)]
pub struct Scenario {
    pub id: Uuid,
    pub name: String,
    pub request: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub fn insert(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    name: &str,
    request: serde_json::Value,
    created_by: Uuid,
) -> QueryResult<Scenario> {
    diesel::insert_into(scenarios::table)
        .values((
            scenarios::ledger_id.eq(ledger_id),
            scenarios::name.eq(name),
            scenarios::request.eq(request),
            scenarios::created_by.eq(created_by),
        ))
        .returning(Scenario::as_returning())
        .get_result(conn)
}

pub fn count(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    scenarios::table
        .filter(scenarios::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)
}

pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Scenario>> {
    scenarios::table
        .filter(scenarios::ledger_id.eq(ledger_id))
        .order((scenarios::created_at.desc(), scenarios::id.desc()))
        .select(Scenario::as_select())
        .limit(limit)
        .offset(offset)
        .load(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Scenario>> {
    scenarios::table
        .filter(scenarios::ledger_id.eq(ledger_id).and(scenarios::id.eq(id)))
        .select(Scenario::as_select())
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        scenarios::table.filter(scenarios::ledger_id.eq(ledger_id).and(scenarios::id.eq(id))),
    )
    .execute(conn)
}

/// One wallet's movements in one month.
#[derive(Debug, Clone, QueryableByName)]
pub struct WalletMonth {
    #[diesel(sql_type = SqlUuid)]
    pub wallet_id: Uuid,
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub income: Decimal,
    #[diesel(sql_type = Numeric)]
    pub expense: Decimal,
    /// Transfers in − transfers out.
    #[diesel(sql_type = Numeric)]
    pub transfers: Decimal,
}

/// Income, expense and net transfers per wallet and month, `from` ..= `to`, in one currency,
/// from the daily rollup.
pub fn wallet_months(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<WalletMonth>> {
    diesel::sql_query(
        "WITH f AS ( \
             SELECT wallet_id AS wallet, date_trunc('month', day)::date AS month, type, \
                    CASE WHEN type = 'transfer' THEN -amount ELSE amount END AS amount \
             FROM daily_flows WHERE ledger_id = $1 AND currency = $2 AND day BETWEEN $3 AND $4 \
             UNION ALL \
             SELECT to_wallet_id, date_trunc('month', day)::date, 'transfer', amount \
             FROM daily_flows WHERE ledger_id = $1 AND currency = $2 AND day BETWEEN $3 AND $4 \
               AND to_wallet_id IS NOT NULL) \
         SELECT wallet AS wallet_id, month, \
                COALESCE(sum(amount) FILTER (WHERE type = 'income'), 0) AS income, \
                COALESCE(sum(amount) FILTER (WHERE type = 'expense'), 0) AS expense, \
                COALESCE(sum(amount) FILTER (WHERE type = 'transfer'), 0) AS transfers \
         FROM f GROUP BY wallet, month",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// The ledger's first transaction date in a currency.
pub fn first_day(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
) -> QueryResult<Option<NaiveDate>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<Date>)]
        day: Option<NaiveDate>,
    }
    let row: Row = diesel::sql_query(
        "SELECT min(day) AS day FROM daily_flows WHERE ledger_id = $1 AND currency = $2",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .get_result(conn)?;
    Ok(row.day)
}

/// What a simulation may cancel: a bill or a recurring template.
#[derive(Debug, Clone, Copy)]
pub enum Repeating {
    Bill,
    Recurring,
}

/// Whether a bill was paid, or a recurring template made a transaction, on a day in
/// `from .. before`: whether the months a simulation's baseline reads hold its money.
pub fn ran_between(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    source: Repeating,
    id: Uuid,
    (from, before): (NaiveDate, NaiveDate),
) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ran: bool,
    }
    let sql = match source {
        Repeating::Bill => {
            "SELECT EXISTS (SELECT 1 FROM bill_payments WHERE ledger_id = $1 AND bill_id = $2 \
               AND transaction_id IS NOT NULL AND paid_on >= $3 AND paid_on < $4) AS ran"
        }
        Repeating::Recurring => {
            "SELECT EXISTS (SELECT 1 FROM recurring_occurrences WHERE ledger_id = $1 \
               AND recurring_id = $2 AND transaction_id IS NOT NULL \
               AND occurrence_date >= $3 AND occurrence_date < $4) AS ran"
        }
    };
    let row: Row = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<SqlUuid, _>(id)
        .bind::<Date, _>(from)
        .bind::<Date, _>(before)
        .get_result(conn)?;
    Ok(row.ran)
}
