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

pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    unread_only: bool,
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
    let rows = query()
        .select(Notification::as_select())
        .order((notifications::created_at.desc(), notifications::id.desc()))
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
