//! Tombstones: what was deleted, so a syncing client learns of it.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::tombstones;

pub fn record(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    entity: &str,
    entity_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(tombstones::table)
        .values((
            tombstones::ledger_id.eq(ledger_id),
            tombstones::entity.eq(entity),
            tombstones::entity_id.eq(entity_id),
        ))
        .execute(conn)
        .map(|_| ())
}
