//! `/api/v1/admin`: system statistics and the audit log (admins only).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Days, Utc};

use super::dto::*;
use crate::auth::AdminUser;
use crate::db::audit::{self, EntryFilter};
use crate::db::{self, stats, users};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::context::origin;
use crate::http::{Envelope, Page, ValidatedJson};
use crate::services::notification_mail;
use crate::state::AppState;

/// Accounts by role and status, sign-ups per day for 30 days, and table sizes.
#[utoipa::path(
    tag = "admin",
    operation_id = "admin_stats",
    summary = "System statistics (admin)",
    responses(
        (status = 200, description = "Figures", body = Envelope<SystemStats>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/admin/stats")]
pub async fn system_stats(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> ApiResult<HttpResponse> {
    let today = Utc::now().date_naive();
    let (by_role, by_status, signups, counts) = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>((
            users::count_by_role(conn)?,
            users::count_by_status(conn)?,
            users::signups_per_day(conn, today, 30)?,
            stats::table_counts(conn)?,
        ))
    })
    .await?;
    let to_map =
        |rows: Vec<users::GroupCount>| rows.into_iter().map(|r| (r.key, r.count)).collect();
    Ok(Envelope::new(SystemStats {
        users_by_role: to_map(by_role),
        users_by_status: to_map(by_status),
        signups_per_day: signups
            .into_iter()
            .map(|d| DailyCount {
                date: d.day,
                count: d.count,
            })
            .collect(),
        row_counts: to_map(counts),
    })
    .ok())
}

/// Security events, newest first.
#[utoipa::path(
    tag = "admin",
    operation_id = "audit_log",
    summary = "Audit log (admin)",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = Envelope<Vec<AuditEntry>>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/admin/audit-log")]
pub async fn audit_log(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let start_of = |date: chrono::NaiveDate| date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let filter = EntryFilter {
        user_id: query.user_id,
        action: query.action,
        from: query.from.and_then(start_of),
        to: query
            .to
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .and_then(start_of),
    };
    let (rows, total) = db::run(&state.pool, move |conn| {
        audit::list(conn, &filter, page.limit(), page.offset())
    })
    .await?;
    let data: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Announce something to every active account: a notification in each (sorted by its
/// priority, mailed to those who chose `announcement`) and an event on their streams.
#[utoipa::path(
    tag = "admin",
    operation_id = "create_announcement",
    summary = "Announce to every user (admin)",
    request_body = AnnouncementRequest,
    responses(
        (status = 201, description = "Announced", body = Envelope<AnnouncementResponse>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/admin/announcements")]
pub async fn create_announcement(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: ValidatedJson<AnnouncementRequest>,
) -> ApiResult<HttpResponse> {
    let origin = origin(&req);
    let body = body.into_inner();
    let announced = db::run(&state.pool, move |conn| {
        notification_mail::announce(conn, &admin.0, &body, &origin)
    })
    .await?;
    Ok(HttpResponse::Created().json(Envelope::new(announced)))
}
