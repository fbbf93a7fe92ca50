//! `/api/v1/imports`: bank statement files (OFX/QFX, QIF, CAMT.053, CSV) as import batches,
//! and `POST /transactions/review`, the review queue's answer. The work is in
//! `services::imports`.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::domain::statement::ImportFormat;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, FileBody, Page, PageQuery, ValidatedJson};
use crate::services::imports::{self, EntryReport, Options, Run};
use crate::state::AppState;

/// A form with the file, for `multipart/form-data` uploads.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the form's shape; the handler reads the part itself.
pub struct FileUpload {
    /// The statement file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The largest file `POST /imports` takes.
pub const MAX_FILE: usize = 32 * 1024 * 1024;

/// Import a bank statement file: the file is the request body, of any content type
/// (`application/x-ofx`, `application/xml`, `text/csv`, `application/octet-stream`...), or the
/// part named `file` of a `multipart/form-data` body (a browser's file form).
///
/// Formats: `ofx` (OFX 1.x SGML and 2.x XML, QFX), `qif` (`!Type:Bank`, `CCard`, `Cash`,
/// `Oth A`, `Oth L`), `camt053` (ISO 20022, any version, batched entries split), and `csv`
/// (the format of `GET /transactions/export`), and `xlsx`, an Excel workbook with the CSV's
/// columns (`GET /imports/template.xlsx`, or `GET /transactions/export?format=xlsx`): its
/// `Transactions` sheet, else every sheet; date cells or text dates, number or text amounts;
/// rows reported by row number. A workbook that inflates past 256 MiB (a zip bomb) or has more
/// than 200,001 rows is refused before it costs more. The statement's account (OFX `ACCTID`, CAMT
/// IBAN) is linked to the wallet on the first import (`?wallet_id=`), and later files of it
/// find the wallet by themselves; its currency must be the wallet's.
///
/// Each entry becomes an expense (money out) or income (money in) with a category named by the
/// file (QIF `L`), else a confident suggestion, else `Uncategorized`. Entries arrive `pending`
/// review unless `auto_approve=true`; pending transactions count in balances, budgets and
/// reports. Importing the same file again creates nothing (OFX `FITID`, CAMT references, a
/// fingerprint for QIF and the table formats); an entry that looks like a movement recorded
/// another way (same amount within 3 days on the wallet, by hand or by another file) is held
/// back as `possible_duplicate` naming that transaction, so nothing is counted twice. A malformed file is refused whole (422 naming the line or
/// element), and nothing of it is stored. Files up to 32 MiB (10 MiB with an
/// `Idempotency-Key`).
///
/// A file over 1 MiB (or any file with `background=true`) is imported in the background: the
/// answer is 202 with the batch `queued` and its `Location`; `GET /imports/{id}` shows it
/// `processing` with its `progress`, then as a request would have: `pending` or `completed`
/// with its report, or `failed` with the `failure` a request would have been refused with
/// (nothing stored). `import_finished` on the event stream announces the end either way.
#[utoipa::path(
    tag = "imports",
    operation_id = "create_import",
    summary = "Import a bank statement file",
    params(CreateImportQuery),
    request_body(
        description = "The file (OFX/QFX, QIF, CAMT.053 XML, CSV or an xlsx workbook) as the body, or as the `file` part of a form",
        content(
            (String = "application/octet-stream", example = "!Type:Bank\nD02/03/2026\nT-64.30\nPCorner Market\nLGroceries\n^\n"),
            (FileUpload = "multipart/form-data", example = json!({"file": "!Type:Bank\nD02/03/2026\nT-64.30\nPCorner Market\n^\n"})),
        )
    ),
    responses(
        (status = 201, description = "The batch, with each entry's outcome", body = Envelope<ImportResponse>),
        (status = 202, description = "The batch, `queued` for the background (no report yet)", body = Envelope<ImportResponse>),
        (status = 404, description = "`not_found`: no such wallet", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the file is over 32 MiB", body = ErrorBody),
        (status = 429, description = "`import_queue_full`: five files of the ledger wait in the background already", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a malformed file (`file`: the line, row or element at fault; a zip bomb; too many rows), an unknown format, an account no wallet is linked to (`wallet_id`), or a currency that is not the wallet's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<CreateImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (body, part_type) =
        crate::http::extract::read_file(&req, payload.into_inner(), MAX_FILE).await?;
    let query = query.into_inner();
    let is_csv_type = part_type
        .or_else(|| {
            req.headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_ascii_lowercase)
        })
        .is_some_and(|t| t.starts_with("text/csv") || t.starts_with("application/csv"));
    let format = query
        .format
        .or_else(|| ImportFormat::detect(&body))
        .or(is_csv_type.then_some(ImportFormat::Csv))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "format",
                "the file is not OFX, QIF, CAMT.053 or xlsx by its first bytes: name its format with ?format=",
            )
        })?;
    let options = Options {
        wallet_id: query.wallet_id,
        auto_approve: query.auto_approve.unwrap_or(false),
    };
    if query
        .background
        .unwrap_or(body.len() > state.settings.import_background_bytes)
    {
        let files = state.files.clone();
        let view = db::run(&state.pool, move |conn| {
            imports::queue(conn, files.as_ref(), &caller, format, options, &body)
        })
        .await?;
        state.hub.files.notify_one();
        let location = format!("/api/v1/imports/{}", view.batch.id);
        return Ok(Envelope::new(ImportResponse::new(view, false)).accepted(&location));
    }
    let parsed = web::block(move || imports::parse(format, &body))
        .await
        .map_err(ApiError::internal)??;
    let view = db::run(&state.pool, move |conn| {
        imports::import(conn, &caller, format, parsed, options, &mut Run::Inline)
    })
    .await?;
    let location = format!("/api/v1/imports/{}", view.batch.id);
    let capacity = view.report.as_ref().map_or(0, |r| r.json_len()) + 4096;
    Ok(Envelope::new(ImportResponse::new(view, true)).created_sized(&location, capacity))
}

