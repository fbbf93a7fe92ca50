//! What changed for a user after a cursor (a change number; see the ledger migration).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct Change {
    /// `wallet`, `category`, `transaction`, `budget`, `bill`, `recurring`, or `deleted:<entity>`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub change_seq: i64,
}

/// The latest change number handed out (to any ledger): no cursor is beyond it.
pub fn latest_change(conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Latest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_value: i64,
    }
    diesel::sql_query("SELECT last_value FROM finai_change_seq")
        .get_result::<Latest>(conn)
        .map(|l| l.last_value)
}

/// Up to `limit` changes after `since`, in change order.
pub fn changes_since(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    since: i64,
    limit: i64,
) -> QueryResult<Vec<Change>> {
    diesel::sql_query(
        "SELECT kind, id, change_seq FROM ( \
             SELECT 'wallet' AS kind, id, change_seq FROM wallets WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'category', id, change_seq FROM categories WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'transaction', id, change_seq FROM transactions WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'budget', id, change_seq FROM budgets WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'bill', id, change_seq FROM bills WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'recurring', id, change_seq FROM recurring_transactions WHERE ledger_id = $1 AND change_seq > $2 \
             UNION ALL \
             SELECT 'deleted:' || entity, entity_id, change_seq FROM tombstones \
             WHERE ledger_id = $1 AND change_seq > $2 \
         ) changes ORDER BY change_seq LIMIT $3",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<BigInt, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
}
