//! Queries on `receipts`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::schema::receipts;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = receipts)]
pub struct Receipt {
    pub ledger_id: Uuid,
    pub id: Uuid,
    pub uploaded_by: Option<Uuid>,
    pub status: String,
    pub failure: Option<String>,
    pub ocr_text: Option<String>,
    pub parsed: Option<Value>,
    pub corrections: Value,
    pub merchant: Option<String>,
    pub date: Option<NaiveDate>,
    pub total: Option<Decimal>,
    pub currency: Option<String>,
    pub transaction_id: Option<Uuid>,
    pub attempts: i32,
    pub processed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a receipt's reading and its corrections settle.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = receipts, treat_none_as_null = true)]
pub struct Settled {
    pub merchant: Option<String>,
    pub date: Option<NaiveDate>,
    pub total: Option<Decimal>,
    pub currency: Option<String>,
}

pub fn insert(conn: &mut PgConnection, ledger_id: Uuid, uploaded_by: Uuid) -> QueryResult<Receipt> {
    diesel::insert_into(receipts::table)
        .values((
            receipts::ledger_id.eq(ledger_id),
            receipts::uploaded_by.eq(uploaded_by),
        ))
        .returning(Receipt::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Receipt>> {
    receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::id.eq(id))
        .select(Receipt::as_select())
        .first(conn)
        .optional()
}

/// What `GET /receipts` filters by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// In the merchant or anywhere in the text read.
    pub text: Option<String>,
    pub merchant: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: Option<String>,
    pub unmatched: Option<bool>,
}

fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of the ledger's receipts, newest first, and how many match in all.
pub fn page(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Receipt>, i64)> {
    let query = || {
        let mut query = receipts::table
            .filter(receipts::ledger_id.eq(ledger_id))
            .into_boxed();
        if let Some(text) = &filter.text {
            let pattern = like(text);
            query = query.filter(
                receipts::merchant
                    .ilike(pattern.clone())
                    .or(receipts::ocr_text.ilike(pattern)),
            );
        }
        if let Some(merchant) = &filter.merchant {
            query = query.filter(receipts::merchant.ilike(like(merchant)));
        }
        if let Some(from) = filter.from {
            query = query.filter(receipts::date.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(receipts::date.le(to));
        }
        if let Some(status) = &filter.status {
            query = query.filter(receipts::status.eq(status.clone()));
        }
        match filter.unmatched {
            Some(true) => query = query.filter(receipts::transaction_id.is_null()),
            Some(false) => query = query.filter(receipts::transaction_id.is_not_null()),
            None => {}
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows = query()
        .order((receipts::created_at.desc(), receipts::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(Receipt::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Takes the oldest receipt waiting to be read whose lease (if any) ran out, and leases it
/// until `until`. Several workers, on several instances, never take the same one.
pub fn claim(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Option<Receipt>> {
    conn.transaction(|conn| {
        let next: Option<(Uuid, Uuid)> = receipts::table
            .filter(receipts::status.eq("processing"))
            .filter(
                receipts::claimed_until
                    .is_null()
                    .or(receipts::claimed_until.lt(now)),
            )
            .order(receipts::created_at)
            .select((receipts::ledger_id, receipts::id))
            .for_update()
            .skip_locked()
            .first(conn)
            .optional()?;
        let Some((ledger_id, id)) = next else {
            return Ok(None);
        };
        diesel::update(
            receipts::table
                .filter(receipts::ledger_id.eq(ledger_id))
                .filter(receipts::id.eq(id)),
        )
        .set((
            receipts::claimed_until.eq(until),
            receipts::attempts.eq(receipts::attempts + 1),
        ))
        .returning(Receipt::as_returning())
        .get_result(conn)
        .optional()
    })
}

/// Stores a reading: the text, the parse, the settled fields, `parsed`.
pub fn finish(
    conn: &mut PgConnection,
    receipt: &Receipt,
    ocr_text: &str,
    parsed: &Value,
    settled: &Settled,
) -> QueryResult<usize> {
    diesel::update(
        receipts::table
            .filter(receipts::ledger_id.eq(receipt.ledger_id))
            .filter(receipts::id.eq(receipt.id))
            .filter(receipts::status.eq("processing")),
    )
    .set((
        receipts::status.eq("parsed"),
        receipts::failure.eq(None::<String>),
        receipts::ocr_text.eq(ocr_text),
        receipts::parsed.eq(parsed),
        settled,
        receipts::claimed_until.eq(None::<DateTime<Utc>>),
        receipts::processed_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

/// Puts a claimed receipt back, to be taken again after `until`.
pub fn release(
    conn: &mut PgConnection,
    receipt: &Receipt,
    until: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        receipts::table
            .filter(receipts::ledger_id.eq(receipt.ledger_id))
            .filter(receipts::id.eq(receipt.id))
            .filter(receipts::status.eq("processing")),
    )
    .set(receipts::claimed_until.eq(until))
    .execute(conn)
}

pub fn fail(conn: &mut PgConnection, receipt: &Receipt, reason: &str) -> QueryResult<usize> {
    diesel::update(
        receipts::table
            .filter(receipts::ledger_id.eq(receipt.ledger_id))
            .filter(receipts::id.eq(receipt.id))
            .filter(receipts::status.eq("processing")),
    )
    .set((
        receipts::status.eq("failed"),
        receipts::failure.eq(reason),
        receipts::claimed_until.eq(None::<DateTime<Utc>>),
        receipts::processed_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

pub fn correct(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    corrections: &Value,
    settled: &Settled,
) -> QueryResult<Receipt> {
    diesel::update(
        receipts::table
            .filter(receipts::ledger_id.eq(ledger_id))
            .filter(receipts::id.eq(id)),
    )
    .set((receipts::corrections.eq(corrections), settled))
    .returning(Receipt::as_returning())
    .get_result(conn)
}

pub fn link(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<Receipt> {
    diesel::update(
        receipts::table
            .filter(receipts::ledger_id.eq(ledger_id))
            .filter(receipts::id.eq(id)),
    )
    .set(receipts::transaction_id.eq(transaction_id))
    .returning(Receipt::as_returning())
    .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        receipts::table
            .filter(receipts::ledger_id.eq(ledger_id))
            .filter(receipts::id.eq(id)),
    )
    .execute(conn)
}

/// An expense a receipt may be the receipt of.
#[derive(Debug, Clone, Queryable)]
pub struct Candidate {
    pub id: Uuid,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
}

/// The ledger's expenses of one of `amounts` between two dates that no other receipt is
/// matched to.
pub fn candidates(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    amounts: &[Decimal],
    from: NaiveDate,
    to: NaiveDate,
    currency: Option<&str>,
) -> QueryResult<Vec<Candidate>> {
    use super::schema::transactions;
    let taken = receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::transaction_id.is_not_null())
        .select(receipts::transaction_id.assume_not_null());
    let mut query = transactions::table
        .filter(transactions::ledger_id.eq(ledger_id))
        .into_boxed();
    if let Some(currency) = currency {
        query = query.filter(transactions::currency.eq(currency.to_owned()));
    }
    query
        .filter(transactions::type_.eq("expense"))
        .filter(transactions::amount.eq_any(amounts))
        .filter(transactions::date.between(from, to))
        .filter(transactions::id.ne_all(taken))
        .order((transactions::date, transactions::id))
        .limit(50)
        .select((
            transactions::id,
            transactions::amount,
            transactions::date,
            transactions::description,
            transactions::merchant,
        ))
        .load(conn)
}

/// What a receipt may be matched to: the transaction's type and currency, and the receipt that
/// matched it already, if one did.
pub struct MatchTarget {
    pub transaction_type: String,
    pub currency: String,
    pub receipt_id: Option<Uuid>,
}

pub fn match_target(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<Option<MatchTarget>> {
    use super::schema::transactions;
    let Some((transaction_type, currency)) = transactions::table
        .filter(transactions::ledger_id.eq(ledger_id))
        .filter(transactions::id.eq(transaction_id))
        .select((transactions::type_, transactions::currency))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let receipt_id = receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::transaction_id.eq(transaction_id))
        .select(receipts::id)
        .first(conn)
        .optional()?;
    Ok(Some(MatchTarget {
        transaction_type,
        currency,
        receipt_id,
    }))
}

/// Locks a receipt's row until the transaction ends.
pub fn lock(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Receipt>> {
    receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::id.eq(id))
        .select(Receipt::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn count_waiting(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::status.eq("processing"))
        .count()
        .get_result(conn)
}
