//! Queries on `rate_limits` (see `auth::rate_limit` for the algorithm).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::prepared::Prepared;
use super::users::AccessRow;
use crate::auth::rate_limit::Hit;

/// The upsert that counts one request against bucket `$1`, whose requests are `$2` seconds
/// apart at the steady rate, over a window of `$3` seconds. A refused request leaves the
/// bucket as it was. `SET` reads the row as it was before this statement, throughout.
macro_rules! count_hit {
    () => {
        "INSERT INTO rate_limits AS r (key, tat, allowed) \
         VALUES ($1, now() + make_interval(secs => $2), true) \
         ON CONFLICT (key) DO UPDATE SET \
            allowed = greatest(r.tat, now()) + make_interval(secs => $2) \
                      <= now() + make_interval(secs => $3), \
            tat = CASE WHEN greatest(r.tat, now()) + make_interval(secs => $2) \
                            <= now() + make_interval(secs => $3) \
                       THEN greatest(r.tat, now()) + make_interval(secs => $2) \
                       ELSE r.tat END \
         RETURNING allowed, extract(epoch FROM tat - now())::float8 AS ahead"
    };
}

#[derive(QueryableByName)]
struct HitRow {
    #[diesel(sql_type = Bool)]
    allowed: bool,
    #[diesel(sql_type = Double)]
    ahead: f64,
}

impl From<HitRow> for Hit {
    fn from(row: HitRow) -> Hit {
        Hit {
            allowed: row.allowed,
            ahead_secs: row.ahead,
        }
    }
}

/// Counts one request against `key`.
pub fn hit(conn: &mut PgConnection, key: &str, interval: f64, window: f64) -> QueryResult<Hit> {
    Prepared(
        diesel::sql_query(count_hit!())
            .bind::<Text, _>(key)
            .bind::<Double, _>(interval)
            .bind::<Double, _>(window),
    )
    .get_result::<HitRow>(conn)
    .map(Hit::from)
}

#[derive(QueryableByName)]
struct CountedAccess {
    #[diesel(sql_type = Bool)]
    allowed: bool,
    #[diesel(sql_type = Double)]
    ahead: f64,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    email_verified_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    tokens_valid_after: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    timezone: Option<String>,
}

/// `users::access` and [`hit`] in one statement: what a signed-in request costs the database.
pub fn access_counted(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    interval: f64,
    window: f64,
) -> QueryResult<(Hit, Option<AccessRow>)> {
    let row: CountedAccess = Prepared(
        diesel::sql_query(concat!(
            "WITH hit AS (",
            count_hit!(),
            ") SELECT hit.allowed, hit.ahead, u.role, u.status, u.email_verified_at, \
                      u.tokens_valid_after, u.currency, u.timezone \
               FROM hit LEFT JOIN users u ON u.id = $4"
        ))
        .bind::<Text, _>(key)
        .bind::<Double, _>(interval)
        .bind::<Double, _>(window)
        .bind::<SqlUuid, _>(user),
    )
    .get_result(conn)?;
    let hit = Hit {
        allowed: row.allowed,
        ahead_secs: row.ahead,
    };
    let account = match (
        row.role,
        row.status,
        row.tokens_valid_after,
        row.currency,
        row.timezone,
    ) {
        (Some(role), Some(status), Some(tokens_valid_after), Some(currency), Some(timezone)) => {
            Some(AccessRow {
                role,
                status,
                email_verified_at: row.email_verified_at,
                tokens_valid_after,
                currency,
                timezone,
            })
        }
        _ => None,
    };
    Ok((hit, account))
}

/// Forgets buckets that are full again (their time has passed): they behave as absent ones.
pub fn prune(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM rate_limits WHERE tat < now()").execute(conn)
}
