//! `/api/v1/notifications`.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db::{self, notifications};
use crate::error::{ApiError, ApiResult};
use crate::http::{Envelope, Page};
use crate::state::AppState;

/// The caller's notifications, newest first.
#[utoipa::path(
    tag = "notifications",
    operation_id = "list_notifications",
    summary = "List notifications",
    params(NotificationListQuery),
    responses((status = 200, description = "A page of notifications", body = Envelope<Vec<NotificationResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NotificationListQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let unread = query.unread.unwrap_or(false);
    let order = match query.sort {
        Some(NotificationSort::Priority) => notifications::Order::Priority,
        Some(NotificationSort::Newest) | None => notifications::Order::Newest,
    };
    let (rows, total) = db::run(&state.pool, move |conn| {
        notifications::list(
            conn,
            (caller.ledger.id, caller.id),
            unread,
            order,
            page.limit(),
            page.offset(),
        )
    })
    .await?;
    let data: Vec<NotificationResponse> =
        rows.into_iter().map(NotificationResponse::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Mark one notification read.
#[utoipa::path(
    tag = "notifications",
    operation_id = "mark_notification_read",
    summary = "Mark a notification read",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, description = "The notification", body = Envelope<NotificationResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| {
        notifications::mark_read(conn, (caller.ledger.id, caller.id), id)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("Notification"))?;
    Ok(Envelope::new(NotificationResponse::from(row)).ok())
}

/// Mark every notification read.
#[utoipa::path(
    tag = "notifications",
    operation_id = "mark_all_notifications_read",
    summary = "Mark all notifications read",
    responses((status = 200, description = "How many were marked", body = Envelope<MarkedRead>)),
    security(("bearer_auth" = []))
)]
#[post("/notifications/read-all")]
pub async fn mark_all_read(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let marked = db::run(&state.pool, move |conn| {
        notifications::mark_all_read(conn, (caller.ledger.id, caller.id))
    })
    .await?;
    Ok(Envelope::new(MarkedRead { marked }).ok())
}
