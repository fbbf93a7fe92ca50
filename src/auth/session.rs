//! Starting and continuing sessions: an access token plus a refresh token in a family.

use chrono::{DateTime, Utc};
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

/// Where a session is used from: its client's `User-Agent` and address, kept with each of
/// its refresh tokens (`GET /users/me/sessions` shows the newest).
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl Device {
    pub fn of(req: &actix_web::HttpRequest) -> Device {
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Device {
            user_agent,
            ip: req.peer_addr().map(|a| a.ip().to_string()),
        }
    }
}

/// A family to continue after a rotation: its id and its fixed end.
pub struct Family {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Issues tokens for `user`: in a new family (a login), or continuing `family` after a
/// rotation, which never extends the session past the end fixed at login.
pub fn issue(
    conn: &mut PgConnection,
    settings: &Settings,
    user: &User,
    remember_me: bool,
    family: Option<Family>,
    device: &Device,
) -> Result<IssuedSession, ApiError> {
    let refresh_token = tokens::generate();
    let (family_id, expires_at) = match family {
        Some(family) => (family.id, family.expires_at),
        None => {
            let ttl = if remember_me {
                settings.auth.refresh_token_remember_ttl
            } else {
                settings.auth.refresh_token_ttl
            };
            let ttl = chrono::Duration::from_std(ttl)
                .map_err(|e| ApiError::internal(format!("bad TTL: {e}")))?;
            (Uuid::new_v4(), Utc::now() + ttl)
        }
    };
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &tokens::digest(&refresh_token),
            remember_me,
            expires_at,
            user_agent: device.user_agent.as_deref(),
            ip: device.ip.as_deref(),
        },
    )?;
    let access_token = jwt::issue(
        settings.jwt_secret.expose(),
        user.id,
        user.role(),
        settings.auth.access_token_ttl,
        user.tokens_valid_after.timestamp(),
        family_id,
    )?;
    Ok(IssuedSession {
        access_token,
        refresh_token,
        expires_in: settings.auth.access_token_ttl.as_secs(),
    })
}
