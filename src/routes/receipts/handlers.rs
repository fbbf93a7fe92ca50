//! `/api/v1/receipts`: receipt photos and PDFs read by OCR into expenses. The work is in
//! `services::receipts`; the reading in `jobs::files`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::receipts::Filter;
use crate::dto::transactions::TransactionResponse;
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, ValidatedJson};
use crate::services::attachments::MAX_FILE;
use crate::services::receipts::{self, Corrections, TaxHandling, ToLedger};
use crate::state::AppState;

/// Upload a receipt: a photo (JPEG, PNG, WebP, HEIC) or a PDF up to 10 MiB, as the body or the
/// `file` part of a form. Answers 202 with the receipt `processing`; it is read in the
/// background (Tesseract OCR in English and Vietnamese; a PDF's text layer first) and
/// `GET /receipts/{id}` then shows it `parsed` (merchant, date, total, subtotal, tax, tip,
/// currency, line items with suggested categories, a confidence for each), or `failed` with
/// the reason. At most 20 receipts of a ledger wait at once.
#[utoipa::path(
    tag = "receipts",
    operation_id = "create_receipt",
    summary = "Upload a receipt",
    params(FileNameQuery),
    request_body(
        description = "The image or PDF as the body, or as the `file` part of a form",
        content(
            (String = "application/octet-stream", example = "(JPEG bytes)"),
            (FileForm = "multipart/form-data", example = json!({"file": "(binary)"})),
        )
    ),
    responses(
        (status = 202, description = "The receipt, queued for reading", body = Envelope<ReceiptResponse>),
        (status = 413, description = "`payload_too_large`: over 10 MiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not a JPEG, PNG, WebP, HEIC or PDF by its bytes", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an empty file, an unreadable image header, an image of too many pixels", body = ErrorBody),
        (status = 429, description = "`receipt_queue_full`: 20 receipts of the ledger wait to be read", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/receipts")]
pub async fn create_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<FileNameQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let upload = crate::http::extract::read_upload(&req, payload.into_inner(), MAX_FILE).await?;
    let file_name = upload.file_name.or(query.into_inner().file_name);
    let files = state.files.clone();
    let view = db::run(&state.pool, move |conn| {
        receipts::create(
            conn,
            files.as_ref(),
            &caller,
            &upload.bytes,
            file_name.as_deref(),
        )
    })
    .await?;
    state.hub.files.notify_one();
    let location = format!("/api/v1/receipts/{}", view.receipt.id);
    Ok(Envelope::new(ReceiptResponse::new(view, &caller)).accepted(&location))
}

/// Search the ledger's receipts, newest first.
#[utoipa::path(
    tag = "receipts",
    operation_id = "list_receipts",
    summary = "List and search receipts",
    params(ReceiptQuery),
    responses(
        (status = 200, description = "The receipts", body = Envelope<Vec<ReceiptResponse>>),
        (status = 400, description = "`invalid_query`: a bad page, date or status", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/receipts")]
pub async fn list_receipts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReceiptQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let clean = |text: Option<String>| {
        text.map(|t| {
            t.trim()
                .chars()
                .filter(|c| *c != '\0')
                .take(200)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
    };
    let filter = Filter {
        text: clean(query.q),
        merchant: clean(query.merchant),
        from: query.from,
        to: query.to,
        status: query.status.map(|s| s.as_str().to_owned()),
        unmatched: query.unmatched,
    };
    let (views, total) = db::run(&state.pool, move |conn| {
        receipts::list(conn, &caller, &filter, page.limit(), page.offset())
    })
    .await?;
    let rows: Vec<ReceiptResponse> = views
        .into_iter()
        .map(|view| ReceiptResponse::new(view, &caller))
        .collect();
    Ok(Envelope::new(rows).with_meta(page.meta(total)).ok())
}

#[utoipa::path(
    tag = "receipts",
    operation_id = "get_receipt",
    summary = "Get a receipt",
    params(("id" = Uuid, Path, description = "Receipt id")),
    responses(
        (status = 200, description = "The receipt", body = Envelope<ReceiptResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/receipts/{id}")]
pub async fn get_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| receipts::get(conn, &caller, id)).await?;
    Ok(Envelope::new(ReceiptResponse::new(view, &caller)).ok())
}

/// Correct what was read. The corrections are kept beside the reading (`corrections`), shown
/// with confidence 1, and used when the receipt becomes an expense: the items' categories you
/// choose are the expense's split categories, and the categoriser learns each line with its
/// category at once (its next suggestions, for receipts and transactions alike, know them).
#[utoipa::path(
    tag = "receipts",
    operation_id = "correct_receipt",
    summary = "Correct a receipt's fields",
    params(("id" = Uuid, Path, description = "Receipt id")),
    request_body = CorrectReceiptRequest,
    responses(
        (status = 200, description = "The receipt", body = Envelope<ReceiptResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`receipt_processing`: still being read", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field out of range, a category that is not one of the ledger's expense categories", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/receipts/{id}")]
pub async fn correct_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<CorrectReceiptRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let currency = match body.currency {
        Some(code) => Some(
            crate::domain::currency::CurrencyCode::parse(&code)
                .ok_or_else(|| ApiError::invalid_field("currency", "is not an ISO 4217 code"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let non_negative = |field: &str, m: Option<crate::domain::money::Money>| match m {
        Some(m) if m.0.is_sign_negative() => {
            Err(ApiError::invalid_field(field, "must not be negative"))
        }
        other => Ok(other.map(|m| m.0)),
    };
    let changes = Corrections {
        merchant: body.merchant.map(|m| m.trim().to_owned()),
        date: body.date,
        total: non_negative("total", body.total)?,
        subtotal: non_negative("subtotal", body.subtotal)?,
        tax: non_negative("tax", body.tax)?,
        tip: non_negative("tip", body.tip)?,
        currency,
        items: body
            .items
            .map(|items| items.into_iter().map(Into::into).collect()),
    };
    let view = db::run(&state.pool, move |conn| {
        receipts::correct(conn, &caller, id, changes)
    })
    .await?;
    Ok(Envelope::new(ReceiptResponse::new(view, &caller)).ok())
}

/// Delete a receipt and its file (an expense recorded from it stays).
#[utoipa::path(
    tag = "receipts",
    operation_id = "delete_receipt",
    summary = "Delete a receipt",
    params(("id" = Uuid, Path, description = "Receipt id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/receipts/{id}")]
pub async fn delete_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| receipts::delete(conn, &caller, id)).await?;
    state.hub.files.notify_one();
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Expenses already recorded that may be this receipt's (the bank's record of the same
/// purchase): the receipt's total, or its total less the tip; dated within 3 days of it; not
/// matched to another receipt. Best first: closer dates, a merchant of the same words.
#[utoipa::path(
    tag = "receipts",
    operation_id = "receipt_matches",
    summary = "Propose expenses that match a receipt",
    params(("id" = Uuid, Path, description = "Receipt id")),
    responses(
        (status = 200, description = "The candidates, best first", body = Envelope<Vec<ReceiptMatch>>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/receipts/{id}/matches")]
pub async fn receipt_matches(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let found = db::run(&state.pool, move |conn| {
        receipts::matches(conn, &caller, id)
    })
    .await?;
    let rows: Vec<ReceiptMatch> = found.into_iter().map(ReceiptMatch::from).collect();
    Ok(Envelope::new(rows).ok())
}

/// Record the receipt as an expense (`wallet_id`): its total, date and merchant, split by the
/// items' categories when they differ (tax, tip and rounding spread over the lines or in a
/// category of their own), tagged `receipt`. Or match it to an expense already recorded
/// (`transaction_id`). Either way the receipt's image is then among the transaction's files.
#[utoipa::path(
    tag = "receipts",
    operation_id = "receipt_to_transaction",
    summary = "Record or match a receipt's expense",
    params(("id" = Uuid, Path, description = "Receipt id")),
    request_body = ReceiptToTransactionRequest,
    responses(
        (status = 200, description = "Matched to an existing expense", body = Envelope<ReceiptTransactionResponse>),
        (status = 201, description = "Recorded as a new expense", body = Envelope<ReceiptTransactionResponse>),
        (status = 404, description = "`not_found`: no such receipt, transaction, wallet or category", body = ErrorBody),
        (status = 409, description = "`receipt_not_parsed` (still processing, or failed); `receipt_matched` (already recorded or matched); `transaction_has_receipt` (another receipt matched that transaction)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: neither or both of `wallet_id` and `transaction_id`; no total; a tax category missing; an archived wallet or a currency not the wallet's; a `transaction_id` that is not an expense, or in another currency than the receipt's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/receipts/{id}/transaction")]
pub async fn receipt_to_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<ReceiptToTransactionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let request = ToLedger {
        wallet_id: body.wallet_id,
        transaction_id: body.transaction_id,
        category_id: body.category_id,
        tax: body.tax.unwrap_or(TaxHandling::Spread),
        tax_category_id: body.tax_category_id,
        description: body.description,
    };
    let (view, created) = db::run(&state.pool, move |conn| {
        receipts::to_ledger(conn, &caller, id, request)
    })
    .await?;
    let created_id = created.as_ref().map(|t| t.id);
    let body = ReceiptTransactionResponse {
        receipt: ReceiptResponse::new(view, &caller),
        transaction: created.map(TransactionResponse::from),
    };
    Ok(match created_id {
        Some(tx) => Envelope::new(body).created(&format!("/api/v1/transactions/{tx}")),
        None => Envelope::new(body).ok(),
    })
}
