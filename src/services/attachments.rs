//! Files attached to transactions (and the images of receipts): checked by their bytes, stored
//! once per ledger under their SHA-256 through the [`FileStore`], and removed from the store
//! when the last row that uses them goes (with their transaction, receipt or ledger, or by
//! `DELETE /attachments/{id}`): see [`sweep`].

use diesel::PgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::attachments::{self as store, Attachment, NewAttachment};
use crate::domain::file_type::{self, clean_file_name, FileKind, Refusal};
use crate::error::ApiError;
use crate::storage::{FileKey, FileStore};

/// The largest file a transaction or receipt takes.
pub const MAX_FILE: usize = 10 * 1024 * 1024;
/// The most files one transaction keeps.
pub const MAX_PER_TRANSACTION: i64 = 20;

/// What the bytes of an upload are, or the 4xx that says why they are refused. Images must
/// decode their header and declare a sane size.
pub fn check(bytes: &[u8]) -> Result<FileKind, ApiError> {
    let kind = file_type::sniff(bytes).map_err(|refusal| match refusal {
        // "Send the request body as ...": what is taken, and why this file is not.
        Refusal::Unknown => ApiError::UnsupportedMediaType(
            "a JPEG, PNG, WebP or HEIC image or a PDF (this file is none of them, by its first \
             bytes)"
                .into(),
        ),
        Refusal::Empty => ApiError::invalid_field("file", refusal.to_string()),
        _ => ApiError::invalid_field("file", refusal.to_string()),
    })?;
    if kind.is_image() {
        crate::ocr::check_image(kind, bytes).map_err(|m| ApiError::invalid_field("file", m))?;
    }
    Ok(kind)
}

/// Where a new file goes: a transaction, or a receipt.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    Transaction(Uuid),
    Receipt(Uuid),
}

/// Stores a checked file and its row, in the caller's open database transaction: the row and
/// the file exist together or not at all (a file written for a row that did not commit is
/// swept later).
pub fn store_file(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    caller: &Caller,
    owner: Owner,
    kind: FileKind,
    bytes: &[u8],
    file_name: Option<&str>,
) -> Result<Attachment, ApiError> {
    let ledger_id = caller.ledger.id;
    let key = FileKey::of(ledger_id, bytes);
    let (transaction_id, receipt_id) = match owner {
        Owner::Transaction(id) => (Some(id), None),
        Owner::Receipt(id) => (None, Some(id)),
    };
    store::lock_file(conn, ledger_id, &key.sha256)?;
    let row = store::insert(
        conn,
        &NewAttachment {
            ledger_id,
            transaction_id,
            receipt_id,
            uploaded_by: Some(caller.id),
            file_name: file_name.and_then(clean_file_name),
            content_type: kind.content_type().to_owned(),
            size_bytes: bytes.len() as i64,
            sha256: key.sha256.clone(),
        },
    )?;
    files.put(&key, bytes).map_err(ApiError::internal)?;
    Ok(row)
}

/// Attaches a file to one of the ledger's transactions.
pub fn attach(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    caller: &Caller,
    transaction_id: Uuid,
    bytes: &[u8],
    file_name: Option<&str>,
) -> Result<Attachment, ApiError> {
    crate::db::ledger_transaction(conn, caller.ledger.id, |conn| {
        // Another ledger's transaction is 404 whatever the file is.
        if !store::transaction_exists(conn, caller.ledger.id, transaction_id)? {
            return Err(ApiError::not_found("transaction"));
        }
        let kind = check(bytes)?;
        if store::count_of_transaction(conn, caller.ledger.id, transaction_id)?
            >= MAX_PER_TRANSACTION
        {
            return Err(ApiError::Conflict {
                code: "attachment_limit",
                message: format!(
                    "A transaction keeps at most {MAX_PER_TRANSACTION} files: delete one first."
                ),
            });
        }
        store_file(
            conn,
            files,
            caller,
            Owner::Transaction(transaction_id),
            kind,
            bytes,
            file_name,
        )
    })
}

/// A transaction's files (its own and its receipts' images).
pub fn of_transaction(
    conn: &mut PgConnection,
    caller: &Caller,
    transaction_id: Uuid,
) -> Result<Vec<Attachment>, ApiError> {
    if !store::transaction_exists(conn, caller.ledger.id, transaction_id)? {
        return Err(ApiError::not_found("transaction"));
    }
    Ok(store::of_transaction(
        conn,
        caller.ledger.id,
        transaction_id,
    )?)
}

/// An attachment and its bytes.
pub fn read(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    caller: &Caller,
    id: Uuid,
) -> Result<(Attachment, Vec<u8>), ApiError> {
    let row = store::find(conn, caller.ledger.id, id)?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let bytes = bytes_of(files, &row)?;
    Ok((row, bytes))
}

pub fn bytes_of(files: &dyn FileStore, row: &Attachment) -> Result<Vec<u8>, ApiError> {
    let key = FileKey::new(row.ledger_id, &row.sha256)
        .ok_or_else(|| ApiError::internal("an attachment row with a malformed key"))?;
    files.get(&key).map_err(ApiError::internal)
}

/// Deletes a file attached to a transaction. A receipt's image goes with its receipt
/// (`DELETE /receipts/{id}`).
pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    let row = store::find(conn, caller.ledger.id, id)?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    if row.receipt_id.is_some() {
        return Err(ApiError::Conflict {
            code: "receipt_image",
            message: "This file is a receipt's image: delete the receipt (DELETE /receipts/{id}) \
                      to delete it."
                .into(),
        });
    }
    store::delete(conn, caller.ledger.id, id)?;
    Ok(())
}

/// Removes from the store the files no row uses any more, at most `limit` of them. Each is
/// decided under its key's lock, so an upload of the same file at the same moment either
/// finds it gone and writes it again, or keeps it.
/// Stored files looked at per query of [`reconcile`].
const RECONCILE_BATCH: usize = 1000;

/// Queues for [`sweep`] every stored file written before `cutoff` that no row uses: a file
/// whose row never committed (the commit failed, or the server died between writing the file
/// and committing), which no deleted row would ever queue. Returns how many were queued.
pub fn reconcile(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    cutoff: std::time::SystemTime,
) -> Result<usize, ApiError> {
    let mut batch: Vec<(Uuid, String)> = Vec::with_capacity(RECONCILE_BATCH);
    let mut queued = 0;
    let mut failure = None;
    let flush = |conn: &mut PgConnection, batch: &mut Vec<(Uuid, String)>| {
        let done = store::queue_unused(conn, batch);
        batch.clear();
        done
    };
    files
        .each_written_before(cutoff, &mut |key| {
            batch.push((key.ledger_id, key.sha256));
            if batch.len() >= RECONCILE_BATCH && failure.is_none() {
                match flush(conn, &mut batch) {
                    Ok(n) => queued += n,
                    Err(e) => failure = Some(e),
                }
            }
        })
        .map_err(ApiError::internal)?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    Ok(queued + flush(conn, &mut batch)?)
}

pub fn sweep(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    limit: i64,
) -> Result<usize, ApiError> {
    crate::db::transaction(conn, |conn| {
        let mut removed = 0;
        for (ledger_id, sha256) in store::garbage(conn, limit)? {
            store::lock_file(conn, ledger_id, &sha256)?;
            if !store::file_in_use(conn, ledger_id, &sha256)? {
                if let Some(key) = FileKey::new(ledger_id, &sha256) {
                    files.delete(&key).map_err(ApiError::internal)?;
                    removed += 1;
                }
            }
            store::forget_garbage(conn, ledger_id, &sha256)?;
        }
        Ok(removed)
    })
}
