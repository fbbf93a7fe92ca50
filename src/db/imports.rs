//! Queries on `import_batches`, and the reads an import makes of the ledger's transactions:
//! the duplicate keys it already has and the movements a new entry could repeat.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{import_batches, transactions, wallets};
use super::tombstones;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_batches)]
pub struct Batch {
    pub id: Uuid,
    pub created_by: Option<Uuid>,
    pub format: String,
    pub undone: bool,
    pub wallet_id: Option<Uuid>,
    pub account: Option<String>,
    pub currency: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub entries: i32,
    pub created: i32,
    pub duplicates: i32,
    pub possible_duplicates: i32,
    pub failed: i32,
    pub report: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = import_batches)]
pub struct NewBatch {
    pub ledger_id: Uuid,
    pub id: Uuid,
    pub created_by: Option<Uuid>,
    pub format: String,
    pub wallet_id: Option<Uuid>,
    pub account: Option<String>,
    pub currency: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub entries: i32,
    pub created: i32,
    pub duplicates: i32,
    pub possible_duplicates: i32,
    pub failed: i32,
    pub report: serde_json::Value,
}

pub fn insert(conn: &mut PgConnection, batch: &NewBatch) -> QueryResult<()> {
    diesel::insert_into(import_batches::table)
        .values(batch)
        .execute(conn)
        .map(|_| ())
}

/// Writes a batch's final counts and its report, given as JSON text (a report of 100,000
/// entries as a `serde_json::Value` tree would take several times the memory).
pub fn finish(conn: &mut PgConnection, batch: &NewBatch, report: &str) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE import_batches SET entries = $3, created = $4, duplicates = $5, \
             possible_duplicates = $6, failed = $7, report = $8::jsonb \
         WHERE ledger_id = $1 AND id = $2",
    )
    .bind::<SqlUuid, _>(batch.ledger_id)
    .bind::<SqlUuid, _>(batch.id)
    .bind::<diesel::sql_types::Integer, _>(batch.entries)
    .bind::<diesel::sql_types::Integer, _>(batch.created)
    .bind::<diesel::sql_types::Integer, _>(batch.duplicates)
    .bind::<diesel::sql_types::Integer, _>(batch.possible_duplicates)
    .bind::<diesel::sql_types::Integer, _>(batch.failed)
    .bind::<Text, _>(report)
    .execute(conn)
    .map(|_| ())
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Batch>> {
    import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .filter(import_batches::id.eq(id))
        .select(Batch::as_select())
        .first(conn)
        .optional()
}

/// The columns of a batch, its report left out (`[]`).
macro_rules! summary_columns {
    () => {
        (
            import_batches::id,
            import_batches::created_by,
            import_batches::format,
            import_batches::undone,
            import_batches::wallet_id,
            import_batches::account,
            import_batches::currency,
            import_batches::period_start,
            import_batches::period_end,
            import_batches::entries,
            import_batches::created,
            import_batches::duplicates,
            import_batches::possible_duplicates,
            import_batches::failed,
            diesel::dsl::sql::<diesel::sql_types::Jsonb>("'[]'::jsonb"),
            import_batches::created_at,
        )
    };
}

