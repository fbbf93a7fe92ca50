//! Queries on `users`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use uuid::Uuid;

use super::schema::{mfa_challenges, users};
use crate::domain::user::{Role, UserStatus};

diesel::define_sql_function! {
    fn lower(x: Text) -> Text;
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub status: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub tokens_valid_after: DateTime<Utc>,
    pub currency: String,
    pub language: String,
    pub theme: String,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub two_factor_enabled: bool,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }

    pub fn status(&self) -> UserStatus {
        UserStatus::parse(&self.status).unwrap_or(UserStatus::Disabled)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// Only the `Some` fields change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChangeset {
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub tokens_valid_after: Option<DateTime<Utc>>,
    pub currency: Option<String>,
    pub language: Option<String>,
    pub theme: Option<String>,
    pub timezone: Option<String>,
}

/// Creates the account with its personal ledger (which has the account's id).
pub fn insert(conn: &mut PgConnection, user: &NewUser) -> QueryResult<User> {
    conn.transaction(|conn| {
        let created: User = diesel::insert_into(users::table)
            .values(user)
            .returning(User::as_returning())
            .get_result(conn)?;
        super::ledgers::insert(
            conn,
            &super::ledgers::NewLedger {
                id: created.id,
                kind: "personal",
                name: "Personal",
                currency: &created.currency,
            },
            created.id,
        )?;
        Ok(created)
    })
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// `key` is `Email::key()`: the address lower-cased.
pub fn find_by_email(conn: &mut PgConnection, key: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(lower(users::email).eq(key))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// What the per-request token check needs to know about an account, as stored.
#[derive(Debug, Clone, QueryableByName)]
pub struct AccessRow {
    #[diesel(sql_type = Text)]
    pub role: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub email_verified_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub tokens_valid_after: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub timezone: String,
    /// Whether the login session the token was issued in is still on (true without one).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub session_live: bool,
}

/// The columns of [`AccessRow`] from `users u`, with `session` the parameter that holds the
/// token's session (or null): a session is over once a token of its family was revoked
/// (logout, ended from the sessions list, theft detected, password change), which a partial
/// index answers in one probe.
pub fn access_columns(session: &str) -> String {
    format!(
        "u.role, u.status, u.email_verified_at, u.tokens_valid_after, u.currency, u.timezone, \
         ({session}::uuid IS NULL OR NOT EXISTS (SELECT 1 FROM refresh_tokens e \
            WHERE e.family_id = {session}::uuid AND e.revoked_at IS NOT NULL)) AS session_live"
    )
}

pub fn access(
    conn: &mut PgConnection,
    id: Uuid,
    session: Option<Uuid>,
) -> QueryResult<Option<AccessRow>> {
    super::prepared::Prepared(
        diesel::sql_query(format!(
            "SELECT {} FROM users u WHERE u.id = $1",
            access_columns("$2")
        ))
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(session),
    )
    .get_result(conn)
    .optional()
}

/// Queues what an account does that is counted per account (mails sent, invitations) until
/// this transaction ends, so that requests at the same moment count each other.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    users::table
        .find(id)
        .select(users::id)
        .for_no_key_update()
        .first::<Uuid>(conn)
        .optional()
        .map(drop)
}

/// Refuses every access token issued so far. Tokens carry whole seconds, so the cut-off moves
/// to the next whole second (and always forward, even for two revocations within one second),
/// and tokens issued from now on are dated no earlier than it (see `auth::session::issue`).
/// Logins waiting for their second factor end too: a password reset or "log out everywhere"
/// must not leave a challenge opened with the old password to finish (an outside test did, with
/// a phished code). Returns the cut-off.
pub fn revoke_access_tokens(conn: &mut PgConnection, id: Uuid) -> QueryResult<DateTime<Utc>> {
    diesel::update(
        mfa_challenges::table
            .filter(mfa_challenges::user_id.eq(id))
            .filter(mfa_challenges::used_at.is_null()),
    )
    .set(mfa_challenges::used_at.eq(diesel::dsl::now))
    .execute(conn)?;
    diesel::update(users::table.find(id))
        .set(
            users::tokens_valid_after.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second'",
            )),
        )
        .returning(users::tokens_valid_after)
        .get_result(conn)
}

