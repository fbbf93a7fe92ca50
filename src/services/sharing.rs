//! Shared ledgers: creating them, their members and roles, invitations by email, and leaving.
//! Who may reach a ledger's data at all is decided once per request by the `Caller` extractor
//! (see `http::ledger_scope`); the use cases here manage the ledgers themselves.

use chrono::{Duration as ChronoDuration, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::caller::{stored, Caller};
use crate::auth::mailer::Mail;
use crate::auth::tokens;
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::ledgers::{self, Invitation, Ledger, LedgerChangeset, NewInvitation, NewLedger};
use crate::db::{self, categories, users};
use crate::domain::email::Email;
use crate::domain::sharing::{may_lose_member, LedgerKind, LedgerRole, MembershipRule};
use crate::dto::ledgers::{
    CreateLedgerRequest, InvitationResponse, LedgerResponse, MemberResponse, MyInvitationResponse,
    UpdateLedgerRequest,
};
use crate::error::ApiError;
use crate::state::AppState;

/// How long an invitation's link works.
pub const INVITATION_TTL_DAYS: i64 = 7;

/// A ledger the caller is a member of, with their role; any other is 404, whether it exists
/// or not.
pub fn membership(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
) -> Result<(Ledger, LedgerRole), ApiError> {
    let (ledger, role) = ledgers::access(conn, ledger_id, caller.id)?
        .ok_or_else(|| ApiError::not_found("Ledger"))?;
    Ok((ledger, stored("ledger role", &role, LedgerRole::parse)?))
}

/// As [`membership`], for what only an owner may do.
fn owned(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
) -> Result<(Ledger, LedgerKind), ApiError> {
    let (ledger, role) = membership(conn, caller, ledger_id)?;
    if !role.can_manage() {
        return Err(ApiError::Forbidden {
            code: "ledger_owner_only",
            message: "Only an owner of this ledger may do this.".into(),
        });
    }
    let kind = kind_of(&ledger)?;
    Ok((ledger, kind))
}

fn kind_of(ledger: &Ledger) -> Result<LedgerKind, ApiError> {
    stored("ledger kind", &ledger.kind, LedgerKind::parse)
}

fn response(ledger: Ledger, role: LedgerRole, members: i64) -> Result<LedgerResponse, ApiError> {
    Ok(LedgerResponse {
        kind: kind_of(&ledger)?,
        id: ledger.id,
        name: ledger.name,
        currency: ledger.currency,
        role,
        members,
        created_at: ledger.created_at,
        updated_at: ledger.updated_at,
    })
}

fn refused(rule: MembershipRule) -> ApiError {
    match rule {
        MembershipRule::PersonalIsPrivate => personal_ledger(),
        MembershipRule::LastOwner => ApiError::Conflict {
            code: "last_owner",
            message: "A ledger keeps at least one owner: make another member owner first \
                      (or delete the ledger)."
                .into(),
        },
    }
}

fn personal_ledger() -> ApiError {
    ApiError::Conflict {
        code: "personal_ledger",
        message: "A personal ledger is its owner's alone: it cannot be shared, left or deleted \
                  (it goes with the account). Create a household or business ledger to share."
            .into(),
    }
}

fn log(
    conn: &mut PgConnection,
    action: Action,
    caller: &Caller,
    user: Option<Uuid>,
    origin: &Origin,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    audit::record(
        conn,
        Event {
            action,
            user_id: user,
            actor_id: Some(caller.id),
            origin,
            details,
        },
    )?;
    Ok(())
}

/// Every ledger the caller belongs to, their personal one first.
pub fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<LedgerResponse>, ApiError> {
    ledgers::of_member(conn, caller.id)?
        .into_iter()
        .map(|row| {
            let role = stored("ledger role", &row.role, LedgerRole::parse)?;
            response(row.ledger, role, row.members)
        })
        .collect()
}

pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
) -> Result<LedgerResponse, ApiError> {
    let (ledger, role) = membership(conn, caller, ledger_id)?;
    let members = ledgers::members(conn, ledger_id)?.len() as i64;
    response(ledger, role, members)
}

