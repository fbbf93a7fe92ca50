//! The event log (`events`): appended in the writing transaction, read by owner and sequence.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::prepared::Prepared;

#[derive(Debug, Clone, QueryableByName)]
pub struct Event {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resource_id: Option<Uuid>,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
}

/// Appends an event; its number is taken under the owner's write lock (see the migration).
pub fn append(
    conn: &mut PgConnection,
    owner: Uuid,
    event_type: &str,
    resource_id: Option<Uuid>,
    payload: &serde_json::Value,
) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "INSERT INTO events (ledger_id, type, resource_id, payload) VALUES ($1, $2, $3, $4)",
        )
        .bind::<SqlUuid, _>(owner)
        .bind::<Text, _>(event_type)
        .bind::<Nullable<SqlUuid>, _>(resource_id)
        .bind::<Jsonb, _>(payload),
    )
    .execute(conn)
    .map(drop)
}

/// The owner's events after `after`, oldest first, at most `limit`.
pub fn since(
    conn: &mut PgConnection,
    owner: Uuid,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    Prepared(
        diesel::sql_query(
            "SELECT id, seq, type AS event_type, resource_id, payload, occurred_at FROM events \
             WHERE ledger_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind::<SqlUuid, _>(owner)
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(limit),
    )
    .load(conn)
}

/// Deletes events older than `before` (the log keeps a window; a reader older than it syncs
/// afresh).
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM events WHERE occurred_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
}
