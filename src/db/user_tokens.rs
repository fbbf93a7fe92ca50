//! Queries on `user_tokens`: single-use mailed tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::user_tokens;

pub const PASSWORD_RESET: &str = "password_reset";
pub const EMAIL_VERIFICATION: &str = "email_verification";

pub fn insert(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(user_tokens::table)
        .values((
            user_tokens::user_id.eq(user_id),
            user_tokens::purpose.eq(purpose),
            user_tokens::token_hash.eq(token_hash),
            user_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How many tokens of `purpose` were made for the account since `since` (each one a mail).
pub fn made_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: &str,
    since: DateTime<Utc>,
) -> QueryResult<i64> {
    user_tokens::table
        .filter(user_tokens::user_id.eq(user_id))
        .filter(user_tokens::purpose.eq(purpose))
        .filter(user_tokens::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// Spends a live token in one statement (so it works once, even under concurrent use) and
/// returns its user.
/// Whether the token would be accepted now (without spending it).
pub fn is_live(conn: &mut PgConnection, token_hash: &str, purpose: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        user_tokens::table
            .filter(user_tokens::token_hash.eq(token_hash))
            .filter(user_tokens::purpose.eq(purpose))
            .filter(user_tokens::used_at.is_null())
            .filter(user_tokens::expires_at.gt(Utc::now())),
    ))
    .get_result(conn)
}

pub fn consume(
    conn: &mut PgConnection,
    token_hash: &str,
    purpose: &str,
) -> QueryResult<Option<Uuid>> {
    let now = Utc::now();
    diesel::update(
        user_tokens::table
            .filter(user_tokens::token_hash.eq(token_hash))
            .filter(user_tokens::purpose.eq(purpose))
            .filter(user_tokens::used_at.is_null())
            .filter(user_tokens::expires_at.gt(now)),
    )
    .set(user_tokens::used_at.eq(now))
    .returning(user_tokens::user_id)
    .get_result(conn)
    .optional()
}

/// Spends every outstanding token of `purpose` for the user.
pub fn spend_all(conn: &mut PgConnection, user_id: Uuid, purpose: &str) -> QueryResult<usize> {
    diesel::update(
        user_tokens::table
            .filter(user_tokens::user_id.eq(user_id))
            .filter(user_tokens::purpose.eq(purpose))
            .filter(user_tokens::used_at.is_null()),
    )
    .set(user_tokens::used_at.eq(Utc::now()))
    .execute(conn)
}

/// Forgets mailed tokens expired more than a day ago (spent or not: they live two days at most).
pub fn purge_dead(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM user_tokens WHERE expires_at < now() - interval '1 day'")
        .execute(conn)
}
