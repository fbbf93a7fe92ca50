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

/// A batch, as [`batch_columns!`] reads it.
#[derive(Debug, Clone, Queryable)]
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
    /// The report's JSON text, as it was written (`[]` when left out).
    pub report: String,
    pub created_at: DateTime<Utc>,
    /// `queued`, `running` (in the background), `done` or `failed`.
    pub state: String,
    pub auto_approve: bool,
    pub size_bytes: Option<i64>,
    /// Entries stored so far while `running`.
    pub progress: i32,
    pub failure_field: Option<String>,
    pub failure: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
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
    pub state: String,
    pub auto_approve: bool,
    /// The queued file's key in the file store (background imports only).
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
}

/// The columns of a [`Batch`], with its report read by `$report` (its text, or `'[]'`).
macro_rules! batch_columns {
    ($report:expr) => {
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
            diesel::dsl::sql::<Text>($report),
            import_batches::created_at,
            import_batches::state,
            import_batches::auto_approve,
            import_batches::size_bytes,
            import_batches::progress,
            import_batches::failure_field,
            import_batches::failure,
            import_batches::finished_at,
        )
    };
}

/// The report's text, read as stored.
const REPORT: &str = "report::text";
/// The report left out.
const NO_REPORT: &str = "'[]'";

/// One batch of a ledger.
#[diesel::dsl::auto_type]
fn one(ledger_id: Uuid, id: Uuid) -> _ {
    import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .filter(import_batches::id.eq(id))
}

impl NewBatch {
    /// A batch imported within its request (its counts and report written when it finishes).
    pub fn done(
        ledger_id: Uuid,
        id: Uuid,
        created_by: Uuid,
        format: &str,
        auto_approve: bool,
    ) -> NewBatch {
        NewBatch {
            ledger_id,
            id,
            created_by: Some(created_by),
            format: format.to_owned(),
            wallet_id: None,
            account: None,
            currency: None,
            period_start: None,
            period_end: None,
            entries: 0,
            created: 0,
            duplicates: 0,
            possible_duplicates: 0,
            failed: 0,
            report: serde_json::Value::Array(Vec::new()),
            state: "done".into(),
            auto_approve,
            sha256: None,
            size_bytes: None,
        }
    }
}

pub fn insert(conn: &mut PgConnection, batch: &NewBatch) -> QueryResult<()> {
    diesel::insert_into(import_batches::table)
        .values(batch)
        .execute(conn)
        .map(|_| ())
}

/// Starts a report in this transaction: its parts are added with [`add_report_part`] and
/// joined by [`finish`].
pub fn begin_report(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(
        "CREATE TEMPORARY TABLE IF NOT EXISTS import_report_parts \
             (n integer PRIMARY KEY, part text NOT NULL) ON COMMIT DROP",
    )
    .execute(conn)?;
    diesel::sql_query("TRUNCATE import_report_parts")
        .execute(conn)
        .map(drop)
}

/// A part of the report: the JSON of some entries, comma-separated, without brackets.
pub fn add_report_part(conn: &mut PgConnection, n: i32, part: &str) -> QueryResult<()> {
    diesel::sql_query("INSERT INTO import_report_parts (n, part) VALUES ($1, $2)")
        .bind::<diesel::sql_types::Integer, _>(n)
        .bind::<Text, _>(part)
        .execute(conn)
        .map(drop)
}

