//! The rows a new or changed transaction points at, read in one statement.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::prepared::Prepared;

/// A wallet (`detail`: its currency) or a category (`detail`: its kind) of the owner.
#[derive(Debug, Clone, QueryableByName)]
pub struct Reference {
    #[diesel(sql_type = Bool)]
    pub is_wallet: bool,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub detail: String,
    #[diesel(sql_type = Bool)]
    pub archived: bool,
}

/// The owner's wallets and categories among the ids given; others' rows are not found.
pub fn references(
    conn: &mut PgConnection,
    owner: Uuid,
    wallets: &[Uuid],
    categories: &[Uuid],
) -> QueryResult<Vec<Reference>> {
    Prepared(
        diesel::sql_query(
            "SELECT true AS is_wallet, id, name, currency AS detail, archived FROM wallets \
             WHERE ledger_id = $1 AND id = ANY($2) \
             UNION ALL \
             SELECT false, id, name, kind, false FROM categories \
             WHERE ledger_id = $1 AND id = ANY($3)",
        )
        .bind::<SqlUuid, _>(owner)
        .bind::<Array<SqlUuid>, _>(wallets)
        .bind::<Array<SqlUuid>, _>(categories),
    )
    .load(conn)
}
