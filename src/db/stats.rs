//! System-wide figures for the admin dashboard.

use diesel::prelude::*;

use super::users::GroupCount;

/// The tables `GET /admin/stats` counts. Each resource adds its main table here.
const COUNTED_TABLES: &[&str] = &[
    "users",
    "refresh_tokens",
    "audit_log",
    "wallets",
    "categories",
    "transactions",
];

/// Exact row counts of the main tables, in one round trip.
pub fn table_counts(conn: &mut PgConnection) -> QueryResult<Vec<GroupCount>> {
    let sql = COUNTED_TABLES
        .iter()
        .map(|table| format!("SELECT '{table}'::text AS key, count(*) AS count FROM {table}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    diesel::sql_query(sql).load(conn)
}
