//! The security audit log. Never given a password or a token.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::schema::audit_log;

/// What happened. Stable names: clients filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    UserRegistered,
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    Logout,
    RefreshTokenReused,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    EmailVerified,
    RoleChanged,
    StatusChanged,
    AccountDeleted,
    LedgerCreated,
    LedgerDeleted,
    MemberInvited,
    InvitationRevoked,
    InvitationDeclined,
    MemberJoined,
    MemberRoleChanged,
    MemberRemoved,
    MemberLeft,
    AnnouncementSent,
    PersonalTokenCreated,
    PersonalTokenRevoked,
    SessionEnded,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorReset,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserRegistered => "user_registered",
            Action::LoginSucceeded => "login_succeeded",
            Action::LoginFailed => "login_failed",
            Action::AccountLocked => "account_locked",
            Action::Logout => "logout",
            Action::RefreshTokenReused => "refresh_token_reused",
            Action::PasswordResetRequested => "password_reset_requested",
            Action::PasswordReset => "password_reset",
            Action::PasswordChanged => "password_changed",
            Action::EmailVerified => "email_verified",
            Action::RoleChanged => "role_changed",
            Action::StatusChanged => "status_changed",
            Action::AccountDeleted => "account_deleted",
            Action::LedgerCreated => "ledger_created",
            Action::LedgerDeleted => "ledger_deleted",
            Action::MemberInvited => "member_invited",
            Action::InvitationRevoked => "invitation_revoked",
            Action::InvitationDeclined => "invitation_declined",
            Action::MemberJoined => "member_joined",
            Action::MemberRoleChanged => "member_role_changed",
            Action::MemberRemoved => "member_removed",
            Action::MemberLeft => "member_left",
            Action::AnnouncementSent => "announcement_sent",
            Action::PersonalTokenCreated => "personal_token_created",
            Action::PersonalTokenRevoked => "personal_token_revoked",
            Action::SessionEnded => "session_ended",
            Action::TwoFactorEnabled => "two_factor_enabled",
            Action::TwoFactorDisabled => "two_factor_disabled",
            Action::TwoFactorReset => "two_factor_reset",
            Action::RecoveryCodeUsed => "recovery_code_used",
            Action::RecoveryCodesRegenerated => "recovery_codes_regenerated",
        }
    }
}

/// Where a request came from, for the log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: Action,
    pub user_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub origin: &'a Origin,
    pub details: Value,
}

/// How many times `actor` did `action` since `since` (the log outlives what the action made:
/// a deleted ledger's invitations still count).
pub fn count_by_actor_since(
    conn: &mut PgConnection,
    actor: Uuid,
    action: Action,
    since: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    audit_log::table
        .filter(audit_log::actor_id.eq(actor))
        .filter(audit_log::action.eq(action.as_str()))
        .filter(audit_log::created_at.gt(since))
        .count()
        .get_result(conn)
}

pub fn record(conn: &mut PgConnection, event: Event) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::action.eq(event.action.as_str()),
            audit_log::user_id.eq(event.user_id),
            audit_log::actor_id.eq(event.actor_id),
            audit_log::ip.eq(event.origin.ip.as_deref()),
            audit_log::request_id.eq(event.origin.request_id.as_deref()),
            audit_log::details.eq(event.details),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct EntryFilter {
    pub user_id: Option<Uuid>,
    pub action: Option<Action>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Newest first, with the total matching the filter.
pub fn list(
    conn: &mut PgConnection,
    filter: &EntryFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Entry>, i64)> {
    let query = || {
        let mut query = audit_log::table.into_boxed();
        if let Some(user_id) = filter.user_id {
            query = query.filter(audit_log::user_id.eq(user_id));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_log::action.eq(action.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_log::created_at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(audit_log::created_at.lt(to));
        }
        query
    };
    let total = query().select(count_star()).first(conn)?;
    let rows = query()
        .select(Entry::as_select())
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}
