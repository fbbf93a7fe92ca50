//! Queries on `totp_credentials`, `recovery_codes` and `mfa_challenges`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{mfa_challenges, recovery_codes, totp_credentials, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = totp_credentials)]
pub struct Credential {
    pub secret: Vec<u8>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_step: Option<i64>,
}

/// The account's credential, locked until the transaction ends (so two codes checked at once
/// are checked one after the other, and the second cannot reuse the first one's step).
pub fn credential_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> QueryResult<Option<Credential>> {
    totp_credentials::table
        .find(user_id)
        .select(Credential::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn credential(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Option<Credential>> {
    totp_credentials::table
        .find(user_id)
        .select(Credential::as_select())
        .first(conn)
        .optional()
}

/// Starts (or restarts) an enrolment with a new secret; only while none is confirmed.
pub fn put_pending(conn: &mut PgConnection, user_id: Uuid, secret: &[u8]) -> QueryResult<()> {
    diesel::insert_into(totp_credentials::table)
        .values((
            totp_credentials::user_id.eq(user_id),
            totp_credentials::secret.eq(secret),
        ))
        .on_conflict(totp_credentials::user_id)
        .do_update()
        .set((
            totp_credentials::secret.eq(secret),
            totp_credentials::confirmed_at.eq(None::<DateTime<Utc>>),
            totp_credentials::last_step.eq(None::<i64>),
            totp_credentials::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(drop)
}

/// Records `step` as used (and the credential as confirmed, if it was pending).
pub fn use_step(conn: &mut PgConnection, user_id: Uuid, step: i64) -> QueryResult<()> {
    diesel::update(totp_credentials::table.find(user_id))
        .set((
            totp_credentials::last_step.eq(step),
            totp_credentials::confirmed_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("coalesce(confirmed_at, now())")),
        ))
        .execute(conn)
        .map(drop)
}

pub fn set_enabled(conn: &mut PgConnection, user_id: Uuid, enabled: bool) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::two_factor_enabled.eq(enabled),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets the credential, the recovery codes and open challenges. Whether there was one.
pub fn remove(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<bool> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(user_id)))
        .execute(conn)?;
    let removed = diesel::delete(totp_credentials::table.find(user_id)).execute(conn)?;
    Ok(removed > 0)
}

/// Replaces the account's recovery codes with these (digests).
pub fn replace_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    hashes: &[String],
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let rows: Vec<_> = hashes
        .iter()
        .map(|hash| {
            (
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(hash),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table)
        .values(rows)
        .execute(conn)
        .map(drop)
}

/// Spends a recovery code in one statement: it works once, even under concurrent use.
pub fn spend_recovery_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &str,
) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|n| n > 0)
}

pub fn recovery_codes_left(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

pub fn insert_challenge(
    conn: &mut PgConnection,
    token_hash: &str,
    user_id: Uuid,
    remember_me: bool,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(mfa_challenges::table)
        .values((
            mfa_challenges::token_hash.eq(token_hash),
            mfa_challenges::user_id.eq(user_id),
            mfa_challenges::remember_me.eq(remember_me),
            mfa_challenges::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// A live challenge: its user and whether the login asked to be remembered.
pub fn live_challenge(
    conn: &mut PgConnection,
    token_hash: &str,
) -> QueryResult<Option<(Uuid, bool)>> {
    mfa_challenges::table
        .find(token_hash)
        .filter(mfa_challenges::used_at.is_null())
        .filter(mfa_challenges::expires_at.gt(diesel::dsl::now))
        .select((mfa_challenges::user_id, mfa_challenges::remember_me))
        .first(conn)
        .optional()
}

/// Spends a challenge; false when it was spent (or expired) meanwhile.
pub fn spend_challenge(conn: &mut PgConnection, token_hash: &str) -> QueryResult<bool> {
    diesel::update(
        mfa_challenges::table
            .find(token_hash)
            .filter(mfa_challenges::used_at.is_null())
            .filter(mfa_challenges::expires_at.gt(diesel::dsl::now)),
    )
    .set(mfa_challenges::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|n| n > 0)
}

/// Forgets challenges that ended more than a day ago.
pub fn purge_challenges(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day'")
        .execute(conn)
}
