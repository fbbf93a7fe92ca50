//! Queries on `webhooks` and `webhook_deliveries`: a ledger's endpoints, and the delivery
//! queue the dispatchers of every instance share (`FOR UPDATE SKIP LOCKED`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct Webhook {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub event_types: Vec<String>,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub disabled_reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub failing_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const WEBHOOK_COLUMNS: &str = "id, ledger_id, url, description, event_types, active, \
                               disabled_reason, failing_since, created_at, updated_at";

#[derive(Debug, Clone, QueryableByName)]
pub struct Delivery {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub event_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    pub response_status: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub latency_ms: Option<i32>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLUMNS: &str = "id, event_id, event_type, status, attempts, response_status, \
                                error, latency_ms, created_at, last_attempt_at, \
                                next_attempt_at, delivered_at";

pub struct NewWebhook<'a> {
    pub ledger_id: Uuid,
    pub created_by: Uuid,
    pub url: &'a str,
    pub description: Option<&'a str>,
    pub event_types: &'a [String],
    pub secret: &'a str,
}

/// Registers a webhook; it hears the ledger's events from now on.
pub fn insert(conn: &mut PgConnection, new: &NewWebhook) -> QueryResult<Webhook> {
    diesel::sql_query(format!(
        "INSERT INTO webhooks (ledger_id, created_by, url, description, event_types, secret, \
                               last_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, \
                 (SELECT COALESCE(max(seq), 0) FROM events WHERE ledger_id = $1)) \
         RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(new.ledger_id)
    .bind::<SqlUuid, _>(new.created_by)
    .bind::<Text, _>(new.url)
    .bind::<Nullable<Text>, _>(new.description)
    .bind::<Array<Text>, _>(new.event_types)
    .bind::<Text, _>(new.secret)
    .get_result(conn)
}

pub fn count(conn: &mut PgConnection, ledger: Uuid) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM webhooks WHERE ledger_id = $1")
        .bind::<SqlUuid, _>(ledger)
        .get_result::<Count>(conn)
        .map(|c| c.n)
}

pub fn list(conn: &mut PgConnection, ledger: Uuid) -> QueryResult<Vec<Webhook>> {
    diesel::sql_query(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ledger_id = $1 ORDER BY created_at, id"
    ))
    .bind::<SqlUuid, _>(ledger)
    .load(conn)
}

pub fn find(conn: &mut PgConnection, ledger: Uuid, id: Uuid) -> QueryResult<Option<Webhook>> {
    diesel::sql_query(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ledger_id = $1 AND id = $2"
    ))
    .bind::<SqlUuid, _>(ledger)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()
}

/// What a PATCH changes; `None` keeps the field.
pub struct WebhookChanges<'a> {
    pub url: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub event_types: Option<&'a [String]>,
    pub active: Option<bool>,
}