/// Writes a batch's final counts and its report (the parts added since [`begin_report`], joined
/// here), and lets go of its queued file.
pub fn finish(conn: &mut PgConnection, batch: &NewBatch) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE import_batches SET entries = $3, created = $4, duplicates = $5, \
             possible_duplicates = $6, failed = $7, state = 'done', \
             report = (SELECT ('[' || coalesce(string_agg(part, ',' ORDER BY n), '') || ']')::json \
                       FROM import_report_parts), \
             progress = $4, sha256 = NULL, claimed_until = NULL, finished_at = now(), \
             wallet_id = $8, account = $9, currency = $10, period_start = $11, \
             period_end = $12 \
         WHERE ledger_id = $1 AND id = $2",
    )
    .bind::<SqlUuid, _>(batch.ledger_id)
    .bind::<SqlUuid, _>(batch.id)
    .bind::<diesel::sql_types::Integer, _>(batch.entries)
    .bind::<diesel::sql_types::Integer, _>(batch.created)
    .bind::<diesel::sql_types::Integer, _>(batch.duplicates)
    .bind::<diesel::sql_types::Integer, _>(batch.possible_duplicates)
    .bind::<diesel::sql_types::Integer, _>(batch.failed)
    .bind::<Nullable<SqlUuid>, _>(batch.wallet_id)
    .bind::<Nullable<Text>, _>(batch.account.as_deref())
    .bind::<Nullable<Text>, _>(batch.currency.as_deref())
    .bind::<Nullable<Date>, _>(batch.period_start)
    .bind::<Nullable<Date>, _>(batch.period_end)
    .execute(conn)
    .map(|_| ())
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Batch>> {
    one(ledger_id, id)
        .select(batch_columns!(REPORT))
        .first(conn)
        .optional()
}

/// A batch without its report.
pub fn find_summary(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Batch>> {
    one(ledger_id, id)
        .select(batch_columns!(NO_REPORT))
        .first::<Batch>(conn)
        .optional()
}

/// A page of a batch's report (each entry's JSON text, in file order), only the entries of
/// `outcome` if given, and how many such entries there are; `None` when there is no such batch.
pub fn report_page(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    outcome: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<Option<(Vec<String>, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        entry: Option<String>,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    // One row even for an empty page (the entry `NULL`), so a batch is told from no batch.
    let rows: Vec<Row> = diesel::sql_query(
        "WITH entries AS ( \
             SELECT t.e, t.n FROM import_batches b, json_array_elements(b.report) \
                 WITH ORDINALITY AS t (e, n) \
             WHERE b.ledger_id = $1 AND b.id = $2 AND ($3::text IS NULL OR t.e ->> 'outcome' = $3)) \
         SELECT p.e::text AS entry, (SELECT count(*) FROM entries) AS total \
         FROM import_batches b \
         LEFT JOIN LATERAL (SELECT e, n FROM entries ORDER BY n LIMIT $4 OFFSET $5) p ON true \
         WHERE b.ledger_id = $1 AND b.id = $2 ORDER BY p.n",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(outcome)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)?;
    let Some(total) = rows.first().map(|r| r.total) else {
        return Ok(None);
    };
    Ok(Some((
        rows.into_iter().filter_map(|r| r.entry).collect(),
        total,
    )))
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
        .select(batch_columns!(NO_REPORT))
        .load::<Batch>(conn)?;
    let total = import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)?;
    Ok((rows, total))
}

/// A batch, locked until the end of the transaction (the background readers skip it meanwhile).
pub fn find_for_update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Batch>> {
    one(ledger_id, id)
        .select(batch_columns!(REPORT))
        .for_no_key_update()
        .first(conn)
        .optional()
}

/// Marks a batch undone; a queued one leaves the queue, and its file is let go.
pub fn mark_undone(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE import_batches SET undone = true, sha256 = NULL, \
             state = CASE WHEN state = 'queued' THEN 'done' ELSE state END, \
             finished_at = coalesce(finished_at, now()) \
         WHERE ledger_id = $1 AND id = $2",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .execute(conn)
    .map(|_| ())
}

/// Serialises the queueing of one ledger's files until the end of the transaction.
pub fn lock_queue(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('finai-imports:' || $1::text, 0))",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .execute(conn)
    .map(drop)
}

/// The ledger's batches waiting for a reader or being read.
pub fn count_waiting(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    import_batches::table
        .filter(import_batches::ledger_id.eq(ledger_id))
        .filter(import_batches::state.eq_any(["queued", "running"]))
        .filter(import_batches::undone.eq(false))
        .count()
        .get_result(conn)
}

/// A queued batch as a background reader takes it.
#[derive(Debug, Clone, Queryable)]
pub struct Queued {
    pub ledger_id: Uuid,
    pub id: Uuid,
    pub created_by: Option<Uuid>,
    pub format: String,
    pub wallet_id: Option<Uuid>,
    pub auto_approve: bool,
    pub sha256: Option<String>,
    /// Counting this one.
    pub attempts: i32,
}

