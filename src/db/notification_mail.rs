//! Queries on `notification_preferences` and `notification_mails`: who wants which
//! notifications by email, and which were mailed (each once per recipient).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Time, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct Preferences {
    #[diesel(sql_type = Array<Text>)]
    pub email_types: Vec<String>,
    #[diesel(sql_type = Text)]
    pub email_mode: String,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_start: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_end: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "email_types, email_mode, quiet_start, quiet_end, updated_at";

pub fn get(conn: &mut PgConnection, user: Uuid) -> QueryResult<Option<Preferences>> {
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM notification_preferences WHERE user_id = $1"
    ))
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .optional()
}

/// Replaces the user's preferences. A change of types starts mailing from now: choosing a type
/// never mails the notifications of it that came before.
pub fn put(
    conn: &mut PgConnection,
    user: Uuid,
    types: &[String],
    mode: &str,
    quiet: Option<(NaiveTime, NaiveTime)>,
) -> QueryResult<Preferences> {
    diesel::sql_query(format!(
        "INSERT INTO notification_preferences (user_id, email_types, email_mode, quiet_start, \
                                               quiet_end) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET \
             email_types = EXCLUDED.email_types, email_mode = EXCLUDED.email_mode, \
             quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, \
             mail_since = CASE WHEN notification_preferences.email_types \
                                    IS DISTINCT FROM EXCLUDED.email_types \
                               THEN now() ELSE notification_preferences.mail_since END \
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Array<Text>, _>(types)
    .bind::<Text, _>(mode)
    .bind::<Nullable<Time>, _>(quiet.map(|q| q.0))
    .bind::<Nullable<Time>, _>(quiet.map(|q| q.1))
    .get_result(conn)
}

/// A notification waiting to be mailed to one member of its ledger.
#[derive(Debug, Clone, QueryableByName)]
pub struct Waiting {
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub notification_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub timezone: String,
    #[diesel(sql_type = Text)]
    pub email_mode: String,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_start: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Time>)]
    pub quiet_end: Option<NaiveTime>,
    #[diesel(sql_type = Nullable<Date>)]
    pub last_digest_on: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Text)]
    pub priority: String,
    #[diesel(sql_type = Text)]
    pub ledger_name: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Notifications of the last week that members asked for by email and did not get yet, by
/// recipient, oldest first.
pub fn waiting(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Waiting>> {
    diesel::sql_query(
        "SELECT n.ledger_id, n.id AS notification_id, p.user_id, u.email, u.timezone, p.email_mode, \
                p.quiet_start, p.quiet_end, p.last_digest_on, n.title, n.body, n.priority, \
                l.name AS ledger_name, n.created_at \
         FROM notification_preferences p \
         JOIN users u ON u.id = p.user_id AND u.status = 'active' \
         JOIN ledger_members m ON m.user_id = p.user_id \
         JOIN ledgers l ON l.id = m.ledger_id \
         JOIN notifications n ON n.ledger_id = m.ledger_id \
              AND n.type = ANY(p.email_types) \
              AND n.created_at >= p.mail_since \
              AND n.created_at > now() - interval '7 days' \
         WHERE NOT EXISTS (SELECT 1 FROM notification_mails x \
                           WHERE x.ledger_id = n.ledger_id AND x.notification_id = n.id \
                             AND x.user_id = p.user_id) \
         ORDER BY p.user_id, n.created_at, n.id \
         LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Claims notifications (ledger and id) for mailing to `user`; returns those this call claimed
/// (another instance may have taken some).
pub fn claim(
    conn: &mut PgConnection,
    user: Uuid,
    notifications: &[(Uuid, Uuid)],
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = SqlUuid)]
        notification_id: Uuid,
    }
    diesel::sql_query(
        "INSERT INTO notification_mails (ledger_id, notification_id, user_id) \
         SELECT unnest($2::uuid[]), unnest($3::uuid[]), $1 \
         ON CONFLICT DO NOTHING RETURNING notification_id",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<SqlUuid>, _>(notifications.iter().map(|n| n.0).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(notifications.iter().map(|n| n.1).collect::<Vec<_>>())
    .load::<Claimed>(conn)
    .map(|rows| rows.into_iter().map(|r| r.notification_id).collect())
}

/// Gives claims back (the mail could not be sent: the next run tries again).
pub fn release(conn: &mut PgConnection, user: Uuid, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM notification_mails WHERE user_id = $1 AND notification_id = ANY($2)",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(conn)
}

pub fn digest_sent(conn: &mut PgConnection, user: Uuid, day: NaiveDate) -> QueryResult<()> {
    diesel::sql_query("UPDATE notification_preferences SET last_digest_on = $2 WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .bind::<Date, _>(day)
        .execute(conn)
        .map(drop)
}
