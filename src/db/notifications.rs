//! Queries on `notifications`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: Uuid,
    #[diesel(column_name = type_)]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub priority: String,
}

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

pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    unread_only: bool,
    order: Order,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Notification>, i64)> {
    let query = || {
        let mut query = notifications::table
            .filter(notifications::ledger_id.eq(ledger_id))
            .into_boxed();
        if unread_only {
            query = query.filter(notifications::read_at.is_null());
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let mut rows = query().select(Notification::as_select());
    if order == Order::Priority {
        rows = rows.order(diesel::dsl::sql::<diesel::sql_types::Integer>(
            PRIORITY_RANK,
        ));
    }
    let rows = rows
        .then_order_by((notifications::created_at.desc(), notifications::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

pub fn mark_read(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Notification>> {
    diesel::update(
        notifications::table
            .filter(notifications::ledger_id.eq(ledger_id))
            .filter(notifications::id.eq(id)),
    )
    .set(notifications::read_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("COALESCE(read_at, now())")))
    .returning(Notification::as_returning())
    .get_result(conn)
    .optional()
}

pub fn mark_all_read(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::ledger_id.eq(ledger_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Utc::now()))
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
