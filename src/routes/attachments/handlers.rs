//! `/api/v1/transactions/{id}/attachments` and `/api/v1/attachments/{id}`: files attached to
//! transactions. The work is in `services::attachments`.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{Envelope, FileBody};
use crate::services::attachments::{self, MAX_FILE};
use crate::state::AppState;

/// Attach a file (a receipt photo, an invoice) to a transaction: the file as the body, or the
/// `file` part of a form. JPEG, PNG, WebP, HEIC or PDF up to 10 MiB, told from its bytes (the name
/// and declared type are not trusted); an image that declares more than 40 megapixels is
/// refused unread. At most 20 files a transaction; the same file twice is stored once.
#[utoipa::path(
    tag = "attachments",
    operation_id = "create_attachment",
    summary = "Attach a file to a transaction",
    params(("id" = Uuid, Path, description = "Transaction id"), FileNameQuery),
    request_body(
        description = "The file as the body, or as the `file` part of a form",
        content(
            (String = "application/octet-stream", example = "%PDF-1.4 ..."),
            (FileForm = "multipart/form-data", example = json!({"file": "(binary)"})),
        )
    ),
    responses(
        (status = 201, description = "The stored file", body = Envelope<AttachmentResponse>),
        (status = 404, description = "`not_found`: no such transaction", body = ErrorBody),
        (status = 409, description = "`attachment_limit`: the transaction has 20 files", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 10 MiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not a JPEG, PNG, WebP, HEIC or PDF by its bytes", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an empty file, an unreadable image header, an image of too many pixels", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/transactions/{id}/attachments")]
pub async fn create_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<FileNameQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let upload = crate::http::extract::read_upload(&req, payload.into_inner(), MAX_FILE).await?;
    let file_name = upload.file_name.or(query.into_inner().file_name);
    let (id, files) = (id.into_inner(), state.files.clone());
    let row = db::run(&state.pool, move |conn| {
        attachments::attach(
            conn,
            files.as_ref(),
            &caller,
            id,
            &upload.bytes,
            file_name.as_deref(),
        )
    })
    .await?;
    let location = format!("/api/v1/attachments/{}", row.id);
    Ok(Envelope::new(AttachmentResponse::new(row, &caller)).created(&location))
}

/// The transaction's files: its own, and the images of receipts recorded as or matched to it.
#[utoipa::path(
    tag = "attachments",
    operation_id = "list_attachments",
    summary = "List a transaction's files",
    params(("id" = Uuid, Path, description = "Transaction id")),
    responses(
        (status = 200, description = "The files, oldest first", body = Envelope<Vec<AttachmentResponse>>),
        (status = 404, description = "`not_found`: no such transaction", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/transactions/{id}/attachments")]
pub async fn list_attachments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        attachments::of_transaction(conn, &caller, id)
    })
    .await?;
    let rows: Vec<AttachmentResponse> = rows
        .into_iter()
        .map(|row| AttachmentResponse::new(row, &caller))
        .collect();
    Ok(Envelope::new(rows).ok())
}

/// Download a file, with its type, as an attachment (never shown inline, never sniffed by the
/// browser: `nosniff` and a `default-src 'none'` policy).
#[utoipa::path(
    tag = "attachments",
    operation_id = "get_attachment",
    summary = "Download a file",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file's bytes", content(
            (FileBody = "image/jpeg"), (FileBody = "image/png"), (FileBody = "image/webp"), (FileBody = "application/pdf"),
        )),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/attachments/{id}")]
pub async fn get_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let (id, files) = (id.into_inner(), state.files.clone());
    let (row, bytes) = db::run(&state.pool, move |conn| {
        attachments::read(conn, files.as_ref(), &caller, id)
    })
    .await?;
    let name = row.file_name.unwrap_or_else(|| format!("{}", row.id));
    Ok(HttpResponse::Ok()
        .content_type(row.content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition(name)))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((header::ETAG, format!("\"{}\"", row.sha256)))
        .body(bytes))
}

/// `attachment` with the file's name: as it is when it is ASCII, else an ASCII stand-in for old
/// clients and the name itself in UTF-8 (`filename*`, RFC 6266).
fn disposition(name: String) -> header::ContentDisposition {
    if name.is_ascii() {
        return header::ContentDisposition::attachment(name);
    }
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    header::ContentDisposition {
        disposition: header::DispositionType::Attachment,
        parameters: vec![
            header::DispositionParam::Filename(fallback),
            header::DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    }
}

/// Delete a file attached to a transaction. (A receipt's image goes with its receipt.)
#[utoipa::path(
    tag = "attachments",
    operation_id = "delete_attachment",
    summary = "Delete a file",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`receipt_image`: the file is a receipt's image", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/attachments/{id}")]
pub async fn delete_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        attachments::delete(conn, &caller, id)
    })
    .await?;
    state.hub.files.notify_one();
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_beyond_ascii_goes_as_utf_8_beside_an_ascii_stand_in() {
        assert_eq!(
            disposition("receipt.png".into()).to_string(),
            "attachment; filename=\"receipt.png\""
        );
        let header = disposition("résumé.png".into()).to_string();
        assert!(header.contains("filename=\"r_sum_.png\""), "{header}");
        assert!(
            header.contains("filename*=UTF-8''r%C3%A9sum%C3%A9.png"),
            "{header}"
        );
        assert!(header.is_ascii());
    }
}
