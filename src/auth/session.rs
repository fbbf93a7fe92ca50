//! Starting and continuing sessions: an access token plus a refresh token in a family.

use chrono::Utc;
use diesel::PgConnection;
use uuid::Uuid;

use super::{jwt, tokens};
use crate::config::Settings;
use crate::db::refresh_tokens::{self, NewRefreshToken};
use crate::db::users::User;
use crate::error::ApiError;

pub struct IssuedSession {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Issues tokens for `user`: in a new family, or continuing `family_id` after a rotation.
pub fn issue(
    conn: &mut PgConnection,
    settings: &Settings,
    user: &User,
    remember_me: bool,
    family_id: Option<Uuid>,
) -> Result<IssuedSession, ApiError> {
    let refresh_token = tokens::generate();
    let ttl = if remember_me {
        settings.auth.refresh_token_remember_ttl
    } else {
        settings.auth.refresh_token_ttl
    };
    let expires_at = Utc::now()
        + chrono::Duration::from_std(ttl)
            .map_err(|e| ApiError::internal(format!("bad TTL: {e}")))?;
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            family_id: family_id.unwrap_or_else(Uuid::new_v4),
            token_hash: &tokens::digest(&refresh_token),
            remember_me,
            expires_at,
        },
    )?;
    let access_token = jwt::issue(
        settings.jwt_secret.expose(),
        user.id,
        user.role(),
        settings.auth.access_token_ttl,
    )?;
    Ok(IssuedSession {
        access_token,
        refresh_token,
        expires_in: settings.auth.access_token_ttl.as_secs(),
    })
}
