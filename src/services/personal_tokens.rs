//! Personal access tokens: long-lived bearer tokens an account makes for its scripts and
//! integrations. The secret (`finai_pat_` and 256 random bits) is shown once; only its digest
//! is kept. Managed only from a login session, so a leaked token cannot mint more.

use chrono::{Duration, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::caller::Caller;
use crate::auth::extractor::TokenLife;
use crate::auth::tokens;
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::personal_tokens::{self, NewToken};
use crate::dto::personal_tokens::{CreateTokenRequest, CreatedTokenResponse, TokenResponse};
use crate::error::ApiError;

/// Most live tokens one account may hold.
pub const MAX_PER_USER: i64 = 50;

const SCOPES: &[&str] = &["read", "write"];

/// Credentials (tokens, two-factor login) are managed from a login session: a leaked
/// personal access token must not be able to mint more, or turn the second factor off.
pub fn session_only(token: TokenLife) -> Result<(), ApiError> {
    if token.personal_token.is_some() {
        return Err(ApiError::Forbidden {
            code: "session_required",
            message: "This is managed from a login session, not with a personal access token."
                .into(),
        });
    }
    Ok(())
}

pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
) -> Result<Vec<TokenResponse>, ApiError> {
    session_only(token)?;
    Ok(personal_tokens::list(conn, caller.id)?
        .into_iter()
        .map(TokenResponse::from)
        .collect())
}

pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
    request: CreateTokenRequest,
    origin: &Origin,
) -> Result<CreatedTokenResponse, ApiError> {
    session_only(token)?;
    let mut scopes = request.scopes;
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::invalid_field(
            "scopes",
            format!("`{unknown}` is not a scope; the scopes are `read` and `write`."),
        ));
    }
    scopes.sort();
    scopes.dedup();
    let secret = tokens::generate_personal();
    let hint = format!("{}…", &secret[..tokens::PERSONAL_PREFIX.len() + 4]);
    let expires_at = request
        .expires_in_days
        .map(|days| Utc::now() + Duration::days(days));
    crate::db::transaction(conn, |conn| {
        // One account's tokens are counted and added one at a time.
        crate::db::lock_ledger(conn, caller.id)?;
        if personal_tokens::count(conn, caller.id)? >= MAX_PER_USER {
            return Err(ApiError::Conflict {
                code: "token_limit",
                message: format!(
                    "An account holds at most {MAX_PER_USER} personal access tokens; revoke \
                     one first."
                ),
            });
        }
        let created = personal_tokens::insert(
            conn,
            &NewToken {
                user_id: caller.id,
                name: request.name.trim(),
                token_hash: &tokens::digest(&secret),
                hint: &hint,
                scopes: &scopes,
                expires_at,
            },
        )?;
        record(
            conn,
            Action::PersonalTokenCreated,
            caller,
            origin,
            created.id,
            &created.name,
        )?;
        Ok(CreatedTokenResponse {
            token: created.into(),
            token_secret: secret,
        })
    })
}

pub fn revoke(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
    id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    session_only(token)?;
    crate::db::transaction(conn, |conn| {
        if !personal_tokens::delete(conn, caller.id, id)? {
            return Err(ApiError::not_found("Personal access token"));
        }
        record(conn, Action::PersonalTokenRevoked, caller, origin, id, "")
    })
}

fn record(
    conn: &mut PgConnection,
    action: Action,
    caller: &Caller,
    origin: &Origin,
    id: Uuid,
    name: &str,
) -> Result<(), ApiError> {
    audit::record(
        conn,
        Event {
            action,
            user_id: Some(caller.id),
            actor_id: Some(caller.id),
            origin,
            details: json!({"token_id": id, "name": name}),
        },
    )?;
    Ok(())
}
