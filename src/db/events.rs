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

/// The ledger's events after `after` as `member` may read them: none, and `None`, once
/// `member` is no longer a member (checked in the same statement, so a removed member is never
/// sent an event committed after the removal).
pub fn since_for_member(
    conn: &mut PgConnection,
    ledger: Uuid,
    member: Uuid,
    after: i64,
    limit: i64,
) -> QueryResult<Option<Vec<Event>>> {
    #[derive(QueryableByName)]
    struct Member {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        is_member: bool,
    }
    let rows: Vec<Event> = Prepared(
        diesel::sql_query(
            "SELECT e.id, e.seq, e.type AS event_type, e.resource_id, e.payload, e.occurred_at \
             FROM events e \
             WHERE e.ledger_id = $1 AND e.seq > $2 \
               AND EXISTS (SELECT 1 FROM ledger_members m \
                           WHERE m.ledger_id = $1 AND m.user_id = $3) \
             ORDER BY e.seq LIMIT $4",
        )
        .bind::<SqlUuid, _>(ledger)
        .bind::<BigInt, _>(after)
        .bind::<SqlUuid, _>(member)
        .bind::<BigInt, _>(limit),
    )
    .load(conn)?;
    if !rows.is_empty() {
        return Ok(Some(rows));
    }
    let member: Member = Prepared(
        diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM ledger_members WHERE ledger_id = $1 AND user_id = $2) \
             AS is_member",
        )
        .bind::<SqlUuid, _>(ledger)
        .bind::<SqlUuid, _>(member),
    )
    .get_result(conn)?;
    Ok(member.is_member.then_some(rows))
}

/// Where a ledger's log stands: the number of its newest event (`head`, the cursor of a reader
/// that has seen everything) and the newest number pruned from it (`horizon`: a cursor below
/// it has missed events).
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Position {
    #[diesel(sql_type = BigInt)]
    pub head: i64,
    #[diesel(sql_type = BigInt)]
    pub horizon: i64,
}

pub fn position(conn: &mut PgConnection, ledger: Uuid) -> QueryResult<Position> {
    Prepared(
        diesel::sql_query(
            "SELECT GREATEST(COALESCE((SELECT max(seq) FROM events WHERE ledger_id = $1), 0), \
                             h.pruned_through) AS head, \
                    h.pruned_through AS horizon \
             FROM (SELECT COALESCE((SELECT pruned_through FROM event_horizons \
                                    WHERE ledger_id = $1), 0) AS pruned_through) h",
        )
        .bind::<SqlUuid, _>(ledger),
    )
    .get_result(conn)
}

/// Deletes events older than `before` (the log keeps a window) and remembers, per ledger, the
/// newest number deleted: a reader whose cursor is older has to sync afresh.
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let pruned: Pruned = diesel::sql_query(
        "WITH gone AS (DELETE FROM events WHERE occurred_at < $1 RETURNING ledger_id, seq), \
              lines AS (SELECT ledger_id, max(seq) AS seq, count(*) AS n FROM gone GROUP BY 1), \
              kept AS (INSERT INTO event_horizons (ledger_id, pruned_through) \
                       SELECT ledger_id, seq FROM lines \
                       ON CONFLICT (ledger_id) DO UPDATE \
                       SET pruned_through = GREATEST(event_horizons.pruned_through, \
                                                     EXCLUDED.pruned_through)) \
         SELECT COALESCE(sum(n), 0)::bigint AS n FROM lines",
    )
    .bind::<Timestamptz, _>(before)
    .get_result(conn)?;
    Ok(pruned.n as usize)
}

/// A ticket that opens one stream of one ledger: what the access token that asked for it
/// allowed.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Ticket {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub token_issued_at: i64,
    #[diesel(sql_type = BigInt)]
    pub token_expires_at: i64,
    /// The personal access token that asked for it, if one did.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub personal_token_id: Option<Uuid>,
    /// The login session of the access token that asked for it, if one did.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub session_id: Option<Uuid>,
}

pub fn insert_ticket(
    conn: &mut PgConnection,
    token_hash: &str,
    ticket: &Ticket,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO event_tickets (token_hash, user_id, ledger_id, token_issued_at, \
                                    token_expires_at, expires_at, personal_token_id, session_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind::<Text, _>(token_hash)
    .bind::<SqlUuid, _>(ticket.user_id)
    .bind::<SqlUuid, _>(ticket.ledger_id)
    .bind::<BigInt, _>(ticket.token_issued_at)
    .bind::<BigInt, _>(ticket.token_expires_at)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<Nullable<SqlUuid>, _>(ticket.personal_token_id)
    .bind::<Nullable<SqlUuid>, _>(ticket.session_id)
    .execute(conn)
    .map(drop)
}

/// Spends a live ticket (one statement, so it opens one stream even when shown twice at once).
pub fn redeem_ticket(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<Ticket>> {
    diesel::sql_query(
        "DELETE FROM event_tickets WHERE token_hash = $1 AND expires_at > now() \
         RETURNING user_id, ledger_id, token_issued_at, token_expires_at, personal_token_id, \
                   session_id",
    )
    .bind::<Text, _>(token_hash)
    .get_result(conn)
    .optional()
}

/// Deletes tickets that were never used.
pub fn prune_tickets(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM event_tickets WHERE expires_at <= now()").execute(conn)
}

/// How long an instance's claim to be listening to a ledger lasts unless refreshed.
pub const LISTENING_SECONDS: i64 = 120;

/// Records that `instance` has a stream of `ledger` open, under the ledger's write lock: a
/// write that committed before is in the log (read after this), and one that commits after
/// sees the record and announces itself.
pub fn listen(conn: &mut PgConnection, ledger: Uuid, instance: Uuid) -> QueryResult<()> {
    conn.transaction(|conn| {
        super::lock_ledger(conn, ledger)?;
        diesel::sql_query(
            "INSERT INTO event_listeners (ledger_id, instance_id, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (ledger_id, instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at",
        )
        .bind::<SqlUuid, _>(ledger)
        .bind::<SqlUuid, _>(instance)
        .bind::<BigInt, _>(LISTENING_SECONDS)
        .execute(conn)
        .map(drop)
    })
}

/// `instance` has no stream of `ledger` open any more.
pub fn unlisten(conn: &mut PgConnection, ledger: Uuid, instance: Uuid) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM event_listeners WHERE ledger_id = $1 AND instance_id = $2")
        .bind::<SqlUuid, _>(ledger)
        .bind::<SqlUuid, _>(instance)
        .execute(conn)
        .map(drop)
}

/// Forgets the claims of instances that stopped refreshing them.
pub fn prune_listeners(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM event_listeners WHERE expires_at < now()").execute(conn)
}
