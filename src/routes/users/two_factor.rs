//! `/api/v1/users/me/two-factor`: two-factor login with an authenticator app (TOTP) and
//! recovery codes; `/api/v1/users/{id}/two-factor` for an admin's reset. The login's second
//! step is `POST /auth/mfa/verify` (`routes::auth`).

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use uuid::Uuid;

use crate::auth::extractor::token_life;
use crate::auth::{AdminUser, Caller};
use crate::db;
use crate::dto::two_factor::{
    CodeRequest, DisableRequest, EnrolRequest, Enrolment, RecoveryCodes, TwoFactorStatus,
};
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::context::origin;
use crate::http::{Envelope, ValidatedJson};
use crate::services::two_factor;
use crate::state::AppState;

/// Whether logins ask for a code, and how many recovery codes are left.
#[utoipa::path(
    tag = "users",
    operation_id = "get_two_factor",
    summary = "Get my two-factor login status",
    responses((status = 200, description = "Status", body = Envelope<TwoFactorStatus>)),
    security(("bearer_auth" = []))
)]
#[get("/users/me/two-factor")]
pub async fn get_two_factor(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let status = db::run(&state.pool, move |conn| two_factor::status(conn, caller.id)).await?;
    Ok(Envelope::new(status).ok())
}

/// Start enrolling an authenticator app: answers a new secret as a key URI and its QR code
/// (SVG). Two-factor login is on only once `/users/me/two-factor/confirm` gets a first code;
/// starting again replaces a pending secret.
#[utoipa::path(
    tag = "users",
    operation_id = "enrol_two_factor",
    summary = "Start two-factor enrolment",
    request_body = EnrolRequest,
    responses(
        (status = 201, description = "The secret to put into the app (shown this once)", body = Envelope<Enrolment>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
        (status = 409, description = "`two_factor_enabled`: already on", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the password is wrong", body = ErrorBody),
        (status = 429, description = "`account_locked` after repeated wrong passwords", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/users/me/two-factor")]
pub async fn enrol_two_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<EnrolRequest>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let enrolment =
        two_factor::enrol(&state, &caller, token, body.into_inner().password, &origin).await?;
    Ok(HttpResponse::Created().json(Envelope::new(enrolment)))
}

/// Finish enrolling with the first code the app shows: two-factor login is on from now, and
/// the answer carries ten recovery codes, shown this once.
#[utoipa::path(
    tag = "users",
    operation_id = "confirm_two_factor",
    summary = "Confirm two-factor enrolment",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "On; the recovery codes (shown this once)", body = Envelope<RecoveryCodes>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
        (status = 409, description = "`two_factor_not_started` or `two_factor_enabled`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the code is malformed or not the current one", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/users/me/two-factor/confirm")]
pub async fn confirm_two_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<CodeRequest>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let code = body.into_inner().code;
    let codes = db::run(&state.pool, move |conn| {
        two_factor::confirm(conn, &caller, token, &code, &origin, Utc::now().timestamp())
    })
    .await?;
    Ok(Envelope::new(codes).ok())
}

/// Turn two-factor login off, with the password and a code (app or recovery).
#[utoipa::path(
    tag = "users",
    operation_id = "disable_two_factor",
    summary = "Turn two-factor login off",
    request_body = DisableRequest,
    responses(
        (status = 200, description = "Off", body = Envelope<TwoFactorStatus>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
        (status = 409, description = "`two_factor_not_enabled`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: wrong password, or a malformed or wrong code", body = ErrorBody),
        (status = 429, description = "`account_locked` after repeated wrong passwords or codes", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/users/me/two-factor/disable")]
pub async fn disable_two_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<DisableRequest>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let body = body.into_inner();
    let status =
        two_factor::disable(&state, &caller, token, body.password, &body.code, &origin).await?;
    Ok(Envelope::new(status).ok())
}

/// Replace the recovery codes (the old ones stop working), with a code (app or recovery).
#[utoipa::path(
    tag = "users",
    operation_id = "regenerate_recovery_codes",
    summary = "Make new recovery codes",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The new codes (shown this once)", body = Envelope<RecoveryCodes>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
        (status = 409, description = "`two_factor_not_enabled`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a malformed or wrong code", body = ErrorBody),
        (status = 429, description = "`account_locked` after repeated wrong codes", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/users/me/two-factor/recovery-codes")]
pub async fn regenerate_recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<CodeRequest>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let code = body.into_inner().code;
    let codes =
        two_factor::regenerate_recovery_codes(&state, &caller, token, &code, &origin).await?;
    Ok(Envelope::new(codes).ok())
}

/// Turn a user's two-factor login off (admins only), for a user who lost the app and the
/// recovery codes. Audited as `two_factor_reset`.
#[utoipa::path(
    tag = "admin",
    operation_id = "reset_two_factor",
    summary = "Reset a user's two-factor login (admin)",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Reset", body = Envelope<Deleted>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 409, description = "`two_factor_not_enabled`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/users/{id}/two-factor")]
pub async fn reset_two_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        two_factor::admin_reset(conn, admin.0.id, id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}
