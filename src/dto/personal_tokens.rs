//! `/api/v1/users/me/tokens`: personal access tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::personal_tokens::PersonalToken;

/// What a personal access token may do.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum TokenScope {
    Read,
    Write,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Budget sync script", "scopes": ["read"], "expires_in_days": 90}))]
pub struct CreateTokenRequest {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `read` (GET, and the POSTs that change nothing of the ledger: `/assistant/ask`, its
    /// answers' feedback, `/scenarios/simulate`, and marking notifications read, which is the
    /// caller's own read state; anything else is 403 `insufficient_scope`) and/or `write`.
    #[validate(length(min = 1, max = 2))]
    #[schema(value_type = Vec<TokenScope>, min_items = 1, max_items = 2)]
    pub scopes: Vec<String>,
    /// Days until it stops working, 1 to 3650; absent: until it is revoked.
    #[validate(range(min = 1, max = 3650))]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: Uuid,
    pub name: String,
    /// The prefix and first characters of the secret.
    #[schema(example = "finai_pat_Xk3q…")]
    pub hint: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<PersonalToken> for TokenResponse {
    fn from(t: PersonalToken) -> Self {
        TokenResponse {
            id: t.id,
            name: t.name,
            hint: t.hint,
            scopes: t.scopes,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            last_used_ip: t.last_used_ip,
            created_at: t.created_at,
        }
    }
}

/// A new token with its secret: store it now, it is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// Send as `Authorization: Bearer <token>`.
    #[schema(example = "finai_pat_Xk3q...")]
    pub token_secret: String,
}