/// A new household or business ledger, with the caller as its owner and the default categories.
pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    request: CreateLedgerRequest,
    origin: &Origin,
) -> Result<LedgerResponse, ApiError> {
    if request.kind == LedgerKind::Personal {
        return Err(ApiError::invalid_field(
            "kind",
            "must be household or business: every account has its one personal ledger",
        ));
    }
    let currency = request
        .currency
        .unwrap_or_else(|| caller.currency.to_string());
    db::transaction::<_, ApiError, _>(conn, |conn| {
        let ledger = ledgers::insert(
            conn,
            &NewLedger {
                id: Uuid::new_v4(),
                kind: request.kind.as_str(),
                name: request.name.trim(),
                currency: &currency,
            },
            caller.id,
        )?;
        categories::insert_defaults(conn, ledger.id)?;
        log(
            conn,
            Action::LedgerCreated,
            caller,
            Some(caller.id),
            origin,
            json!({"ledger_id": ledger.id, "kind": ledger.kind}),
        )?;
        response(ledger, LedgerRole::Owner, 1)
    })
}

pub fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    request: UpdateLedgerRequest,
) -> Result<LedgerResponse, ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        let (_, kind) = owned(conn, caller, ledger_id)?;
        if kind == LedgerKind::Personal {
            if request.kind.is_some_and(|k| k != LedgerKind::Personal) {
                return Err(ApiError::invalid_field(
                    "kind",
                    "a personal ledger stays personal",
                ));
            }
            if request.currency.is_some() {
                return Err(ApiError::invalid_field(
                    "currency",
                    "a personal ledger has its account's currency: change it with PATCH /users/me",
                ));
            }
        } else if request.kind == Some(LedgerKind::Personal) {
            return Err(ApiError::invalid_field(
                "kind",
                "must be household or business: every account has its one personal ledger",
            ));
        }
        let changes = LedgerChangeset {
            name: request.name.map(|n| n.trim().to_owned()),
            currency: request.currency,
            kind: request.kind.map(|k| k.as_str().to_owned()),
        };
        let ledger =
            if changes.name.is_none() && changes.currency.is_none() && changes.kind.is_none() {
                membership(conn, caller, ledger_id)?.0
            } else {
                ledgers::update(conn, ledger_id, &changes)?
            };
        let members = ledgers::members(conn, ledger_id)?.len() as i64;
        response(ledger, LedgerRole::Owner, members)
    })
}

/// Deletes a shared ledger and everything in it.
pub fn delete(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        let (ledger, kind) = owned(conn, caller, ledger_id)?;
        if kind == LedgerKind::Personal {
            return Err(personal_ledger());
        }
        db::lock_ledger(conn, ledger_id)?;
        ledgers::delete(conn, ledger_id)?;
        log(
            conn,
            Action::LedgerDeleted,
            caller,
            Some(caller.id),
            origin,
            json!({"ledger_id": ledger_id, "name": ledger.name}),
        )
    })
}

pub fn members(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
) -> Result<Vec<MemberResponse>, ApiError> {
    membership(conn, caller, ledger_id)?;
    ledgers::members(conn, ledger_id)?
        .into_iter()
        .map(|m| {
            let role = stored("ledger role", &m.role, LedgerRole::parse)?;
            Ok(MemberResponse::new(m, role))
        })
        .collect()
}

/// The most invitations one account sends in a day.
const INVITATIONS_PER_DAY: i64 = 50;

