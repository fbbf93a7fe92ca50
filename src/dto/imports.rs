//! `/api/v1/imports` (bank statement files) and `POST /transactions/review`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::statement::ImportFormat;
use crate::services::imports::{BatchView, EntryReport, Outcome};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateImportQuery {
    /// `ofx` (also QFX), `qif`, `camt053` or `csv`; detected from the file when absent (a CSV
    /// file needs `format=csv` or a `text/csv` body).
    pub format: Option<ImportFormat>,
    /// The wallet the statement is of. Needed the first time a bank account is imported (the
    /// account is then linked to the wallet and found by itself), and for files that name no
    /// account (QIF). For CSV, the wallet of lines without a `wallet` column.
    pub wallet_id: Option<Uuid>,
    /// Create the transactions `cleared` instead of `pending` review (default `false`).
    pub auto_approve: Option<bool>,
    /// Import in the background and answer 202 at once (`true`), or within the request
    /// (`false`). Default: in the background when the file is over 1 MiB
    /// (`FINAI_IMPORT_BACKGROUND_BYTES`).
    pub background: Option<bool>,
}

/// Which entries of a batch's report to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportEntriesQuery {
    /// Only the entries with this outcome (`failed` lists what was refused, and why).
    pub outcome: Option<Outcome>,
}

/// Whether to answer with the report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetImportQuery {
    /// `false` leaves the report out (a large file's report is large: page through it with
    /// `GET /imports/{id}/entries`). Default `true`.
    pub report: Option<bool>,
}

/// How far a background import has got.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportProgress {
    /// Entries read from the file (0 until it is read).
    pub entries: i32,
    /// Of them, handled and stored so far.
    pub stored: i32,
}

/// Why a background import failed: what the request would have been refused with (nothing of
/// the file was stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportFailure {
    /// The request's field at fault (`file`, `wallet_id`), if one is.
    #[schema(example = "file")]
    pub field: Option<String>,
    #[schema(example = "<STMTTRN> at line 52: TRNAMT `lots` is not an amount")]
    pub message: String,
}

/// An import batch: one file, what it held and what became of each entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub id: Uuid,
    pub format: ImportFormat,
    /// `pending` while some of its transactions wait for review, `completed` once none do,
    /// `undone` after `DELETE /imports/{id}`; a background import is `queued`, then
    /// `processing` (see `progress`), then one of those or `failed` (see `failure`).
    #[schema(example = "pending")]
    pub status: String,
    pub wallet_id: Option<Uuid>,
    /// The bank account the statement is of (OFX `ACCTID`, CAMT IBAN, QIF account name).
    pub account: Option<String>,
    pub currency: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Entries read from the file.
    pub entries: i32,
    pub created: i32,
    /// Entries imported before (same bank id or fingerprint): nothing created.
    pub duplicates: i32,
    /// Entries that look like a movement recorded another way: held back, see the report.
    pub possible_duplicates: i32,
    pub failed: i32,
    /// Of the transactions created, how many still wait for review.
    pub pending: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When the import ended (`null` while `queued` or `processing`).
    pub finished_at: Option<DateTime<Utc>>,
    /// While `queued` or `processing`: how far it has got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ImportProgress>,
    /// When `failed`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<ImportFailure>,
    /// Every entry and its outcome (only on `POST /imports` and `GET /imports/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<EntryReport>>)]
    pub report: Option<crate::services::imports::Report>,
}

impl ImportResponse {
    pub fn new(view: BatchView, with_report: bool) -> ImportResponse {
        let batch = view.batch;
        let running = matches!(batch.state.as_str(), "queued" | "running") && !batch.undone;
        let failure = match (batch.state.as_str(), batch.failure) {
            ("failed", Some(message)) => Some(ImportFailure {
                field: batch.failure_field,
                message,
            }),
            _ => None,
        };
        ImportResponse {
            id: batch.id,
            format: ImportFormat::parse(&batch.format).unwrap_or(ImportFormat::Csv),
            status: view.status.to_owned(),
            wallet_id: batch.wallet_id,
            account: batch.account,
            currency: batch.currency,
            period_start: batch.period_start,
            period_end: batch.period_end,
            entries: batch.entries,
            created: batch.created,
            duplicates: batch.duplicates,
            possible_duplicates: batch.possible_duplicates,
            failed: batch.failed,
            pending: view.pending,
            created_by: batch.created_by,
            created_at: batch.created_at,
            finished_at: batch.finished_at,
            progress: running.then_some(ImportProgress {
                entries: batch.entries,
                stored: batch.progress,
            }),
            failure,
            report: view.report.filter(|_| with_report),
        }
    }
}

/// Pending transactions to approve and to reject, at most 1,000 of each.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"approve": ["6f1c2a52-1d7e-4a53-9d55-2f0a3c2b9e10"], "reject": []}))]
pub struct ReviewRequest {
    /// Become `cleared`.
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub approve: Vec<Uuid>,
    /// Are deleted.
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub reject: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    pub approved: usize,
    pub rejected: usize,
    /// Matched pairs (`transfer_match_id`) that became one transfer.
    pub transfers: usize,
}