/// A batch without its report.
pub fn find_summary(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Batch>> {
    import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .filter(import_batches::id.eq(id))
        .select(summary_columns!())
        .first::<Batch>(conn)
        .optional()
}

/// A page of the ledger's batches, newest first, without their reports, and how many there are.
pub fn page(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Batch>, i64)> {
    let rows = import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .order((import_batches::created_at.desc(), import_batches::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(summary_columns!())
        .load::<Batch>(conn)?;
    let total = import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

pub fn mark_undone(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<()> {
    diesel::update(
        import_batches::table
            .filter(import_batches::ledger_id.eq(ledger_id))
            .filter(import_batches::id.eq(id)),
    )
    .set(import_batches::undone.eq(true))
    .execute(conn)
    .map(|_| ())
}

/// Per batch: how many of its transactions there are, and how many still wait for review.
pub fn review_counts(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, (i64, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        batch: Uuid,
        #[diesel(sql_type = BigInt)]
        total: i64,
        #[diesel(sql_type = BigInt)]
        pending: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT import_batch_id AS batch, count(*) AS total, \
                count(*) FILTER (WHERE status = 'pending') AS pending \
         FROM transactions WHERE ledger_id = $1 AND import_batch_id = ANY($2) \
         GROUP BY import_batch_id",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.batch, (r.total, r.pending)))
        .collect())
}

/// The batch's transactions: id and duplicate key, in the batch's order of keys.
pub fn batch_transactions(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    batch: Uuid,
) -> QueryResult<Vec<(Uuid, Option<String>, String)>> {
    transactions::table
        .filter(transactions::ledger_id.eq(ledger_id))
        .filter(transactions::import_batch_id.eq(batch))
        .select((
            transactions::id,
            transactions::import_hash,
            transactions::status,
        ))
        .load(conn)
}

/// Of these duplicate keys, those the ledger already has, with the transaction that has each.
/// A join with the keys (not `= ANY`, which PostgreSQL would check row by row against the
/// whole array on a large ledger).
pub fn existing_hashes(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    hashes: &[String],
) -> QueryResult<HashMap<String, Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        hash: String,
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT t.import_hash AS hash, t.id FROM unnest($2::text[]) AS k(hash) \
         JOIN transactions t ON t.ledger_id = $1 AND t.import_hash = k.hash",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<Text>, _>(hashes)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.hash, r.id)).collect())
}

/// A transaction touching a wallet, as the wallet's statement would show it: negative when money
/// left the wallet.
#[derive(Debug, Clone, QueryableByName)]
pub struct Movement {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub signed: Decimal,
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
}

/// The wallet's movements between two dates.
pub fn movements(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    wallet_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Movement>> {
    diesel::sql_query(
        "SELECT id, date, external_id, \
                CASE WHEN type = 'income' OR to_wallet_id = $2 THEN amount ELSE -amount END AS signed \
         FROM transactions \
         WHERE ledger_id = $1 AND (wallet_id = $2 OR to_wallet_id = $2) AND date BETWEEN $3 AND $4",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(wallet_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// The wallet linked to a bank account, if one is.
pub fn wallet_of_account(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    account: &str,
) -> QueryResult<Option<Uuid>> {
    wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .filter(wallets::bank_account.eq(account))
        .select(wallets::id)
        .first(conn)
        .optional()
}

/// The bank account a wallet is linked to, if any.
pub fn account_of_wallet(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    wallet_id: Uuid,
) -> QueryResult<Option<String>> {
    wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .filter(wallets::id.eq(wallet_id))
        .select(wallets::bank_account)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

pub fn link_account(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    wallet_id: Uuid,
    account: &str,
) -> QueryResult<()> {
    diesel::update(
        wallets::table
            .filter(wallets::ledger_id.eq(ledger_id))
            .filter(wallets::id.eq(wallet_id)),
    )
    .set(wallets::bank_account.eq(account))
    .execute(conn)
    .map(|_| ())
}

/// Pending transactions among `ids`.
pub fn pending_among(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    transactions::table
        .filter(transactions::ledger_id.eq(ledger_id))
        .filter(transactions::id.eq_any(ids))
        .filter(transactions::status.eq("pending"))
        .select(transactions::id)
        .load(conn)
}

/// Approves pending transactions: they become `cleared`.
pub fn approve(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
    by: Option<Uuid>,
) -> QueryResult<usize> {
    diesel::update(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::id.eq_any(ids))
            .filter(transactions::status.eq("pending")),
    )
    .set((
        transactions::status.eq("cleared"),
        transactions::updated_by.eq(by),
    ))
    .execute(conn)
}

/// Deletes transactions (a tombstone each, for syncing clients).
pub fn delete_many(conn: &mut PgConnection, ledger_id: Uuid, ids: &[Uuid]) -> QueryResult<usize> {
    let deleted: Vec<Uuid> = diesel::delete(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::id.eq_any(ids)),
    )
    .returning(transactions::id)
    .get_results(conn)?;
    for id in &deleted {
        tombstones::record(conn, ledger_id, "transaction", *id)?;
    }
    Ok(deleted.len())
}

/// A pending expense or income as transfer matching sees it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Pending {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub wallet_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub transfer_match_id: Option<Uuid>,
}

/// The ledger's pending, unmatched expenses and incomes in a currency between two dates.
pub fn unmatched_pending(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(
        "SELECT id, wallet_id, type AS kind, amount, date, transfer_match_id FROM transactions \
         WHERE ledger_id = $1 AND status = 'pending' AND transfer_match_id IS NULL \
           AND type IN ('expense', 'income') AND currency = $2 AND date BETWEEN $3 AND $4",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// Of these transactions, the pending ones with a transfer match, and their matches.
pub fn matched_among(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(
        "SELECT id, wallet_id, type AS kind, amount, date, transfer_match_id FROM transactions \
         WHERE ledger_id = $1 AND status = 'pending' AND transfer_match_id IS NOT NULL \
           AND (id = ANY($2) OR transfer_match_id = ANY($2))",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
}

/// Makes each pair name the other.
pub fn pair(conn: &mut PgConnection, ledger_id: Uuid, pairs: &[(Uuid, Uuid)]) -> QueryResult<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let (left, right): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    diesel::sql_query(
        "UPDATE transactions t SET transfer_match_id = m.other \
         FROM (SELECT * FROM unnest($2::uuid[], $3::uuid[]) \
               UNION ALL SELECT * FROM unnest($3::uuid[], $2::uuid[])) AS m(id, other) \
         WHERE t.ledger_id = $1 AND t.id = m.id",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(left)
    .bind::<Array<SqlUuid>, _>(right)
    .execute(conn)
    .map(drop)
}

/// Forgets matches with rows that are gone or no longer pending.
pub fn unpair(conn: &mut PgConnection, ledger_id: Uuid, ids: &[Uuid]) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE transactions SET transfer_match_id = NULL \
         WHERE ledger_id = $1 AND transfer_match_id = ANY($2)",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(conn)
    .map(drop)
}