/// Invites an address into a shared ledger; returns the invitation and the mail with its link.
/// Whether an account uses the address is not told: the invitation waits for one.
pub fn invite(
    state: &AppState,
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    email: &str,
    role: LedgerRole,
    origin: &Origin,
) -> Result<(InvitationResponse, Mail), ApiError> {
    let email = Email::parse(email).map_err(|m| ApiError::invalid_field("email", m))?;
    db::transaction::<_, ApiError, _>(conn, |conn| {
        // Invitations, answers and role changes of one ledger take turns: two invitations to
        // one address at once replace each other (not a unique-key 409), one racing its
        // address's acceptance sees the new member, and an owner demoted meanwhile is no owner.
        ledgers::lock_members(conn, ledger_id)?;
        let (ledger, kind) = owned(conn, caller, ledger_id)?;
        if kind == LedgerKind::Personal {
            return Err(personal_ledger());
        }
        let already = ledgers::members(conn, ledger_id)?
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(email.as_str()));
        if already {
            return Err(ApiError::Conflict {
                code: "already_member",
                message: "Someone with this address is a member already.".into(),
            });
        }
        // Each invitation mails someone else: an account may send a few dozen a day, not the
        // thousands an outside test found it could (a relay for mail with the sender's words).
        // Counted in the audit log, which a deleted ledger does not take with it.
        let day_ago = Utc::now() - ChronoDuration::days(1);
        users::lock(conn, caller.id)?;
        if audit::count_by_actor_since(conn, caller.id, Action::MemberInvited, day_ago)?
            >= INVITATIONS_PER_DAY
        {
            return Err(ApiError::TooManyRequests {
                code: "too_many_invitations",
                message: format!(
                    "An account may send {INVITATIONS_PER_DAY} invitations a day; try again tomorrow."
                ),
                retry_after_secs: 3600,
            });
        }
        let token = tokens::generate();
        let invitation = ledgers::invite(
            conn,
            &NewInvitation {
                ledger_id,
                email: email.as_str(),
                role: role.as_str(),
                token_hash: &tokens::digest(&token),
                invited_by: caller.id,
                expires_at: Utc::now() + ChronoDuration::days(INVITATION_TTL_DAYS),
            },
        )?;
        let inviter = users::find(conn, caller.id)?.ok_or(ApiError::InvalidToken)?;
        log(
            conn,
            Action::MemberInvited,
            caller,
            None,
            origin,
            json!({"ledger_id": ledger_id, "invitation_id": invitation.id,
                   "email": invitation.email, "role": role.as_str()}),
        )?;
        let link = format!(
            "{}/accept-invitation?token={token}",
            state.settings.public_url
        );
        // Names are the sender's words: on one line each, so none can pose as the mail's own
        // text ("Account suspended.\nVerify at ...").
        let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let (inviter_name, ledger_name) = (one_line(&inviter.name), one_line(&ledger.name));
        let mail =
            Mail {
                to: invitation.email.clone(),
                subject: format!("{inviter_name} invites you to \"{ledger_name}\" on FinAI"),
                body: format!(
                "Hello,\n\n{} ({}) invites you to keep the {} ledger \"{}\" together on FinAI, \
                 as {} {}.\n\nAccept or decline it, signed in with this address:\n\n{link}\n\n\
                 The link works once and expires in {INVITATION_TTL_DAYS} days. If you do not \
                 know the sender, ignore this mail.\n",
                inviter_name,
                inviter.email,
                kind.as_str(),
                ledger_name,
                if role == LedgerRole::Editor { "an" } else { "a" },
                role.as_str(),
            ),
            };
        Ok((InvitationResponse::new(invitation, role), mail))
    })
}

fn invitation_response(invitation: Invitation) -> Result<InvitationResponse, ApiError> {
    let role = stored("ledger role", &invitation.role, LedgerRole::parse)?;
    Ok(InvitationResponse::new(invitation, role))
}

/// The ledger's invitations still open (owners only: they hold other people's addresses).
pub fn invitations(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
) -> Result<Vec<InvitationResponse>, ApiError> {
    owned(conn, caller, ledger_id)?;
    ledgers::open_invitations(conn, ledger_id)?
        .into_iter()
        .map(invitation_response)
        .collect()
}