/// The import template (an Excel workbook): a `Transactions` sheet with the import's columns,
/// lists of your categories and wallets to pick from, and instructions. Fill it in and send it
/// to `POST /imports`.
#[utoipa::path(
    tag = "imports",
    operation_id = "import_template",
    summary = "Download the xlsx import template",
    responses(
        (status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = FileBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/imports/template.xlsx")]
pub async fn import_template(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let bytes = db::run(&state.pool, move |conn| {
        crate::services::exports::template(conn, &caller)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::export::xlsx::CONTENT_TYPE)
        .insert_header((
            "content-disposition",
            "attachment; filename=\"finai-import-template.xlsx\"",
        ))
        .body(bytes))
}

/// The ledger's import batches, newest first (without their per-entry reports).
#[utoipa::path(
    tag = "imports",
    operation_id = "list_imports",
    summary = "List import batches",
    params(PageQuery),
    responses(
        (status = 200, description = "The batches", body = Envelope<Vec<ImportResponse>>),
        (status = 400, description = "`invalid_query`: a bad page", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (views, total) = db::run(&state.pool, move |conn| {
        imports::list(conn, &caller, page.limit(), page.offset())
    })
    .await?;
    let rows: Vec<ImportResponse> = views
        .into_iter()
        .map(|v| ImportResponse::new(v, false))
        .collect();
    Ok(Envelope::new(rows).with_meta(page.meta(total)).ok())
}

#[utoipa::path(
    tag = "imports",
    operation_id = "get_import",
    summary = "Get an import batch with its report",
    params(("id" = Uuid, Path, description = "Import batch id"), GetImportQuery),
    responses(
        (status = 200, description = "The batch and each entry's outcome", body = Envelope<ImportResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<GetImportQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let with_report = query.report.unwrap_or(true);
    let view = db::run(&state.pool, move |conn| {
        imports::get(conn, &caller, id, with_report)
    })
    .await?;
    Ok(Envelope::new(ImportResponse::new(view, with_report)).ok())
}

/// A page of a batch's report, in file order: every entry, or those of one `outcome`
/// (`?outcome=failed` lists what was refused and why). For large files, whose whole report
/// `GET /imports/{id}` would answer at once.
#[utoipa::path(
    tag = "imports",
    operation_id = "list_import_entries",
    summary = "List an import batch's entries",
    params(("id" = Uuid, Path, description = "Import batch id"), ImportEntriesQuery, PageQuery),
    responses(
        (status = 200, description = "A page of entries and their outcomes", body = Envelope<Vec<EntryReport>>),
        (status = 400, description = "`invalid_query`: a bad page or an unknown outcome", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/imports/{id}/entries")]
pub async fn list_import_entries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    filter: web::Query<ImportEntriesQuery>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (id, outcome) = (id.into_inner(), filter.outcome);
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        imports::entries(conn, &caller, id, outcome, page.limit(), page.offset())
    })
    .await?;
    Ok(Envelope::new(rows).with_meta(page.meta(total)).ok())
}

/// Undo a batch whose transactions all still wait for review: they are deleted and the batch
/// becomes `undone`. A batch still `queued` for the background is cancelled (`undone`); one
/// `processing` is 409 until it ends.
#[utoipa::path(
    tag = "imports",
    operation_id = "undo_import",
    summary = "Undo a pending import",
    params(("id" = Uuid, Path, description = "Import batch id")),
    responses(
        (status = 200, description = "The batch, now `undone`", body = Envelope<ImportResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`import_reviewed`: some of its transactions were approved; `import_undone`: undone already; `import_running`: being imported in the background now (a `queued` one is cancelled)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/imports/{id}")]
pub async fn undo_import(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| imports::undo(conn, &caller, id)).await?;
    Ok(Envelope::new(ImportResponse::new(view, true)).ok())
}

/// Approve and reject pending (imported) transactions, all or nothing: approved ones become
/// `cleared`, rejected ones are deleted. An approved row with a `transfer_match_id` (whose other
/// half is not rejected in the same request) makes the pair one transfer: the outflow becomes a
/// transfer into the inflow's wallet and the inflow goes, its notes, tags and attachments going
/// to the transfer. A pair that is no longer one transfer as the rows are now (amount, currency,
/// dates, wallets, the inflow's wallet archived) loses its match, and the row is approved alone.
/// The review queue is `GET /transactions?status=pending`.
#[utoipa::path(
    tag = "transactions",
    operation_id = "review_transactions",
    summary = "Approve or reject pending transactions",
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "How many were approved and rejected", body = Envelope<ReviewResponse>),
        (status = 404, description = "`not_found`: an id that is not a pending transaction of the ledger (nothing changed)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: over 1,000 ids, or one both approved and rejected", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/transactions/review")]
pub async fn review_transactions(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<ReviewRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let done = db::run(&state.pool, move |conn| {
        imports::review(conn, &caller, &body.approve, &body.reject)
    })
    .await?;
    Ok(Envelope::new(ReviewResponse {
        approved: done.approved,
        rejected: done.rejected,
        transfers: done.transfers,
    })
    .ok())
}
