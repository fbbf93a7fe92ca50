//! `/api/v1/users`: the caller's own profile (`/users/me`) and, for admins, every account.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use crate::auth::extractor::token_life;
use crate::auth::{AdminUser, Caller};
use crate::db::audit::{self, Action, Event};
use crate::db::users::{self, User, UserChangeset, UserFilter};
use crate::db::{self, refresh_tokens};
use crate::domain::user::{Role, UserStatus};
use crate::dto::notifications::NotificationPreferencesBody;
use crate::dto::personal_tokens::{CreateTokenRequest, CreatedTokenResponse, TokenResponse};
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::context::origin;
use crate::http::{Envelope, Page, ValidatedJson};
use crate::services::accounts::{check_password, delete_account, keep_an_admin};
use crate::services::{notification_mail, personal_tokens, sessions};
use crate::state::AppState;

async fn load(state: &AppState, id: Uuid) -> ApiResult<User> {
    db::run(&state.pool, move |conn| users::find(conn, id))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

/// The caller's profile and settings.
#[utoipa::path(
    tag = "users",
    operation_id = "get_me",
    summary = "Get my profile",
    responses((status = 200, description = "The caller's account", body = Envelope<UserProfile>)),
    security(("bearer_auth" = []))
)]
#[get("/users/me")]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user = load(&state, caller.id).await?;
    Ok(Envelope::new(UserProfile::from(user)).ok())
}

/// Which notifications the caller also receives by email, and how.
#[utoipa::path(
    tag = "users",
    operation_id = "get_notification_preferences",
    summary = "Get my notification email preferences",
    responses((status = 200, description = "The preferences (no types: no mail)", body = Envelope<NotificationPreferencesBody>)),
    security(("bearer_auth" = []))
)]
#[get("/users/me/notification-preferences")]
pub async fn get_notification_preferences(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let preferences = db::run(&state.pool, move |conn| {
        notification_mail::preferences(conn, &caller)
    })
    .await?;
    Ok(Envelope::new(preferences).ok())
}