pub fn revoke_invitation(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    invitation_id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        owned(conn, caller, ledger_id)?;
        if !ledgers::revoke(conn, ledger_id, invitation_id)? {
            return Err(ApiError::not_found("Invitation"));
        }
        log(
            conn,
            Action::InvitationRevoked,
            caller,
            None,
            origin,
            json!({"ledger_id": ledger_id, "invitation_id": invitation_id}),
        )
    })
}

/// The open invitations to the caller's address.
pub fn my_invitations(
    conn: &mut PgConnection,
    caller: &Caller,
) -> Result<Vec<MyInvitationResponse>, ApiError> {
    let me = users::find(conn, caller.id)?.ok_or(ApiError::InvalidToken)?;
    ledgers::invitations_to(conn, &me.email)?
        .into_iter()
        .map(|(invitation, ledger_name, kind)| {
            Ok(MyInvitationResponse {
                invitation: invitation_response(invitation)?,
                ledger_name,
                ledger_kind: stored("ledger kind", &kind, LedgerKind::parse)?,
            })
        })
        .collect()
}

/// Accepts (joining the ledger with the invited role) or declines an invitation to the caller's
/// own address. A link sent to someone else, spent, revoked or expired is 404.
pub fn answer(
    conn: &mut PgConnection,
    caller: &Caller,
    token: &str,
    accept: bool,
    origin: &Origin,
) -> Result<InvitationResponse, ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        let me = users::find(conn, caller.id)?.ok_or(ApiError::InvalidToken)?;
        let status = if accept { "accepted" } else { "declined" };
        let digest = tokens::digest(token);
        // In turn with the ledger's invitations (see `invite`).
        if let Some(ledger_id) = ledgers::ledger_of_invitation(conn, &digest)? {
            ledgers::lock_members(conn, ledger_id)?;
        }
        let invitation = ledgers::answer(conn, &digest, &me.email, status, me.id)?
            .ok_or_else(|| ApiError::NotFound("No open invitation to this account has that token: it may have been used, withdrawn or expired, or sent to another address.".into()))?;
        // An invitation is as good as its sender's ownership: one sent by an owner since
        // removed, demoted or gone lets no one in (an outside test took a ledger over through
        // the owner-invitation a removed co-owner had sent a second account of theirs).
        let inviter_owns = match invitation.invited_by {
            Some(inviter) => {
                ledgers::member(conn, invitation.ledger_id, inviter)?
                    .map(|m| stored("ledger role", &m.role, LedgerRole::parse))
                    .transpose()?
                    == Some(LedgerRole::Owner)
            }
            None => false,
        };
        if accept && !inviter_owns {
            return Err(ApiError::NotFound(
                "This invitation was withdrawn: the owner who sent it is no longer an owner of the ledger."
                    .into(),
            ));
        }
        let response = invitation_response(invitation)?;
        if accept {
            ledgers::add_member(conn, response.ledger_id, me.id, response.role.as_str())?;
        }
        log(
            conn,
            if accept {
                Action::MemberJoined
            } else {
                Action::InvitationDeclined
            },
            caller,
            Some(me.id),
            origin,
            json!({"ledger_id": response.ledger_id, "invitation_id": response.id,
                   "role": response.role.as_str()}),
        )?;
        Ok(response)
    })
}

