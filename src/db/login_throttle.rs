//! Consecutive failed logins per email address (registered or not) and lockouts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::schema::login_throttle;

/// When the address is locked, until when.
pub fn locked_until(conn: &mut PgConnection, key: &str) -> QueryResult<Option<DateTime<Utc>>> {
    let until: Option<Option<DateTime<Utc>>> = login_throttle::table
        .find(key)
        .select(login_throttle::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|until| *until > Utc::now()))
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
}

/// Counts a failure; at `threshold` consecutive failures the address is locked for `lockout`
/// and the count starts again. Returns the new lock's end when this failure caused one.
pub fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    threshold: u32,
    lockout: Duration,
) -> QueryResult<Option<DateTime<Utc>>> {
    let outcome: Outcome = diesel::sql_query(
        "INSERT INTO login_throttle AS t (email, failed_count, updated_at) VALUES ($1, 1, now()) \
         ON CONFLICT (email) DO UPDATE SET failed_count = t.failed_count + 1, updated_at = now() \
         RETURNING CASE WHEN t.failed_count >= $2 THEN now() + make_interval(secs => $3) END \
                   AS locked_until",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(threshold as i32)
    .bind::<Integer, _>(lockout.as_secs() as i32)
    .get_result(conn)?;
    if let Some(until) = outcome.locked_until {
        diesel::update(login_throttle::table.find(key))
            .set((
                login_throttle::locked_until.eq(until),
                login_throttle::failed_count.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(outcome.locked_until)
}

/// A successful login (or a deleted account) forgets the failures.
pub fn clear(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(key))
        .execute(conn)
        .map(|_| ())
}