/// Applies `changes`. Enabling a disabled webhook clears its failure record and starts it at
/// the log's present: what happened while it was off is not sent.
pub fn update(
    conn: &mut PgConnection,
    ledger: Uuid,
    id: Uuid,
    changes: &WebhookChanges,
) -> QueryResult<Option<Webhook>> {
    let enabling = changes.active == Some(true);
    diesel::sql_query(format!(
        "UPDATE webhooks SET \
             url = COALESCE($3, url), \
             description = CASE WHEN $4 THEN $5 ELSE description END, \
             event_types = COALESCE($6, event_types), \
             last_seq = CASE WHEN $8 AND NOT active \
                             THEN GREATEST(last_seq, (SELECT COALESCE(max(seq), 0) FROM events \
                                                      WHERE ledger_id = $1)) \
                             ELSE last_seq END, \
             disabled_reason = CASE WHEN $8 THEN NULL \
                                    WHEN $7 = false THEN 'disabled by a member' \
                                    ELSE disabled_reason END, \
             failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END, \
             active = COALESCE($7, active) \
         WHERE ledger_id = $1 AND id = $2 \
         RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(ledger)
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(changes.url)
    .bind::<Bool, _>(changes.description.is_some())
    .bind::<Nullable<Text>, _>(changes.description.flatten())
    .bind::<Nullable<Array<Text>>, _>(changes.event_types)
    .bind::<Nullable<Bool>, _>(changes.active)
    .bind::<Bool, _>(enabling)
    .get_result(conn)
    .optional()
}

pub fn delete(conn: &mut PgConnection, ledger: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::sql_query("DELETE FROM webhooks WHERE ledger_id = $1 AND id = $2")
        .bind::<SqlUuid, _>(ledger)
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .map(|n| n > 0)
}

/// Queues a ping for the webhook.
pub fn insert_ping(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    webhook: Uuid,
    body: &serde_json::Value,
) -> QueryResult<Delivery> {
    diesel::sql_query(format!(
        "INSERT INTO webhook_deliveries (ledger_id, webhook_id, event_type, body) \
         SELECT ledger_id, id, 'ping', $2 FROM webhooks WHERE ledger_id = $3 AND id = $1 \
         RETURNING {DELIVERY_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(webhook)
    .bind::<Jsonb, _>(body)
    .bind::<SqlUuid, _>(ledger_id)
    .get_result(conn)
}

/// A page of the webhook's deliveries, newest first, and how many there are.
pub fn deliveries(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    webhook: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Delivery>, i64)> {
    let rows = diesel::sql_query(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ledger_id = $4 AND webhook_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind::<SqlUuid, _>(webhook)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .bind::<SqlUuid, _>(ledger_id)
    .load(conn)?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total = diesel::sql_query(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE ledger_id = $2 AND webhook_id = $1",
    )
    .bind::<SqlUuid, _>(webhook)
    .bind::<SqlUuid, _>(ledger_id)
    .get_result::<Count>(conn)?
    .n;
    Ok((rows, total))
}

/// Copies the events appended since each active webhook last looked into deliveries (those of
/// its types), and moves it past them. Webhooks another instance is copying are skipped.
pub fn fan_out(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "WITH hooks AS (SELECT id, ledger_id, last_seq, event_types FROM webhooks \
                        WHERE active FOR UPDATE SKIP LOCKED), \
              fresh AS (SELECT h.id AS webhook_id, h.event_types, e.* FROM hooks h \
                        JOIN events e ON e.ledger_id = h.ledger_id AND e.seq > h.last_seq), \
              queued AS (INSERT INTO webhook_deliveries \
                             (ledger_id, webhook_id, event_id, event_type, body) \
                         SELECT ledger_id, webhook_id, id, type, \
                                jsonb_build_object('id', id, 'seq', seq, 'type', type, \
                                                   'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', \
                                                       'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                                                   'ledger_id', ledger_id, 'data', payload) \
                         FROM fresh \
                         WHERE cardinality(event_types) = 0 OR type = ANY(event_types) \
                         ON CONFLICT (ledger_id, webhook_id, event_id) DO NOTHING) \
         UPDATE webhooks w SET last_seq = m.seq \
         FROM (SELECT ledger_id, webhook_id, max(seq) AS seq FROM fresh GROUP BY 1, 2) m \
         WHERE w.ledger_id = m.ledger_id AND w.id = m.webhook_id",
    )
    .execute(conn)
}

/// A delivery an instance has claimed to send.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub body: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries of active webhooks for `lease_seconds` (a crashed
/// instance's claims lapse, and the deliveries are tried again), counting the attempt.
pub fn claim(conn: &mut PgConnection, limit: i64, lease_seconds: i64) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS (SELECT d.ledger_id, d.id FROM webhook_deliveries d \
                      JOIN webhooks w ON w.ledger_id = d.ledger_id AND w.id = d.webhook_id \
                           AND w.active \
                      WHERE d.status = 'pending' AND d.next_attempt_at <= now() \
                        AND (d.locked_until IS NULL OR d.locked_until < now()) \
                      ORDER BY d.next_attempt_at LIMIT $1 \
                      FOR UPDATE OF d SKIP LOCKED) \
         UPDATE webhook_deliveries d \
         SET locked_until = now() + make_interval(secs => $2), attempts = d.attempts + 1, \
             last_attempt_at = now() \
         FROM due, webhooks w \
         WHERE d.ledger_id = due.ledger_id AND d.id = due.id \
           AND w.ledger_id = d.ledger_id AND w.id = d.webhook_id \
         RETURNING d.id, d.webhook_id, w.ledger_id, w.url, w.secret, d.event_type, d.body, \
                   d.attempts, d.created_at",
    )
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(lease_seconds)
    .load(conn)
}

/// When the next due delivery is, if any (the dispatcher sleeps until then).
pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<DateTime<Utc>>,
    }
    diesel::sql_query(
        "SELECT min(GREATEST(next_attempt_at, COALESCE(locked_until, next_attempt_at))) AS at \
         FROM webhook_deliveries WHERE status = 'pending'",
    )
    .get_result::<Due>(conn)
    .map(|d| d.at)
}

