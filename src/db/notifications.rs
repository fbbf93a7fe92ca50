//! Queries on `notifications`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::notifications;

/// A notification as one member sees it: `read_at` is when they read it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Notification {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub notification_type: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Jsonb)]
    pub data: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub read_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub priority: String,
}

/// The columns of [`Notification`] for the member `$2`, from [`FROM`]. What came before the
/// member joined counts as read (from when they joined): a new member of a household does not
/// find its whole history unread.
const COLUMNS: &str = "n.id, n.type AS notification_type, n.title, n.body, n.data, n.created_at, \
     n.priority, COALESCE((SELECT r.read_at FROM notification_reads r \
        WHERE r.ledger_id = n.ledger_id AND r.notification_id = n.id AND r.user_id = $2), \
        CASE WHEN n.created_at < m.joined_at THEN m.joined_at END) AS read_at";

/// The ledger's notifications beside the member `$2`'s membership.
const FROM: &str = "notifications n \
     JOIN ledger_members m ON m.ledger_id = n.ledger_id AND m.user_id = $2";

/// A notification to create once (see [`insert_many_once`]).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub notification_type: &'static str,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub dedupe_key: String,
}

/// Creates each notification unless one with its `dedupe_key` exists, in one statement.
/// Returns how many it created.
pub fn insert_many_once(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    rows: &[NewNotification],
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let values: Vec<_> = rows
        .iter()
        .map(|n| {
            (
                notifications::ledger_id.eq(ledger_id),
                notifications::type_.eq(n.notification_type),
                notifications::title.eq(&n.title),
                notifications::body.eq(&n.body),
                notifications::data.eq(&n.data),
                notifications::dedupe_key.eq(&n.dedupe_key),
            )
        })
        .collect();
    diesel::insert_into(notifications::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(conn)
}

/// Creates the notification unless one with `dedupe_key` exists. Returns whether it did.
pub fn insert_once(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    notification_type: &str,
    title: &str,
    body: &str,
    data: serde_json::Value,
    dedupe_key: &str,
) -> QueryResult<bool> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::ledger_id.eq(ledger_id),
            notifications::type_.eq(notification_type),
            notifications::title.eq(title),
            notifications::body.eq(body),
            notifications::data.eq(data),
            notifications::dedupe_key.eq(dedupe_key),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// The order of a list: newest first, or most urgent first (then newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Newest,
    Priority,
}

/// A priority's rank, most urgent first (the expression the priority index holds).
const PRIORITY_RANK: &str = "array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority)";

/// A page of the ledger's notifications as the member `user_id` sees them, and how many there
/// are (unread by them, with `unread_only`).
pub fn list(
    conn: &mut PgConnection,
    (ledger_id, user_id): (Uuid, Uuid),
    unread_only: bool,
    order: Order,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Notification>, i64)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    // `$3`: unread by the member only.
    let filter = "n.ledger_id = $1 AND (NOT $3 OR (n.created_at >= m.joined_at \
         AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.ledger_id = n.ledger_id \
           AND r.notification_id = n.id AND r.user_id = $2)))";
    let total = diesel::sql_query(format!(
        "SELECT count(*) AS total FROM {FROM} WHERE {filter}"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Bool, _>(unread_only)
    .get_result::<Count>(conn)?
    .total;
    let rank = match order {
        Order::Priority => format!("{PRIORITY_RANK}, "),
        Order::Newest => String::new(),
    };
    let rows = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE {filter} \
         ORDER BY {rank}n.created_at DESC, n.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<Bool, _>(unread_only)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)?;
    Ok((rows, total))
}

/// Marks one notification read for the member; `None` when the ledger has no such one.
pub fn mark_read(
    conn: &mut PgConnection,
    (ledger_id, user_id): (Uuid, Uuid),
    id: Uuid,
) -> QueryResult<Option<Notification>> {
    diesel::sql_query(
        "INSERT INTO notification_reads (ledger_id, notification_id, user_id) \
         SELECT ledger_id, id, $2 FROM notifications WHERE ledger_id = $1 AND id = $3 \
         ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE n.ledger_id = $1 AND n.id = $3"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()
}

/// Marks every notification of the ledger read for the member; returns how many were unread.
pub fn mark_all_read(
    conn: &mut PgConnection,
    (ledger_id, user_id): (Uuid, Uuid),
) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "INSERT INTO notification_reads (ledger_id, notification_id, user_id) \
         SELECT n.ledger_id, n.id, $2 FROM {FROM} \
         WHERE n.ledger_id = $1 AND n.created_at >= m.joined_at \
         ON CONFLICT DO NOTHING"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(user_id)
    .execute(conn)
}

/// Notifies every active account (in its personal ledger) at once; returns how many.
pub fn announce(
    conn: &mut PgConnection,
    title: &str,
    body: &str,
    priority: &str,
    announcement: Uuid,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO notifications (ledger_id, type, title, body, data, dedupe_key, priority) \
         SELECT u.id, 'announcement', $1, $2, jsonb_build_object('announcement_id', $4), \
                'announcement:' || $4, $3 \
         FROM users u WHERE u.status = 'active' \
         ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(title)
    .bind::<diesel::sql_types::Text, _>(body)
    .bind::<diesel::sql_types::Text, _>(priority)
    .bind::<diesel::sql_types::Uuid, _>(announcement)
    .execute(conn)
}
