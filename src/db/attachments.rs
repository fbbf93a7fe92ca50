//! Queries on `attachments` and `file_garbage`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use super::schema::{attachments, file_garbage, receipts};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub ledger_id: Uuid,
    pub id: Uuid,
    pub transaction_id: Option<Uuid>,
    pub receipt_id: Option<Uuid>,
    pub uploaded_by: Option<Uuid>,
    pub file_name: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment {
    pub ledger_id: Uuid,
    pub transaction_id: Option<Uuid>,
    pub receipt_id: Option<Uuid>,
    pub uploaded_by: Option<Uuid>,
    pub file_name: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

pub fn insert(conn: &mut PgConnection, row: &NewAttachment) -> QueryResult<Attachment> {
    diesel::insert_into(attachments::table)
        .values(row)
        .returning(Attachment::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Attachment>> {
    attachments::table
        .filter(attachments::ledger_id.eq(ledger_id))
        .filter(attachments::id.eq(id))
        .select(Attachment::as_select())
        .first(conn)
        .optional()
}

/// A receipt's image.
pub fn of_receipt(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    receipt_id: Uuid,
) -> QueryResult<Option<Attachment>> {
    attachments::table
        .filter(attachments::ledger_id.eq(ledger_id))
        .filter(attachments::receipt_id.eq(receipt_id))
        .select(Attachment::as_select())
        .first(conn)
        .optional()
}

/// The images of several receipts, in one query.
pub fn of_receipts(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    receipt_ids: &[Uuid],
) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::ledger_id.eq(ledger_id))
        .filter(attachments::receipt_id.eq_any(receipt_ids))
        .select(Attachment::as_select())
        .load(conn)
}

/// A transaction's files: its own attachments and the images of the receipts matched to it,
/// oldest first.
pub fn of_transaction(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<Vec<Attachment>> {
    let receipts_of = receipts::table
        .filter(receipts::ledger_id.eq(ledger_id))
        .filter(receipts::transaction_id.eq(transaction_id))
        .select(receipts::id.nullable());
    attachments::table
        .filter(attachments::ledger_id.eq(ledger_id))
        .filter(
            attachments::transaction_id
                .eq(transaction_id)
                .or(attachments::receipt_id.eq_any(receipts_of)),
        )
        .order((attachments::created_at, attachments::id))
        .select(Attachment::as_select())
        .load(conn)
}

pub fn count_of_transaction(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<i64> {
    attachments::table
        .filter(attachments::ledger_id.eq(ledger_id))
        .filter(attachments::transaction_id.eq(transaction_id))
        .count()
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        attachments::table
            .filter(attachments::ledger_id.eq(ledger_id))
            .filter(attachments::id.eq(id)),
    )
    .execute(conn)
}

/// Serialises the writing and the removing of one stored file, until the transaction ends.
pub fn lock_file(conn: &mut PgConnection, ledger_id: Uuid, sha256: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
        .bind::<Text, _>(format!("file:{ledger_id}:{sha256}"))
        .execute(conn)
        .map(drop)
}

/// Whether any row still uses the stored file (an attachment, or a queued import).
pub fn file_in_use(conn: &mut PgConnection, ledger_id: Uuid, sha256: &str) -> QueryResult<bool> {
    use super::schema::import_batches;
    diesel::select(
        diesel::dsl::exists(
            attachments::table
                .filter(attachments::ledger_id.eq(ledger_id))
                .filter(attachments::sha256.eq(sha256)),
        )
        .or(diesel::dsl::exists(
            import_batches::table
                .filter(import_batches::ledger_id.eq(ledger_id))
                .filter(import_batches::sha256.eq(sha256)),
        )),
    )
    .get_result(conn)
}

/// Queues for the sweeper those of these stored files that no row uses. Returns how many.
pub fn queue_unused(conn: &mut PgConnection, keys: &[(Uuid, String)]) -> QueryResult<usize> {
    let (ledgers, hashes): (Vec<Uuid>, Vec<&str>) =
        keys.iter().map(|(l, h)| (*l, h.as_str())).unzip();
    diesel::sql_query(
        "INSERT INTO file_garbage (ledger_id, sha256) \
         SELECT k.ledger_id, k.sha256 FROM unnest($1::uuid[], $2::text[]) AS k (ledger_id, sha256) \
         WHERE NOT EXISTS (SELECT 1 FROM attachments a \
                           WHERE a.ledger_id = k.ledger_id AND a.sha256 = k.sha256) \
           AND NOT EXISTS (SELECT 1 FROM import_batches b \
                           WHERE b.ledger_id = k.ledger_id AND b.sha256 = k.sha256) \
         ON CONFLICT (ledger_id, sha256) DO NOTHING",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ledgers)
    .bind::<diesel::sql_types::Array<Text>, _>(hashes)
    .execute(conn)
}

/// Files whose rows were deleted, oldest first.
pub fn garbage(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<(Uuid, String)>> {
    file_garbage::table
        .order(file_garbage::queued_at)
        .select((file_garbage::ledger_id, file_garbage::sha256))
        .limit(limit)
        .for_update()
        .skip_locked()
        .load(conn)
}

pub fn forget_garbage(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    sha256: &str,
) -> QueryResult<usize> {
    diesel::delete(
        file_garbage::table
            .filter(file_garbage::ledger_id.eq(ledger_id))
            .filter(file_garbage::sha256.eq(sha256)),
    )
    .execute(conn)
}

pub fn transaction_exists(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    transaction_id: Uuid,
) -> QueryResult<bool> {
    use super::schema::transactions;
    diesel::select(diesel::dsl::exists(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::id.eq(transaction_id)),
    ))
    .get_result(conn)
}