/// Takes the oldest queued batch (or one whose reader's lease ran out) and leases it until
/// `until`. Several readers, on several instances, never take the same one.
pub fn claim(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Option<Queued>> {
    conn.transaction(|conn| {
        let next: Option<(Uuid, Uuid)> = import_batches::table
            .filter(
                import_batches::state.eq("queued").or(import_batches::state
                    .eq("running")
                    .and(import_batches::claimed_until.lt(now))),
            )
            .filter(
                import_batches::claimed_until
                    .is_null()
                    .or(import_batches::claimed_until.lt(now)),
            )
            .order(import_batches::created_at)
            .select((import_batches::ledger_id, import_batches::id))
            .for_update()
            .skip_locked()
            .first(conn)
            .optional()?;
        let Some((ledger_id, id)) = next else {
            return Ok(None);
        };
        diesel::update(one(ledger_id, id))
            .set((
                import_batches::state.eq("running"),
                import_batches::claimed_until.eq(until),
                import_batches::attempts.eq(import_batches::attempts + 1),
            ))
            .returning((
                import_batches::ledger_id,
                import_batches::id,
                import_batches::created_by,
                import_batches::format,
                import_batches::wallet_id,
                import_batches::auto_approve,
                import_batches::sha256,
                import_batches::attempts,
            ))
            .get_result(conn)
            .optional()
    })
}

/// Whether the reader that took the batch on its `attempt`-th try still has it (a reader whose
/// lease ran out while it waited may have been overtaken by another).
pub fn still_running(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    attempt: i32,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        one(ledger_id, id)
            .filter(import_batches::state.eq("running"))
            .filter(import_batches::attempts.eq(attempt)),
    ))
    .get_result(conn)
}

/// How far a running batch got: its entries (once read) and those stored.
pub fn set_progress(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    entries: i32,
    stored: i32,
) -> QueryResult<()> {
    diesel::update(one(ledger_id, id).filter(import_batches::state.eq("running")))
        .set((
            import_batches::entries.eq(entries),
            import_batches::progress.eq(stored),
        ))
        .execute(conn)
        .map(drop)
}

