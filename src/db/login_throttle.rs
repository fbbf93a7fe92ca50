//! Consecutive failed logins per email address (registered or not) and lockouts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::schema::login_throttle;

#[derive(QueryableByName)]
struct Attempt {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    failed_count: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

/// The outcome of [`begin_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Refused without checking the password.
    Locked(DateTime<Utc>),
    /// Go on and check the password; this is the n-th unsettled attempt.
    Proceed(u32),
}

/// Counts an attempt *before* the password is checked, in one statement, so that a burst of
/// parallel guesses cannot slip past the threshold: at most `threshold` attempts per lock
/// window ever reach the password check. A success then calls [`clear`]; a failure
/// [`record_failure`].
pub fn begin_attempt(
    conn: &mut PgConnection,
    key: &str,
    threshold: u32,
    lockout: Duration,
) -> QueryResult<AttemptOutcome> {
    let attempt: Attempt = diesel::sql_query(
        "INSERT INTO login_throttle AS t (email, failed_count, updated_at) VALUES ($1, 1, now()) \
         ON CONFLICT (email) DO UPDATE SET \
            failed_count = CASE WHEN t.locked_until > now() THEN t.failed_count \
                                ELSE t.failed_count + 1 END, \
            locked_until = CASE WHEN t.locked_until > now() THEN t.locked_until END, \
            updated_at = now() \
         RETURNING failed_count, locked_until",
    )
    .bind::<Text, _>(key)
    .get_result(conn)?;
    if let Some(until) = attempt.locked_until {
        return Ok(AttemptOutcome::Locked(until));
    }
    let count = attempt.failed_count.max(0) as u32;
    if count > threshold {
        return lock(conn, key, lockout).map(AttemptOutcome::Locked);
    }
    Ok(AttemptOutcome::Proceed(count))
}

/// A failed password check. At `threshold` consecutive failures the address is locked for
/// `lockout`; returns the lock's end when this failure caused one.
pub fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    attempt: u32,
    threshold: u32,
    lockout: Duration,
) -> QueryResult<Option<DateTime<Utc>>> {
    if attempt >= threshold {
        return lock(conn, key, lockout).map(Some);
    }
    Ok(None)
}

/// Locks the address. An upsert: a successful login of the same address at the same moment may
/// have just cleared its row (an UPDATE then found nothing, and the login answered 404).
fn lock(conn: &mut PgConnection, key: &str, lockout: Duration) -> QueryResult<DateTime<Utc>> {
    diesel::sql_query(
        "INSERT INTO login_throttle AS t (email, failed_count, locked_until, updated_at) \
         VALUES ($1, 0, now() + make_interval(secs => $2), now()) \
         ON CONFLICT (email) DO UPDATE SET \
            locked_until = now() + make_interval(secs => $2), failed_count = 0, \
            updated_at = now() \
         RETURNING failed_count, locked_until",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(lockout.as_secs() as i32)
    .get_result::<Attempt>(conn)
    .map(|row| row.locked_until.unwrap_or_else(Utc::now))
}

/// A right password that settles nothing yet (its account's code is still to come, or asked
/// elsewhere): its own attempt no longer counts, the failures before it still do.
pub fn undo_attempt(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE login_throttle SET failed_count = greatest(failed_count - 1, 0) \
         WHERE email = $1 AND (locked_until IS NULL OR locked_until <= now())",
    )
    .bind::<Text, _>(key)
    .execute(conn)
    .map(drop)
}

/// A successful login (or a deleted account) forgets the failures.
pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(key))
        .execute(conn)
        .map(|_| ())
}

/// Forgets failures after a day without attempts (and ended locks): failures count as
/// consecutive only within a day.
pub fn purge_idle(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM login_throttle WHERE updated_at < now() - interval '1 day' \
         AND (locked_until IS NULL OR locked_until < now())",
    )
    .execute(conn)
}
