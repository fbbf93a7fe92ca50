//! `/api/v1/ledgers`: shared ledgers, their members and invitations. What is inside a ledger
//! (wallets, transactions, budgets...) is reached under `/api/v1/ledgers/{ledger_id}/...` by
//! the same routes as the personal ledger's (see `http::ledger_scope`).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::context::origin;
use crate::http::{Envelope, ValidatedJson};
use crate::services::accounts::send;
use crate::services::sharing;
use crate::state::AppState;

/// The caller's ledgers: their personal one first, then those shared with them.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "list_ledgers",
    summary = "List my ledgers",
    responses((status = 200, description = "The ledgers the caller is a member of", body = Envelope<Vec<LedgerResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/ledgers")]
pub async fn list_ledgers(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let ledgers = db::run(&state.pool, move |conn| sharing::list(conn, &caller)).await?;
    Ok(Envelope::new(ledgers).ok())
}

/// A household or business ledger, with the caller as its owner and the default categories.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "create_ledger",
    summary = "Create a shared ledger",
    request_body = CreateLedgerRequest,
    responses((status = 201, description = "The new ledger", body = Envelope<LedgerResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/ledgers")]
pub async fn create_ledger(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<CreateLedgerRequest>,
) -> ApiResult<HttpResponse> {
    let origin = origin(&req);
    let body = body.into_inner();
    let ledger = db::run(&state.pool, move |conn| {
        sharing::create(conn, &caller, body, &origin)
    })
    .await?;
    let location = format!("/api/v1/ledgers/{}", ledger.id);
    Ok(Envelope::new(ledger).created(&location))
}

/// The open invitations to the caller's own address.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "list_my_invitations",
    summary = "List invitations to me",
    responses((status = 200, description = "Open invitations to the caller's address", body = Envelope<Vec<MyInvitationResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/ledgers/invitations")]
pub async fn my_invitations(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let invitations = db::run(&state.pool, move |conn| {
        sharing::my_invitations(conn, &caller)
    })
    .await?;
    Ok(Envelope::new(invitations).ok())
}

/// Accept an invitation with the token from its mail, signed in to the invited address: the
/// caller becomes a member with the invited role.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "accept_invitation",
    summary = "Accept an invitation",
    request_body = InvitationAnswerRequest,
    responses(
        (status = 200, description = "Accepted: the caller is a member", body = Envelope<InvitationResponse>),
        (status = 404, description = "`not_found`: no open invitation to this account has that token (used, withdrawn, expired, sent to another address, or sent by an owner who is no longer one)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/ledgers/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<InvitationAnswerRequest>,
) -> ApiResult<HttpResponse> {
    answer(state, req, caller, body, true).await
}

/// Decline an invitation with the token from its mail.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "decline_invitation",
    summary = "Decline an invitation",
    request_body = InvitationAnswerRequest,
    responses(
        (status = 200, description = "Declined", body = Envelope<InvitationResponse>),
        (status = 404, description = "`not_found`: no open invitation to this account has that token", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/ledgers/invitations/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<InvitationAnswerRequest>,
) -> ApiResult<HttpResponse> {
    answer(state, req, caller, body, false).await
}

async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<InvitationAnswerRequest>,
    accept: bool,
) -> ApiResult<HttpResponse> {
    let origin = origin(&req);
    let token = body.into_inner().token;
    let invitation = db::run(&state.pool, move |conn| {
        sharing::answer(conn, &caller, &token, accept, &origin)
    })
    .await?;
    Ok(Envelope::new(invitation).ok())
}

/// One of the caller's ledgers.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "get_ledger",
    summary = "Get a ledger",
    params(("id" = Uuid, Path, description = "Ledger id")),
    responses((status = 200, description = "The ledger", body = Envelope<LedgerResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/ledgers/{id}")]
pub async fn get_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let ledger = db::run(&state.pool, move |conn| sharing::get(conn, &caller, id)).await?;
    Ok(Envelope::new(ledger).ok())
}

/// Rename a ledger, change its default currency, or switch it between household and business
/// (owners only).
#[utoipa::path(
    tag = "ledgers",
    operation_id = "update_ledger",
    summary = "Update a ledger",
    params(("id" = Uuid, Path, description = "Ledger id")),
    request_body = UpdateLedgerRequest,
    responses(
        (status = 200, description = "The ledger", body = Envelope<LedgerResponse>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/ledgers/{id}")]
pub async fn update_ledger(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateLedgerRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let ledger = db::run(&state.pool, move |conn| {
        sharing::update(conn, &caller, id, body)
    })
    .await?;
    Ok(Envelope::new(ledger).ok())
}

/// Delete a shared ledger and everything in it (owners only). A personal ledger goes only with
/// its account.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "delete_ledger",
    summary = "Delete a shared ledger",
    params(("id" = Uuid, Path, description = "Ledger id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
        (status = 409, description = "`personal_ledger`: a personal ledger goes with its account", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/ledgers/{id}")]
pub async fn delete_ledger(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        sharing::delete(conn, &caller, id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// The ledger's members, longest-standing first.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "list_members",
    summary = "List a ledger's members",
    params(("id" = Uuid, Path, description = "Ledger id")),
    responses((status = 200, description = "The members", body = Envelope<Vec<MemberResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/ledgers/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let members = db::run(&state.pool, move |conn| sharing::members(conn, &caller, id)).await?;
    Ok(Envelope::new(members).ok())
}

/// Invite someone by email (owners only). They get a single-use link, valid for 7 days, to
/// accept or decline while signed in with that address; an account need not exist yet. A new
/// invitation to the same address replaces the open one.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "invite_member",
    summary = "Invite a member",
    params(("id" = Uuid, Path, description = "Ledger id")),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invitation mailed", body = Envelope<InvitationResponse>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
        (status = 409, description = "`already_member`: the address is a member's; `personal_ledger`: a personal ledger is not shared", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/ledgers/{id}/members")]
pub async fn invite_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<InviteRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let origin = origin(&req);
    let body = body.into_inner();
    let state2 = state.clone();
    let (invitation, mail) = db::run(&state.pool, move |conn| {
        sharing::invite(&state2, conn, &caller, id, &body.email, body.role, &origin)
    })
    .await?;
    send(&state, Some(mail));
    let location = format!("/api/v1/ledgers/{id}/invitations");
    Ok(Envelope::new(invitation).created(&location))
}

/// Change a member's role (owners only). The last owner keeps the role.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "update_member",
    summary = "Change a member's role",
    params(
        ("id" = Uuid, Path, description = "Ledger id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "The member", body = Envelope<MemberResponse>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
        (status = 409, description = "`last_owner`: the ledger would have no owner; `personal_ledger`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/ledgers/{id}/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidatedJson<UpdateMemberRequest>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let origin = origin(&req);
    let role = body.into_inner().role;
    let member = db::run(&state.pool, move |conn| {
        sharing::set_role(conn, &caller, id, user_id, role, &origin)
    })
    .await?;
    Ok(Envelope::new(member).ok())
}

/// Remove a member (owners), or leave (any member, with their own id). Access ends at once.
/// The last owner cannot leave.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "remove_member",
    summary = "Remove a member, or leave",
    params(
        ("id" = Uuid, Path, description = "Ledger id"),
        ("user_id" = Uuid, Path, description = "The member's user id (the caller's own to leave)"),
    ),
    responses(
        (status = 200, description = "Removed", body = Envelope<Deleted>),
        (status = 403, description = "`ledger_owner_only`: only owners remove others", body = ErrorBody),
        (status = 409, description = "`last_owner`: the ledger would have no owner; `personal_ledger`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/ledgers/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        sharing::remove_member(conn, &caller, id, user_id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted {
        id: user_id,
        deleted: true,
    })
    .ok())
}

/// The ledger's open invitations (owners only).
#[utoipa::path(
    tag = "ledgers",
    operation_id = "list_invitations",
    summary = "List a ledger's open invitations",
    params(("id" = Uuid, Path, description = "Ledger id")),
    responses(
        (status = 200, description = "Open invitations", body = Envelope<Vec<InvitationResponse>>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/ledgers/{id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let invitations = db::run(&state.pool, move |conn| {
        sharing::invitations(conn, &caller, id)
    })
    .await?;
    Ok(Envelope::new(invitations).ok())
}

/// Withdraw an open invitation (owners only): its link stops working.
#[utoipa::path(
    tag = "ledgers",
    operation_id = "revoke_invitation",
    summary = "Withdraw an invitation",
    params(
        ("id" = Uuid, Path, description = "Ledger id"),
        ("invitation_id" = Uuid, Path, description = "Invitation id"),
    ),
    responses(
        (status = 200, description = "Withdrawn", body = Envelope<Deleted>),
        (status = 403, description = "`ledger_owner_only`: the caller is not an owner", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/ledgers/{id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, invitation_id) = path.into_inner();
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        sharing::revoke_invitation(conn, &caller, id, invitation_id, &origin)
    })
    .await?;
    Ok(Envelope::new(Deleted {
        id: invitation_id,
        deleted: true,
    })
    .ok())
}