/// Queues every change of the set of admins until this transaction ends, so that two admins
/// demoting each other at once are seen one after the other.
pub fn lock_admins(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('finai-admins', 0))")
        .execute(conn)
        .map(drop)
}

/// Whether an active admin other than `leaving` remains (ask under [`lock_admins`]).
pub fn other_active_admins(conn: &mut PgConnection, leaving: Uuid) -> QueryResult<bool> {
    let others: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .filter(users::id.ne(leaving))
        .select(count_star())
        .get_result(conn)?;
    Ok(others > 0)
}

/// Changes the account; its personal ledger keeps the account's currency.
pub fn update(conn: &mut PgConnection, id: Uuid, changes: &UserChangeset) -> QueryResult<User> {
    conn.transaction(|conn| {
        let user: User = diesel::update(users::table.find(id))
            .set(changes)
            .returning(User::as_returning())
            .get_result(conn)?;
        if changes.currency.is_some() {
            super::ledgers::follow_account_currency(conn, id, &user.currency)?;
        }
        Ok(user)
    })
}

/// Deletes the account; its personal ledger goes with it (a trigger sees to that, whatever
/// deletes the account). Shared ledgers it was the only member of must be gone already
/// (`services::sharing::leave_all` decides). Stored idempotent answers hold the user's data too
/// but are keyed by principal, not by a foreign key, so they go explicitly.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    super::idempotency::forget_principal(conn, &super::idempotency::user_principal(id))?;
    diesel::delete(users::table.find(id)).execute(conn)
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

/// A page of users, newest first, and the total matching the filter.
pub fn list(
    conn: &mut PgConnection,
    filter: &UserFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<User>, i64)> {
    let query = || {
        let mut query = users::table.into_boxed();
        if let Some(q) = &filter.q {
            let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
            query = query.filter(
                lower(users::email)
                    .like(pattern.clone())
                    .or(lower(users::name).like(pattern)),
            );
        }
        if let Some(role) = filter.role {
            query = query.filter(users::role.eq(role.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter(users::status.eq(status.as_str()));
        }
        query
    };
    let total = query().select(count_star()).first(conn)?;
    let rows = query()
        .select(User::as_select())
        .order((users::created_at.desc(), users::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[derive(Debug, QueryableByName)]
pub struct GroupCount {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(Debug, QueryableByName)]
pub struct DayCount {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

pub fn count_by_role(conn: &mut PgConnection) -> QueryResult<Vec<GroupCount>> {
    diesel::sql_query(
        "SELECT role AS key, count(*) AS count FROM users GROUP BY role ORDER BY role",
    )
    .load(conn)
}

pub fn count_by_status(conn: &mut PgConnection) -> QueryResult<Vec<GroupCount>> {
    diesel::sql_query(
        "SELECT status AS key, count(*) AS count FROM users GROUP BY status ORDER BY status",
    )
    .load(conn)
}

/// Sign-ups per UTC day for the `days` days ending `today`, zeros included.
pub fn signups_per_day(
    conn: &mut PgConnection,
    today: NaiveDate,
    days: i32,
) -> QueryResult<Vec<DayCount>> {
    diesel::sql_query(
        "SELECT d::date AS day, count(u.id) AS count \
         FROM generate_series($1::date - ($2 - 1), $1::date, interval '1 day') AS d \
         LEFT JOIN users u ON (u.created_at AT TIME ZONE 'UTC')::date = d::date \
         GROUP BY d ORDER BY d",
    )
    .bind::<Date, _>(today)
    .bind::<diesel::sql_types::Integer, _>(days)
    .load(conn)
}
