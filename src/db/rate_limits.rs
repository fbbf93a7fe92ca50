//! Queries on `rate_limits` (see `auth::rate_limit` for the algorithm).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::prepared::Prepared;
use super::users::AccessRow;
use crate::auth::rate_limit::Hit;

/// The upsert that takes up to `$4` requests at once from bucket `$1`, whose requests are `$2`
/// seconds apart at the steady rate, over a window of `$3` seconds: as many as fit (none when
/// the bucket is spent, which leaves it as it was). `SET` reads the row as it was before this
/// statement, throughout.
macro_rules! count_hit {
    () => {
        "INSERT INTO rate_limits AS r (key, tat, allowed, granted) \
         VALUES ($1, now() + make_interval(secs => $2 * least($4::float8, floor($3 / $2 + 1e-9))), \
                 true, least($4::float8, floor($3 / $2 + 1e-9))::int) \
         ON CONFLICT (key) DO UPDATE SET \
            granted = greatest(0, least($4::float8, floor( \
                (extract(epoch FROM now() - greatest(r.tat, now())) + $3) / $2 + 1e-9)))::int, \
            allowed = least($4::float8, floor( \
                (extract(epoch FROM now() - greatest(r.tat, now())) + $3) / $2 + 1e-9)) >= 1, \
            tat = greatest(r.tat, now()) + make_interval(secs => $2 * greatest(0, least($4::float8, \
                floor((extract(epoch FROM now() - greatest(r.tat, now())) + $3) / $2 + 1e-9)))) \
         RETURNING granted, extract(epoch FROM tat - now())::float8 AS ahead"
    };
}

#[derive(QueryableByName)]
struct HitRow {
    #[diesel(sql_type = Integer)]
    granted: i32,
    #[diesel(sql_type = Double)]
    ahead: f64,
}

impl From<HitRow> for Hit {
    fn from(row: HitRow) -> Hit {
        Hit {
            granted: row.granted.max(0) as u32,
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
            .bind::<Double, _>(window)
            .bind::<Integer, _>(1),
    )
    .get_result::<HitRow>(conn)
    .map(Hit::from)
}

#[derive(QueryableByName)]
struct CountedAccess {
    #[diesel(sql_type = Integer)]
    granted: i32,
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
    #[diesel(sql_type = Nullable<Bool>)]
    session_live: Option<bool>,
}

/// `users::access` and [`hit`] in one statement, taking up to `want` requests from the bucket:
/// what a signed-in request costs the database.
pub fn access_counted(
    conn: &mut PgConnection,
    user: Uuid,
    session: Option<Uuid>,
    key: &str,
    interval: f64,
    window: f64,
    want: u32,
) -> QueryResult<(Hit, Option<AccessRow>)> {
    let row: CountedAccess = Prepared(
        diesel::sql_query(format!(
            "WITH hit AS ({}) SELECT hit.granted, hit.ahead, {} \
             FROM hit LEFT JOIN users u ON u.id = $5",
            count_hit!(),
            super::users::access_columns("$6")
        ))
        .bind::<Text, _>(key)
        .bind::<Double, _>(interval)
        .bind::<Double, _>(window)
        .bind::<Integer, _>(i32::try_from(want).unwrap_or(i32::MAX))
        .bind::<SqlUuid, _>(user)
        .bind::<Nullable<SqlUuid>, _>(session),
    )
    .get_result(conn)?;
    let hit = Hit {
        granted: row.granted.max(0) as u32,
        ahead_secs: row.ahead,
    };
    let account = match (
        row.role,
        row.status,
        row.tokens_valid_after,
        row.currency,
        row.timezone,
        row.session_live,
    ) {
        (
            Some(role),
            Some(status),
            Some(tokens_valid_after),
            Some(currency),
            Some(timezone),
            Some(session_live),
        ) => Some(AccessRow {
            role,
            status,
            email_verified_at: row.email_verified_at,
            tokens_valid_after,
            currency,
            timezone,
            session_live,
        }),
        _ => None,
    };
    Ok((hit, account))
}

/// Forgets buckets that are full again (their time has passed): they behave as absent ones.
pub fn prune(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM rate_limits WHERE tat < now()").execute(conn)
}
