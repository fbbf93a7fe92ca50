//! Queries on `personal_access_tokens`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct PersonalToken {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub hint: String,
    #[diesel(sql_type = Array<Text>)]
    pub scopes: Vec<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_used_ip: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, hint, scopes, expires_at, last_used_at, last_used_ip, created_at";

pub struct NewToken<'a> {
    pub user_id: Uuid,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub hint: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, new: &NewToken) -> QueryResult<PersonalToken> {
    diesel::sql_query(format!(
        "INSERT INTO personal_access_tokens (user_id, name, token_hash, hint, scopes, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(new.user_id)
    .bind::<Text, _>(new.name)
    .bind::<Text, _>(new.token_hash)
    .bind::<Text, _>(new.hint)
    .bind::<Array<Text>, _>(new.scopes)
    .bind::<Nullable<Timestamptz>, _>(new.expires_at)
    .get_result(conn)
}

/// The user's tokens that have not expired, oldest first.
pub fn list(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<PersonalToken>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM personal_access_tokens \
         WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > now()) \
         ORDER BY created_at, id"
    ))
    .bind::<SqlUuid, _>(user)
    .load(conn)
}

pub fn count(conn: &mut PgConnection, user: Uuid) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM personal_access_tokens \
         WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind::<SqlUuid, _>(user)
    .get_result::<Count>(conn)
    .map(|c| c.n)
}

pub fn delete(conn: &mut PgConnection, user: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::sql_query("DELETE FROM personal_access_tokens WHERE user_id = $1 AND id = $2")
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .map(|n| n > 0)
}

pub fn delete_all(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM personal_access_tokens WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
}

/// A live token as a request presents it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Presented {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    pub scopes: Vec<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub expires_at: Option<i64>,
}

/// The live token with this digest, noting its use (at most once a minute per address, so a
/// busy script does not write on every request).
pub fn present(
    conn: &mut PgConnection,
    token_hash: &str,
    ip: Option<&str>,
) -> QueryResult<Option<Presented>> {
    diesel::sql_query(
        "WITH found AS (SELECT id, user_id, scopes, expires_at FROM personal_access_tokens \
                        WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > now())), \
              touched AS (UPDATE personal_access_tokens p \
                          SET last_used_at = now(), last_used_ip = $2 FROM found \
                          WHERE p.id = found.id \
                            AND (p.last_used_at IS NULL \
                                 OR p.last_used_at < now() - interval '1 minute' \
                                 OR p.last_used_ip IS DISTINCT FROM $2)) \
         SELECT id, user_id, scopes, extract(epoch FROM expires_at)::bigint AS expires_at \
         FROM found",
    )
    .bind::<Text, _>(token_hash)
    .bind::<Nullable<Text>, _>(ip)
    .get_result(conn)
    .optional()
}

/// Whether the token still works (for streams opened with it).
pub fn is_live(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Live {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        live: bool,
    }
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM personal_access_tokens WHERE id = $1 \
                        AND (expires_at IS NULL OR expires_at > now())) AS live",
    )
    .bind::<SqlUuid, _>(id)
    .get_result::<Live>(conn)
    .map(|l| l.live)
}