/// Choose which notifications also come by email: immediately (at the next background run) or
/// as one digest a day from 08:00, never during quiet hours (local time, in the account's time
/// zone; mails held by them go when they end). Choosing a type mails its notifications from now
/// on, each once.
#[utoipa::path(
    tag = "users",
    operation_id = "set_notification_preferences",
    summary = "Set my notification email preferences",
    request_body = NotificationPreferencesBody,
    responses(
        (status = 200, description = "The preferences", body = Envelope<NotificationPreferencesBody>),
        (status = 422, description = "`validation_failed`: an unknown type, or a time that is not HH:MM", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[put("/users/me/notification-preferences")]
pub async fn set_notification_preferences(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<NotificationPreferencesBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let preferences = db::run(&state.pool, move |conn| {
        notification_mail::set_preferences(conn, &caller, body)
    })
    .await?;
    Ok(Envelope::new(preferences).ok())
}

/// The caller's live login sessions, most recently used first.
#[utoipa::path(
    tag = "users",
    operation_id = "list_sessions",
    summary = "List my sessions",
    responses(
        (status = 200, description = "The sessions", body = Envelope<Vec<SessionResponse>>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/users/me/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let listed = db::run(&state.pool, move |conn| {
        sessions::list(conn, &caller, token)
    })
    .await?;
    Ok(Envelope::new(listed).ok())
}

/// End one session: its refresh token stops working at once (its last access token lives out
/// its minutes; `POST /auth/logout` with `all_devices` ends those too).
#[utoipa::path(
    tag = "users",
    operation_id = "end_session",
    summary = "End one of my sessions",
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Ended", body = Envelope<Deleted>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/users/me/sessions/{id}")]
pub async fn end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let origin = origin(&req);
    let id = id.into_inner();
    let token = token_life(&req)?;
    db::run(&state.pool, move |conn| {
        sessions::end(conn, &caller, token, id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// The caller's personal access tokens (live ones; secrets are never shown again).
#[utoipa::path(
    tag = "users",
    operation_id = "list_personal_tokens",
    summary = "List my personal access tokens",
    responses(
        (status = 200, description = "The tokens", body = Envelope<Vec<TokenResponse>>),
        (status = 403, description = "`session_required`: tokens are managed from a login session", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/users/me/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let tokens = db::run(&state.pool, move |conn| {
        personal_tokens::list(conn, &caller, token)
    })
    .await?;
    Ok(Envelope::new(tokens).ok())
}

/// Create a personal access token for a script or an integration: send it as
/// `Authorization: Bearer finai_pat_...` wherever an access token goes. `read` tokens may only
/// GET; a password change ends tokens only when asked (`end_personal_access_tokens`).
#[utoipa::path(
    tag = "users",
    operation_id = "create_personal_token",
    summary = "Create a personal access token",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown this once)", body = Envelope<CreatedTokenResponse>),
        (status = 403, description = "`session_required`: tokens are managed from a login session", body = ErrorBody),
        (status = 409, description = "`token_limit`: the account holds 50 already", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/users/me/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<CreateTokenRequest>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let body = body.into_inner();
    let created = db::run(&state.pool, move |conn| {
        personal_tokens::create(conn, &caller, token, body, &origin)
    })
    .await?;
    let location = format!("/api/v1/users/me/tokens/{}", created.token.id);
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Envelope::new(created)))
}

/// Revoke a personal access token: it stops working at once (open streams included).
#[utoipa::path(
    tag = "users",
    operation_id = "revoke_personal_token",
    summary = "Revoke a personal access token",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked", body = Envelope<Deleted>),
        (status = 403, description = "`session_required`: tokens are managed from a login session", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/users/me/tokens/{id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let origin = origin(&req);
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        personal_tokens::revoke(conn, &caller, token, id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Change the caller's name and settings.
#[utoipa::path(
    tag = "users",
    operation_id = "update_me",
    summary = "Update my profile and settings",
    request_body = UpdateMeRequest,
    responses((status = 200, description = "The updated account", body = Envelope<UserProfile>)),
    security(("bearer_auth" = []))
)]
#[patch("/users/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<UpdateMeRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let settings = body.settings;
    let changes = UserChangeset {
        name: body.name.map(|n| n.trim().to_owned()),
        currency: settings.as_ref().and_then(|s| s.currency.clone()),
        language: settings.as_ref().and_then(|s| s.language.clone()),
        theme: settings
            .as_ref()
            .and_then(|s| s.theme.map(|t| t.as_str().to_owned())),
        timezone: settings.as_ref().and_then(|s| s.timezone.clone()),
        ..Default::default()
    };
    let user = db::run(&state.pool, move |conn| {
        if changes_nothing(&changes) {
            return users::find(conn, caller.id)?.ok_or_else(|| ApiError::not_found("User"));
        }
        users::update(conn, caller.id, &changes).map_err(ApiError::from)
    })
    .await?;
    Ok(Envelope::new(UserProfile::from(user)).ok())
}

fn changes_nothing(changes: &UserChangeset) -> bool {
    changes.name.is_none()
        && changes.currency.is_none()
        && changes.language.is_none()
        && changes.theme.is_none()
        && changes.timezone.is_none()
}

/// Delete the caller's account and everything it owns. Needs the password, and a login session:
/// a personal access token (which passed no second factor) may not end the account.
#[utoipa::path(
    tag = "users",
    operation_id = "delete_me",
    summary = "Delete my account",
    request_body = DeleteMeRequest,
    responses(
        (status = 200, description = "Account deleted", body = Envelope<Deleted>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
        (status = 409, description = "`last_admin`: the caller is the only active admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/users/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<DeleteMeRequest>,
) -> ApiResult<HttpResponse> {
    personal_tokens::session_only(token_life(&req)?)?;
    let user = load(&state, caller.id).await?;
    let origin = origin(&req);
    let password = body.into_inner().password;
    if !check_password(&state, &user, password, &origin).await? {
        return Err(ApiError::invalid_field(
            "password",
            "is not the current password",
        ));
    }
    let id = user.id;
    db::run(&state.pool, move |conn| {
        delete_account(conn, &user, caller.id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true })
        .with_message("Your account and all its data were deleted.")
        .ok())
}

/// Every account (admins only), newest first.
#[utoipa::path(
    tag = "admin",
    operation_id = "list_users",
    summary = "List users (admin)",
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of accounts", body = Envelope<Vec<UserProfile>>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<UserListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let filter = UserFilter {
        q: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_owned()),
        role: query.role,
        status: query.status,
    };
    let (rows, total) = db::run(&state.pool, move |conn| {
        users::list(conn, &filter, page.limit(), page.offset())
    })
    .await?;
    let data: Vec<UserProfile> = rows.into_iter().map(UserProfile::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// One account (admins only).
#[utoipa::path(
    tag = "admin",
    operation_id = "get_user",
    summary = "Get a user (admin)",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = Envelope<UserProfile>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let user = load(&state, id.into_inner()).await?;
    Ok(Envelope::new(UserProfile::from(user)).ok())
}

fn cannot_change_self() -> ApiError {
    ApiError::Conflict {
        code: "cannot_change_own_account",
        message: "Admins cannot demote, disable or delete themselves; ask another admin.".into(),
    }
}

/// Change a user's role or status (admins only). Disabling ends every session of the account,
/// and its access tokens stop working at once.
#[utoipa::path(
    tag = "admin",
    operation_id = "update_user",
    summary = "Change a user's role or status (admin)",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AdminUpdateUserRequest,
    responses(
        (status = 200, description = "The updated account", body = Envelope<UserProfile>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 409, description = "`cannot_change_own_account`; `last_admin`: the account is the only active admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: ValidatedJson<AdminUpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let origin = origin(&req);
    let actor = admin.0.id;
    let user = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            users::lock_admins(conn)?;
            let before = users::find(conn, id)?.ok_or_else(|| ApiError::not_found("User"))?;
            let role_changes = body.role.filter(|role| *role != before.role());
            let status_changes = body.status.filter(|status| *status != before.status());
            if id == actor && (role_changes.is_some() || status_changes.is_some()) {
                return Err(cannot_change_self());
            }
            if role_changes.is_none() && status_changes.is_none() {
                return Ok(before);
            }
            if role_changes.is_some_and(|r| r != Role::Admin)
                || status_changes == Some(UserStatus::Disabled)
            {
                keep_an_admin(conn, &before)?;
            }
            let after = users::update(
                conn,
                id,
                &UserChangeset {
                    role: role_changes.map(|r| r.as_str().to_owned()),
                    status: status_changes.map(|s| s.as_str().to_owned()),
                    ..Default::default()
                },
            )?;
            if let Some(role) = role_changes {
                audit::record(
                    conn,
                    Event {
                        action: Action::RoleChanged,
                        user_id: Some(id),
                        actor_id: Some(actor),
                        origin: &origin,
                        details: json!({"from": before.role(), "to": role}),
                    },
                )?;
            }
            if let Some(status) = status_changes {
                if status == UserStatus::Disabled {
                    // Every session ends, and the access tokens and personal access tokens
                    // handed out so far stay dead when the account is enabled again.
                    refresh_tokens::revoke_all_for_user(conn, id)?;
                    users::revoke_access_tokens(conn, id)?;
                    db::personal_tokens::delete_all(conn, id)?;
                }
                audit::record(
                    conn,
                    Event {
                        action: Action::StatusChanged,
                        user_id: Some(id),
                        actor_id: Some(actor),
                        origin: &origin,
                        details: json!({"from": before.status(), "to": status}),
                    },
                )?;
            }
            Ok(after)
        })
    })
    .await?;
    Ok(Envelope::new(UserProfile::from(user)).ok())
}

/// Delete an account and everything it owns (admins only).
#[utoipa::path(
    tag = "admin",
    operation_id = "delete_user",
    summary = "Delete a user (admin)",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Account deleted", body = Envelope<Deleted>),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 409, description = "`cannot_change_own_account`; `last_admin`: the account is the only active admin", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if id == admin.0.id {
        return Err(cannot_change_self());
    }
    let user = load(&state, id).await?;
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        delete_account(conn, &user, admin.0.id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}
