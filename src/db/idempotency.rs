//! Stored answers to POST requests sent with an `Idempotency-Key`.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::idempotency_keys;

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Claim {
    /// First use of the key: handle the request, then `complete` (or `release`).
    Fresh,
    /// Answered before: send this again.
    Replay {
        status: u16,
        headers: serde_json::Value,
        body: Vec<u8>,
    },
    /// The first request with this key is still being handled.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// The principal of requests made with a user's access token.
pub fn user_principal(user_id: uuid::Uuid) -> String {
    format!("user:{user_id}")
}

/// Forgets every stored answer of a principal (its account is being deleted).
pub fn forget_principal(conn: &mut PgConnection, principal: &str) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::principal.eq(principal)))
        .execute(conn)
}

/// Forgets answers older than the 24 hours they are kept for (the background job's sweep).
pub fn purge_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
        .execute(conn)
}

/// Keys are remembered for 24 hours.
pub fn claim(
    conn: &mut PgConnection,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<Claim> {
    diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 \
         AND created_at < now() - interval '24 hours'",
    )
    .bind::<Text, _>(principal)
    .bind::<Text, _>(key)
    .execute(conn)?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal.eq(principal),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (stored_hash, status, headers, body): (
        String,
        Option<i32>,
        Option<serde_json::Value>,
        Option<Vec<u8>>,
    ) = idempotency_keys::table
        .find((principal, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
        ))
        .first(conn)?;
    if stored_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    // A claim whose request never finished (connection dropped, server stopped) lapses.
    if status.is_none() {
        let retaken = diesel::sql_query(
            "UPDATE idempotency_keys SET created_at = now() WHERE principal = $1 AND key = $2 \
             AND status_code IS NULL AND created_at < now() - interval '60 seconds'",
        )
        .bind::<Text, _>(principal)
        .bind::<Text, _>(key)
        .execute(conn)?;
        if retaken == 1 {
            return Ok(Claim::Fresh);
        }
    }
    Ok(match status {
        None => Claim::InProgress,
        Some(status) => Claim::Replay {
            status: status as u16,
            headers: headers.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
    })
}

pub fn complete(
    conn: &mut PgConnection,
    principal: &str,
    key: &str,
    status: u16,
    headers: serde_json::Value,
    body: &[u8],
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::status_code.eq(i32::from(status)),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Forgets the key (the request failed on our side; a retry may try again).
pub fn release(conn: &mut PgConnection, principal: &str, key: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((principal, key)))
        .execute(conn)
        .map(|_| ())
}