/// Ends a background batch that could not be imported: nothing of it was stored, and the reason
/// is kept for its client.
pub fn fail(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    field: Option<&str>,
    message: &str,
) -> QueryResult<()> {
    diesel::update(one(ledger_id, id))
        .set((
            import_batches::state.eq("failed"),
            import_batches::failure_field.eq(field),
            import_batches::failure.eq(message),
            import_batches::sha256.eq(None::<String>),
            import_batches::progress.eq(0),
            import_batches::claimed_until.eq(None::<DateTime<Utc>>),
            import_batches::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(drop)
}

/// Puts a batch whose reading failed for a passing reason back in the queue, from `at`.
pub fn release(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(one(ledger_id, id))
        .set((
            import_batches::state.eq("queued"),
            import_batches::claimed_until.eq(at),
            import_batches::progress.eq(0),
        ))
        .execute(conn)
        .map(drop)
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

/// How many of the batch's rows were merged into an approved transfer (and are gone as rows).
pub fn merged_from_batch(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    batch: Uuid,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        merged: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS merged FROM merged_import_keys \
         WHERE ledger_id = $1 AND import_batch_id = $2",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(batch)
    .get_result::<Count>(conn)
    .map(|c| c.merged)
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
    // A key is a transaction's own, or that of an inflow merged into a transfer.
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT t.import_hash AS hash, t.id FROM unnest($2::text[]) AS k(hash) \
         JOIN transactions t ON t.ledger_id = $1 AND t.import_hash = k.hash \
         UNION ALL \
         SELECT m.import_hash, m.transaction_id FROM unnest($2::text[]) AS k(hash) \
         JOIN merged_import_keys m ON m.ledger_id = $1 AND m.import_hash = k.hash",
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

/// The wallet's movements between two dates. A movement's bank id is given only where it is
/// this wallet's: a transfer imported from the other wallet's statement carries that
/// account's id, which says nothing about whether this statement's line is the same money.
pub fn movements(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    wallet_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Movement>> {
    diesel::sql_query(
        "SELECT t.id, t.date, \
                CASE WHEN b.wallet_id = $2 THEN t.external_id END AS external_id, \
                CASE WHEN t.type = 'income' OR t.to_wallet_id = $2 THEN t.amount \
                     ELSE -t.amount END AS signed \
         FROM transactions t \
         LEFT JOIN import_batches b ON b.ledger_id = t.ledger_id AND b.id = t.import_batch_id \
         WHERE t.ledger_id = $1 AND (t.wallet_id = $2 OR t.to_wallet_id = $2) \
           AND t.date BETWEEN $3 AND $4",
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

/// An expense or income as transfer matching sees it.
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
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub transfer_match_id: Option<Uuid>,
}

/// What a [`Pending`] reads of a transaction.
const PENDING_COLUMNS: &str =
    "SELECT id, wallet_id, type AS kind, amount, currency, status, date, transfer_match_id \
     FROM transactions";

/// The ledger's pending, unmatched expenses and incomes in a currency between two dates.
pub fn unmatched_pending(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(
        format!(
        "{PENDING_COLUMNS} WHERE ledger_id = $1 AND status = 'pending' AND transfer_match_id IS NULL \
           AND type IN ('expense', 'income') AND currency = $2 AND date BETWEEN $3 AND $4"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// A wallet's expenses and incomes of any status between two dates that are no half of a
/// matched pair: where a rule's transfer would find its other side already recorded.
pub fn unmatched_of_wallet(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    wallet_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(format!(
        "{PENDING_COLUMNS} WHERE ledger_id = $1 AND wallet_id = $2 AND transfer_match_id IS NULL \
           AND type IN ('expense', 'income') AND date BETWEEN $3 AND $4"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(wallet_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// Keeps the import key of `inflow` (about to be deleted) with `transfer`, the row it was
/// merged into, so that the inflow's statement imported again finds it.
pub fn keep_merged_key(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    inflow: Uuid,
    transfer: Uuid,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO merged_import_keys (ledger_id, import_hash, transaction_id, import_batch_id) \
         SELECT ledger_id, import_hash, $3, import_batch_id FROM transactions \
         WHERE ledger_id = $1 AND id = $2 AND import_hash IS NOT NULL \
         ON CONFLICT (ledger_id, import_hash) DO UPDATE SET \
            transaction_id = EXCLUDED.transaction_id, import_batch_id = EXCLUDED.import_batch_id",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(inflow)
    .bind::<SqlUuid, _>(transfer)
    .execute(conn)
    .map(drop)
}

/// Hands what hangs on `inflow` (its attachments, and receipts recorded as it) to `transfer`,
/// the row it is merged into, before the inflow is deleted: deleting it would take the files
/// with it.
pub fn move_belongings(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    inflow: Uuid,
    transfer: Uuid,
) -> QueryResult<()> {
    for table in ["attachments", "receipts"] {
        diesel::sql_query(format!(
            "UPDATE {table} SET transaction_id = $3 WHERE ledger_id = $1 AND transaction_id = $2"
        ))
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<SqlUuid, _>(inflow)
        .bind::<SqlUuid, _>(transfer)
        .execute(conn)?;
    }
    Ok(())
}

/// Of these transactions, the pending ones with a transfer match, and their matches.
pub fn matched_among(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Pending>> {
    diesel::sql_query(
        format!(
        "{PENDING_COLUMNS} WHERE ledger_id = $1 AND status = 'pending' AND transfer_match_id IS NOT NULL \
           AND (id = ANY($2) OR transfer_match_id = ANY($2))"
    ))
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

/// Forgets the matches of these rows (gone, approved, or no longer what was matched): theirs
/// and their partners'.
pub fn unpair(conn: &mut PgConnection, ledger_id: Uuid, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE transactions SET transfer_match_id = NULL \
         WHERE ledger_id = $1 AND transfer_match_id IS NOT NULL \
           AND (transfer_match_id = ANY($2) OR id = ANY($2))",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(conn)
    .map(drop)
}