/// Changes a member's role (owners only); the last owner keeps theirs.
pub fn set_role(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    user_id: Uuid,
    role: LedgerRole,
    origin: &Origin,
) -> Result<MemberResponse, ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        // The caller's own role is read under the lock too (see `invite`).
        ledgers::lock_members(conn, ledger_id)?;
        let (_, kind) = owned(conn, caller, ledger_id)?;
        let member = ledgers::member(conn, ledger_id, user_id)?
            .ok_or_else(|| ApiError::not_found("Member"))?;
        let current = stored("ledger role", &member.role, LedgerRole::parse)?;
        if current != role {
            if current == LedgerRole::Owner || kind == LedgerKind::Personal {
                may_lose_member(kind, current, ledgers::owners(conn, ledger_id)?)
                    .map_err(refused)?;
            }
            ledgers::set_role(conn, ledger_id, user_id, role.as_str())?;
            if current == LedgerRole::Owner {
                ledgers::revoke_sent_by(conn, Some(ledger_id), user_id)?;
            }
            log(
                conn,
                Action::MemberRoleChanged,
                caller,
                Some(user_id),
                origin,
                json!({"ledger_id": ledger_id, "from": current.as_str(), "to": role.as_str()}),
            )?;
        }
        Ok(MemberResponse::new(member, role))
    })
}

/// Removes a member (owners may remove anyone; any member may leave). The last owner cannot
/// leave, and a personal ledger keeps its owner. Access ends with the commit: every request
/// checks the membership afresh.
pub fn remove_member(
    conn: &mut PgConnection,
    caller: &Caller,
    ledger_id: Uuid,
    user_id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        // The caller's own role is read under the lock too (see `invite`).
        ledgers::lock_members(conn, ledger_id)?;
        let (ledger, my_role) = membership(conn, caller, ledger_id)?;
        let leaving = user_id == caller.id;
        if !leaving && !my_role.can_manage() {
            return Err(ApiError::Forbidden {
                code: "ledger_owner_only",
                message: "Only an owner of this ledger may remove other members.".into(),
            });
        }
        let member = ledgers::member(conn, ledger_id, user_id)?
            .ok_or_else(|| ApiError::not_found("Member"))?;
        let role = stored("ledger role", &member.role, LedgerRole::parse)?;
        may_lose_member(kind_of(&ledger)?, role, ledgers::owners(conn, ledger_id)?)
            .map_err(refused)?;
        ledgers::remove_member(conn, ledger_id, user_id)?;
        ledgers::revoke_sent_by(conn, Some(ledger_id), user_id)?;
        stop_webhooks_of(conn, user_id, Some(ledger_id))?;
        log(
            conn,
            if leaving {
                Action::MemberLeft
            } else {
                Action::MemberRemoved
            },
            caller,
            Some(user_id),
            origin,
            json!({"ledger_id": ledger_id, "role": role.as_str()}),
        )
    })
}

/// A member who leaves (or is removed, or deletes their account) loses the ledger's data at
/// once, their event streams and the webhooks they set up included: those are turned off (an
/// owner may turn one on again, knowing where it sends).
fn stop_webhooks_of(
    conn: &mut PgConnection,
    user_id: Uuid,
    ledger: Option<Uuid>,
) -> Result<(), ApiError> {
    super::webhooks::turn_off_created_by(
        conn,
        user_id,
        ledger,
        false,
        "the member who set it up is no longer in the ledger",
        "the member who set it up left the ledger",
    )
}

/// Before an account goes: the shared ledgers it is the only member of go with it, and one it
/// is the last owner of while others remain stops the deletion.
pub fn leave_all(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
    // Another owner stepping down at the same moment would otherwise see this one still there,
    // as this sees them: the ledger would be left with no owner.
    ledgers::lock_members_of_ledgers_of(conn, user_id)?;
    let standing = ledgers::standing(conn, user_id)?;
    if let Some(kept) = standing.iter().find(|s| s.last_owner && !s.alone) {
        return Err(ApiError::Conflict {
            code: "last_owner",
            message: format!(
                "This account is the last owner of the shared ledger \"{}\": make another \
                 member owner, or delete the ledger, first.",
                kept.name
            ),
        });
    }
    for ledger in standing
        .iter()
        .filter(|s| s.alone && s.ledger_id != user_id)
    {
        ledgers::delete(conn, ledger.ledger_id)?;
    }
    ledgers::revoke_sent_by(conn, None, user_id)?;
    stop_webhooks_of(conn, user_id, None)?;
    Ok(())
}
