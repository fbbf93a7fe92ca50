use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::ledgers::{Invitation, Member};
use crate::domain::sharing::{LedgerKind, LedgerRole};

/// A ledger as one of its members sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerResponse {
    pub id: Uuid,
    pub kind: LedgerKind,
    #[schema(example = "Our household")]
    pub name: String,
    /// The default currency of the ledger's wallets, budgets and reports.
    #[schema(example = "VND")]
    pub currency: String,
    /// The caller's role in it.
    pub role: LedgerRole,
    /// How many members it has.
    pub members: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The kinds of ledger a request may name: `personal` is every account's own and is never
/// created or switched to.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SharedLedgerKind {
    Household,
    Business,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Our household", "kind": "household", "currency": "VND"}))]
pub struct CreateLedgerRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `household` or `business` (every account has its one `personal` ledger already).
    #[schema(value_type = SharedLedgerKind)]
    pub kind: LedgerKind,
    /// ISO 4217; defaults to the caller's currency.
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Nguyen family"}))]
pub struct UpdateLedgerRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Between `household` and `business`; a personal ledger stays personal.
    #[schema(value_type = Option<SharedLedgerKind>)]
    pub kind: Option<LedgerKind>,
    /// A personal ledger follows its account's currency (`PATCH /users/me`).
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    pub user_id: Uuid,
    #[schema(example = "Lan")]
    pub name: String,
    #[schema(example = "lan@example.com")]
    pub email: String,
    pub role: LedgerRole,
    pub joined_at: DateTime<Utc>,
}

impl MemberResponse {
    pub fn new(member: Member, role: LedgerRole) -> MemberResponse {
        MemberResponse {
            user_id: member.user_id,
            name: member.name,
            email: member.email,
            role,
            joined_at: member.joined_at,
        }
    }
}

/// Invite someone by email: they get a link that works once, for 7 days, and accept or decline
/// it while signed in to the account with that address.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "lan@example.com", "role": "editor"}))]
pub struct InviteRequest {
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    pub role: LedgerRole,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "viewer"}))]
pub struct UpdateMemberRequest {
    pub role: LedgerRole,
}

/// The token from the invitation's link.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "3q2-7wX..."}))]
pub struct InvitationAnswerRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
}

/// `pending` until answered; then `accepted`, `declined` or `revoked` (withdrawn by an owner, or
/// replaced by a newer invitation to the same address).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    pub id: Uuid,
    pub ledger_id: Uuid,
    #[schema(example = "lan@example.com")]
    pub email: String,
    pub role: LedgerRole,
    #[schema(example = "pending")]
    pub status: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl InvitationResponse {
    pub fn new(invitation: Invitation, role: LedgerRole) -> InvitationResponse {
        InvitationResponse {
            id: invitation.id,
            ledger_id: invitation.ledger_id,
            email: invitation.email,
            role,
            status: invitation.status,
            invited_by: invitation.invited_by,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            answered_at: invitation.answered_at,
        }
    }
}

/// An open invitation to the caller, with the name of the ledger it opens.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyInvitationResponse {
    #[serde(flatten)]
    pub invitation: InvitationResponse,
    #[schema(example = "Our household")]
    pub ledger_name: String,
    pub ledger_kind: LedgerKind,
}
