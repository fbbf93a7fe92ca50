//! Queries on `refresh_tokens`: one family per login, one live token per family.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::refresh_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub remember_me: bool,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: &'a str,
    pub remember_me: bool,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub fn insert(conn: &mut PgConnection, token: &NewRefreshToken) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(token)
        .execute(conn)
        .map(|_| ())
}

/// Serialises every change to one account's sessions (a refresh, a logout, a detected reuse,
/// ending every session) until the transaction ends: a family revoked while one of its tokens
/// is being rotated also loses the token the rotation issues.
pub fn lock_sessions(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('finai-sessions:' || $1::text, 0))",
    )
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .execute(conn)
    .map(drop)
}

/// The token with this hash, locked, after its account's session lock (see [`lock_sessions`]).
pub fn find_locked(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<RefreshToken>> {
    let owner: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(refresh_tokens::user_id)
        .first(conn)
        .optional()?;
    let Some(owner) = owner else {
        return Ok(None);
    };
    lock_sessions(conn, owner)?;
    // Read again under the lock: a revocation that committed meanwhile is seen.
    find_for_update(conn, token_hash)
}

/// Locks the row so that two refreshes with one token cannot both succeed.
fn find_for_update(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn mark_used(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::used_at.eq(Utc::now()))
        .execute(conn)
        .map(|_| ())
}

/// Revokes a family; returns how many sessions (families) this ended: 0 or 1.
pub fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> QueryResult<usize> {
    let families: Vec<Uuid> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .returning(refresh_tokens::family_id)
    .get_results(conn)?;
    Ok(distinct(families))
}

/// Revokes every session of the user; returns how many sessions this ended.
pub fn revoke_all_for_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    lock_sessions(conn, user_id)?;
    let families: Vec<Uuid> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .returning(refresh_tokens::family_id)
    .get_results(conn)?;
    Ok(distinct(families))
}

/// Revokes every session of the user but `keep`; returns how many sessions this ended.
pub fn revoke_others(conn: &mut PgConnection, user_id: Uuid, keep: Uuid) -> QueryResult<usize> {
    lock_sessions(conn, user_id)?;
    let families: Vec<Uuid> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::family_id.ne(keep))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .returning(refresh_tokens::family_id)
    .get_results(conn)?;
    Ok(distinct(families))
}

fn distinct(mut families: Vec<Uuid>) -> usize {
    families.sort_unstable();
    families.dedup();
    families.len()
}

/// Forgets sessions that expired more than a day ago (revoked ones are kept until then, so a
/// stolen token's reuse is still recognised): a token of theirs is refused as unknown just as
/// it was refused as expired.
pub fn purge_ended(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'")
        .execute(conn)
}

/// A live session: a family with a token that can still be refreshed.
#[derive(Debug, Clone, QueryableByName)]
pub struct LiveSession {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub family_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub refreshed_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub user_agent: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub ip: Option<String>,
}

/// The user's live sessions, most recently refreshed first.
pub fn live_sessions(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<LiveSession>> {
    diesel::sql_query(
        "SELECT live.family_id, \
                (SELECT min(f.created_at) FROM refresh_tokens f \
                 WHERE f.family_id = live.family_id) AS started_at, \
                live.created_at AS refreshed_at, live.expires_at, live.user_agent, live.ip \
         FROM refresh_tokens live \
         WHERE live.user_id = $1 AND live.revoked_at IS NULL AND live.used_at IS NULL \
           AND live.expires_at > now() \
         ORDER BY live.created_at DESC, live.family_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .load(conn)
}

/// Ends one of the user's live sessions; false if it has none by that id.
pub fn end_session(conn: &mut PgConnection, user_id: Uuid, family_id: Uuid) -> QueryResult<bool> {
    lock_sessions(conn, user_id)?;
    let ended = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(Utc::now())),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)?;
    if ended > 0 {
        revoke_family(conn, family_id)?;
    }
    Ok(ended > 0)
}
