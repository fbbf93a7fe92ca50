//! An account's login sessions (refresh-token families): listed with the client that holds
//! each, and ended one at a time. Ending a session stops its refreshes at once; the access
//! token it last handed out lives out its few minutes (logging out everywhere ends those too).
//! Only a login session may see or end sessions: a leaked personal access token must not be
//! able to sign its owner out everywhere.

use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::caller::Caller;
use super::personal_tokens::session_only;
use crate::auth::extractor::TokenLife;
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::refresh_tokens;
use crate::domain::device::describe;
use crate::dto::users::SessionResponse;
use crate::error::ApiError;

pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
) -> Result<Vec<SessionResponse>, ApiError> {
    session_only(token)?;
    Ok(refresh_tokens::live_sessions(conn, caller.id)?
        .into_iter()
        .map(|s| SessionResponse {
            id: s.family_id,
            device: describe(s.user_agent.as_deref()),
            user_agent: s.user_agent,
            ip: s.ip,
            started_at: s.started_at,
            last_used_at: s.refreshed_at,
            expires_at: s.expires_at,
            current: token.session == Some(s.family_id),
        })
        .collect())
}

pub fn end(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
    id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    session_only(token)?;
    crate::db::transaction(conn, |conn| {
        if !refresh_tokens::end_session(conn, caller.id, id)? {
            return Err(ApiError::not_found("Session"));
        }
        audit::record(
            conn,
            Event {
                action: Action::SessionEnded,
                user_id: Some(caller.id),
                actor_id: Some(caller.id),
                origin,
                details: json!({"session_id": id}),
            },
        )?;
        Ok(())
    })
}
