//! Event streams: the tickets that open them where a client cannot send headers.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;

use super::caller::Caller;
use crate::auth::extractor::TokenLife;
use crate::auth::tokens;
use crate::db::events::{self, Ticket};
use crate::error::ApiError;

/// How long a ticket waits to be used.
pub const TICKET_SECONDS: i64 = 30;

/// A single-use ticket for a stream of the caller's working ledger, valid 30 seconds; the
/// stream it opens lives as long as `token` (the access token that asked for it). Only its
/// digest is stored.
pub fn issue_ticket(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let ticket = tokens::generate();
    let expires_at = Utc::now() + Duration::seconds(TICKET_SECONDS);
    events::insert_ticket(
        conn,
        &tokens::digest(&ticket),
        &Ticket {
            user_id: caller.id,
            ledger_id: caller.ledger.id,
            // A personal access token is not ended by the account's cut-off: the ticket keeps
            // the token's id instead, and the stream checks that the token still lives.
            token_issued_at: token.issued_at.unwrap_or(0),
            token_expires_at: token.expires_at,
            personal_token_id: token.personal_token,
            session_id: token.session,
        },
        expires_at,
    )?;
    Ok((ticket, expires_at))
}