/// What an attempt came to.
pub struct Attempt<'a> {
    pub response_status: Option<i32>,
    pub error: Option<&'a str>,
    pub latency_ms: i32,
}

/// Records a delivered attempt; the endpoint is healthy again. One database transaction, so
/// no reader sees the delivery succeeded and the webhook still failing.
pub fn succeeded(conn: &mut PgConnection, claimed: &Claimed, attempt: &Attempt) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::sql_query(
            "UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = now(), \
                 locked_until = NULL, response_status = $2, error = NULL, latency_ms = $3 \
             WHERE ledger_id = $4 AND id = $1",
        )
        .bind::<SqlUuid, _>(claimed.id)
        .bind::<Nullable<Integer>, _>(attempt.response_status)
        .bind::<Integer, _>(attempt.latency_ms)
        .bind::<SqlUuid, _>(claimed.ledger_id)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE webhooks SET failing_since = NULL \
             WHERE ledger_id = $2 AND id = $1 AND failing_since IS NOT NULL",
        )
        .bind::<SqlUuid, _>(claimed.webhook_id)
        .bind::<SqlUuid, _>(claimed.ledger_id)
        .execute(conn)
        .map(drop)
    })
}

/// Records a failed attempt: tried again at `retry_at`, or given up (`None`). Returns since
/// when the endpoint has been failing.
pub fn failed(
    conn: &mut PgConnection,
    claimed: &Claimed,
    attempt: &Attempt,
    retry_at: Option<DateTime<Utc>>,
) -> QueryResult<DateTime<Utc>> {
    diesel::sql_query(
        "UPDATE webhook_deliveries SET \
             status = CASE WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, \
             next_attempt_at = COALESCE($5, next_attempt_at), locked_until = NULL, \
             response_status = $2, error = $3, latency_ms = $4 \
         WHERE ledger_id = $6 AND id = $1",
    )
    .bind::<SqlUuid, _>(claimed.id)
    .bind::<Nullable<Integer>, _>(attempt.response_status)
    .bind::<Nullable<Text>, _>(attempt.error)
    .bind::<Integer, _>(attempt.latency_ms)
    .bind::<Nullable<Timestamptz>, _>(retry_at)
    .bind::<SqlUuid, _>(claimed.ledger_id)
    .execute(conn)?;
    #[derive(QueryableByName)]
    struct Since {
        #[diesel(sql_type = Timestamptz)]
        failing_since: DateTime<Utc>,
    }
    diesel::sql_query(
        "UPDATE webhooks SET failing_since = COALESCE(failing_since, now()) \
         WHERE ledger_id = $2 AND id = $1 RETURNING failing_since",
    )
    .bind::<SqlUuid, _>(claimed.webhook_id)
    .bind::<SqlUuid, _>(claimed.ledger_id)
    .get_result::<Since>(conn)
    .map(|s| s.failing_since)
}

/// An endpoint to turn off: where it is and where it sends.
#[derive(Debug, Clone, QueryableByName)]
pub struct Endpoint {
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
}

/// The active endpoints `user` set up: in `ledger`, or in every shared ledger, or with
/// `personal` in their personal ledger too.
pub fn active_created_by(
    conn: &mut PgConnection,
    user: Uuid,
    ledger: Option<Uuid>,
    personal: bool,
) -> QueryResult<Vec<Endpoint>> {
    diesel::sql_query(
        "SELECT ledger_id, id, url FROM webhooks WHERE created_by = $1 AND active \
           AND ($3 OR ledger_id <> $1) AND ($2::uuid IS NULL OR ledger_id = $2)",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(ledger)
    .bind::<diesel::sql_types::Bool, _>(personal)
    .load(conn)
}

/// Turns an endpoint off (its pending deliveries fail with it). False if it was off already.
pub fn disable(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    webhook: Uuid,
    reason: &str,
) -> QueryResult<bool> {
    let changed = diesel::sql_query(
        "UPDATE webhooks SET active = false, disabled_reason = $2 \
         WHERE ledger_id = $3 AND id = $1 AND active",
    )
    .bind::<SqlUuid, _>(webhook)
    .bind::<Text, _>(reason)
    .bind::<SqlUuid, _>(ledger_id)
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::sql_query(
        "UPDATE webhook_deliveries SET status = 'failed', locked_until = NULL, \
             error = COALESCE(error, '') || ' (endpoint disabled)' \
         WHERE ledger_id = $2 AND webhook_id = $1 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(webhook)
    .bind::<SqlUuid, _>(ledger_id)
    .execute(conn)?;
    Ok(true)
}
